"""Rules on the values the network learns: Q divergence and collapse, the loss explosion,
non-finite steps, and the learning rate behind a blow-up.  One function per rule: the history,
the advisor and the current row in, a `Condition` (or None) out."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from metrics.doctor.advice import Advisor
from metrics.doctor.history import ROW_VALUES, Condition, History, Row
from metrics.doctor.values import fmt, number, rows_text

BLOWUP = {"q_divergence": "Q divergence", "loss_explosion": "the loss explosion",
          "nonfinite": "non-finite learner steps"}  # fmt: skip
"""How `lr_too_high` names the blow-up it explains."""


def q_divergence(h: History, advisor: Advisor, current: Row) -> Condition | None:
    """Q running away: |Q| at `q_divergence_factor` x its baseline (and above a floor), or
    above the largest discounted return the rewards allow (seed 003)."""
    cfg = h.cfg
    rise = h.ratio_rise(current, lambda r: r.q_abs, cfg.q_divergence_factor)
    bound = advisor.q_bound()
    floor = max(cfg.q_divergence_floor,
                cfg.q_divergence_bound_share * bound[0] if bound else 0.0)
    if rise and rise[0] < floor:
        rise = None
    above = bound is not None and (current.q_abs or 0.0) > bound[0]
    if not rise and not above:
        return None
    q_min, q_max = current.get("q_min"), current.get("q_max")
    side = "max" if abs(q_max or 0.0) >= abs(q_min or 0.0) else "min"
    value = q_max if side == "max" else q_min
    evidence: dict[str, Any] = {"q_min": q_min, "q_max": q_max}
    parts = []
    onsets = []
    if rise:
        _, base, onset = rise
        rows = current.index - onset.index + 1
        sign = 1 if side == "max" else -1
        parts.append(
            f"Q {side} {'rose' if side == 'max' else 'fell'} {fmt(sign * base)} → "
            f"{fmt(value)} in {rows_text(rows)} ({fmt((current.q_abs or 0) / base)}x the median "
            f"|Q| of the previous {cfg.baseline_rows} rows)"
        )
        evidence.update(q_abs_baseline=base, ratio=(current.q_abs or 0) / base, rows=rows)
        onsets.append(onset)
    if above and bound:
        limit, reward, gamma = bound
        parts.append(
            f"|Q| {fmt(current.q_abs)} is above {fmt(limit)}, the largest discounted return "
            f"the rewards allow ({fmt(reward)} per step / (1 - gamma {fmt(gamma)}))"
        )
        evidence["q_bound"] = limit
        onsets.append(h.onset(current, lambda r: (r.q_abs or 0.0) > limit))
    message = "; ".join(parts) + (
        f"; Q range now [{fmt(q_min)}, {fmt(q_max)}]: the Bellman updates feed on their own "
        "overestimates (seed 003)"
    )
    level = rise[1] if rise else None
    remedies = (
        advisor.lower_lr(current.get("lr")),
        advisor.lower_tau(),
        advisor.shorter_n_step(),
        advisor.smoother_gradients(),
        advisor.clamp_targets(level),
        advisor.fresh("seed 003's Q collapsed after diverging"),
    )
    return Condition(min(onsets, key=lambda r: r.index), message, evidence, remedies)


def q_collapse(h: History, advisor: Advisor, current: Row) -> Condition | None:
    """The Q range shrunk to 1/`q_collapse_factor` of its baseline: every action valued alike."""
    factor = h.cfg.q_collapse_factor
    spread, base = current.q_range, h.baseline(lambda r: r.q_range)
    if spread is None or not base or base <= 0 or spread > base / factor:
        return None
    early = base / math.sqrt(factor)
    onset = h.onset(current, lambda r: r.q_range is not None and r.q_range <= early)
    rows = current.index - onset.index + 1
    message = (
        f"Q range collapsed from {fmt(base)} (median of the previous {h.cfg.baseline_rows} "
        f"rows) to {fmt(spread)} ([{fmt(current.get('q_min'))}, "
        f"{fmt(current.get('q_max'))}]) in {rows_text(rows)}, 1/{fmt(base / max(spread, 1e-12))} "
        "of it: the network values every action alike (seed 003 after its divergence; seed "
        "001's value network predicting the mean)"
    )
    evidence = {
        "q_range": spread,
        "q_range_baseline": base,
        "q_min": current.get("q_min"),
        "q_max": current.get("q_max"),
        "rows": rows,
    }
    remedies = (
        advisor.lower_lr(current.get("lr")),
        advisor.lower_tau(),
        advisor.normalize_rewards(),
        advisor.fresh("seed 003's weights did not come back from the collapse on their own"),
    )
    return Condition(onset, message, evidence, remedies)


def loss_explosion(h: History, advisor: Advisor, current: Row) -> Condition | None:
    """The loss at `loss_explosion_factor` x its baseline (seeds 000 and 004)."""
    rise = h.ratio_rise(current, lambda r: r.get("loss"), h.cfg.loss_explosion_factor)
    if not rise:
        return None
    loss, base, onset = rise
    rows = current.index - onset.index + 1
    message = (
        f"loss rose {fmt(base)} → {fmt(loss)} in {rows_text(rows)} ({fmt(loss / base)}x its "
        f"median over the previous {h.cfg.baseline_rows} rows; seed 004: 0.126 → 5,194, "
        "seed 000: 36k → 200k)"
    )
    evidence = {"loss": loss, "loss_baseline": base, "ratio": loss / base, "rows": rows}
    remedies = (
        advisor.enable_clipping(),
        advisor.lower_lr(current.get("lr")),
        advisor.normalize_rewards(),
        advisor.huber(),
        advisor.clamp_targets(None),
        advisor.fresh("seed 004: the weights an explosion leaves behind are corrupted"),
    )
    return Condition(onset, message, evidence, remedies)


def nonfinite(h: History, advisor: Advisor, current: Row, row: Mapping[str, Any],
              skipped: int) -> Condition | None:
    """Learner steps skipped as non-finite since the last row, or non-finite values in it."""
    bad = [
        k
        for k in ROW_VALUES
        if (v := number(row.get(k))) is not None and not math.isfinite(v)
    ]
    if not skipped and not bad:
        return None
    parts = []
    if skipped:
        parts.append(
            f"{skipped} learner steps skipped in this row because the loss or the "
            f"gradients were not finite (total {row.get('nonfinite_steps'):,})"
        )
    if bad:
        parts.append("non-finite " + ", ".join(bad) + " in the row")
    evidence = {
        "skipped_steps": skipped,
        "nonfinite_steps": row.get("nonfinite_steps"),
        "learner_steps": row.get("learner_steps"),
    }
    remedies = (
        advisor.enable_clipping(),
        advisor.lower_lr(current.get("lr")),
        advisor.clamp_targets(None),
        advisor.fresh("weights that produced NaN once tend to again"),
    )
    return Condition(current, "; ".join(parts), evidence, remedies)


def lr_too_high(h: History, advisor: Advisor, current: Row,
                conditions: Mapping[str, Condition | None]) -> Condition | None:
    """When the evidence points at the learning rate: a blow-up soon after it was raised, a
    blow-up at a rate above `lr_high`, or saturated clipping with a loss that keeps rising."""
    lr = current.get("lr")
    for code in ("q_divergence", "loss_explosion", "nonfinite"):
        blowup = conditions.get(code)
        if blowup is None:
            continue
        what = BLOWUP[code]
        if h.lr_raise:
            raised, before = h.lr_raise
            if 0 <= blowup.onset.index - raised.index <= h.cfg.lr_raise_window_rows:
                message = (
                    f"{what} began {blowup.onset.index - raised.index} rows after the learning "
                    f"rate was raised {fmt(before)} → {fmt(raised.get('lr'))} at frame "
                    f"{raised.frame:,}"
                )
                evidence = {
                    "lr": raised.get("lr"),
                    "lr_before": before,
                    "rows_after_raise": blowup.onset.index - raised.index,
                }
                remedy = advisor.revert_lr(before, raised.get("lr") or 0.0, raised.frame)
                return Condition(raised, message, evidence, (remedy,))
        if lr is not None and lr > h.cfg.lr_high:
            message = (
                f"{what} at a learning rate of {fmt(lr)}, above {fmt(h.cfg.lr_high)}: "
                'seed 003 diverged at 0.003 and settled at 0.001 ("sometimes slower is faster")'
            )
            evidence = {"lr": lr, "lr_high": h.cfg.lr_high}
            return Condition(blowup.onset, message, evidence, (advisor.lower_lr(lr),))
    return lr_saturated(h, advisor, current, conditions.get("clip_saturated"))


def lr_saturated(h: History, advisor: Advisor, current: Row,
                 saturated: Condition | None) -> Condition | None:
    """Saturated clipping with a loss that still rose `lr_loss_rise_factor`x: lower the rate."""
    loss_now = current.get("loss")
    loss_then = saturated.onset.get("loss") if saturated else None
    factor = h.cfg.lr_loss_rise_factor
    if saturated is None or loss_now is None or not loss_then or loss_now < factor * loss_then:
        return None
    message = (
        f"every step is clipped and the loss still rose {fmt(loss_then)} → {fmt(loss_now)} "
        f"({fmt(loss_now / loss_then)}x) since frame {saturated.onset.frame:,}: steps as "
        "large as clipping allows make things worse"
    )
    evidence = {"loss_then": loss_then, "loss_now": loss_now, "lr": current.get("lr")}
    return Condition(
        saturated.onset, message, evidence, (advisor.lower_lr(current.get("lr")),)
    )
