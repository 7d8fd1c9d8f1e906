"""Every rule at one row, in the order their findings are reported (`findings.CODES`).

A rule is a function of the history, the advisor and the current row; two codes come from one
measurement (a gradient spike is `clip_inactive` when clipping did not act, `grad_instability`
when it did), and `lr_too_high` reads the others' conditions: a blow-up soon after a raise of the
learning rate, or at a rate above `lr_high`, or saturated clipping with a rising loss.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from metrics.doctor.advice import Advisor
from metrics.doctor.gradient_rules import clip_saturated, grad_swing, gradient_spike
from metrics.doctor.history import Condition, History, Row
from metrics.doctor.policy_rules import agreement_collapse, performance_reversal
from metrics.doctor.value_rules import (
    loss_explosion,
    lr_too_high,
    nonfinite,
    q_collapse,
    q_divergence,
)


def conditions(h: History, advisor: Advisor, current: Row, row: Mapping[str, Any],
               skipped: int) -> dict[str, Condition | None]:
    """code -> the condition present at `current` (None where absent); `row` is the raw
    metrics row (for its non-finite values), `skipped` the non-finite steps since the last."""
    spike = gradient_spike(h, advisor, current)
    found: dict[str, Condition | None] = {
        "q_divergence": q_divergence(h, advisor, current),
        "q_collapse": q_collapse(h, advisor, current),
        "loss_explosion": loss_explosion(h, advisor, current),
        "performance_reversal": performance_reversal(h, advisor, current),
        "grad_instability": grad_swing(h, advisor, current) or spike.get("grad_instability"),
        "clip_saturated": clip_saturated(h, advisor, current),
        "clip_inactive": spike.get("clip_inactive"),
        "agreement_collapse": agreement_collapse(h, advisor, current),
        "nonfinite": nonfinite(h, advisor, current, row, skipped),
    }
    found["lr_too_high"] = lr_too_high(h, advisor, current, found)
    return found
