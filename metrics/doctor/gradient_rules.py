"""Rules on the gradients and their clipping: a spike (with clipping acting or not), the swing
between clipped and unclipped rows, and clipping that sets every step.  One function per rule."""

from __future__ import annotations

import statistics
from collections.abc import Sequence

from config import DoctorConfig
from metrics.doctor.advice import Advisor
from metrics.doctor.history import Condition, History, Row
from metrics.doctor.values import fmt, rows_text


def clipping_state(h: History, advisor: Advisor, current: Row) -> str:
    """ "off" (max_grad_norm 0), "idle" (never engaged in the window) or "on"."""
    if advisor.number("learner.max_grad_norm") == 0:
        return "off"
    rows = [*h.recent(h.cfg.baseline_rows), current]
    return "idle" if all(map(unclipped, rows)) else "on"


def gradient_spike(h: History, advisor: Advisor, current: Row) -> dict[str, Condition]:
    """A spike of the gradient norm: clip_inactive when clipping did not act, else
    grad_instability."""
    factor = h.cfg.grad_spike_factor
    rise = h.ratio_rise(current, lambda r: r.grad_peak, factor)
    if not rise:
        return {}
    peak, base, onset = rise
    state = clipping_state(h, advisor, current)
    how = {
        "off": "with clipping off (max_grad_norm 0)",
        "idle": "and clipping never engaged (ClipΔ 1.0, no step clipped)",
        "on": f"(ClipΔ {fmt(current.get('clip_delta'))})",
    }[state]
    message = (
        f"gradient norm spiked to {fmt(peak)}, {fmt(peak / base)}x its median of "
        f"{fmt(base)} over the previous {h.cfg.baseline_rows} rows, {how}"
    )
    evidence = {
        "grad_norm_max": peak,
        "grad_baseline": base,
        "ratio": peak / base,
        "clip_delta": current.get("clip_delta"),
        "clip_frac": current.get("clip_frac"),
    }
    if state == "on":
        remedies = (advisor.smoother_gradients(), advisor.lower_lr(current.get("lr")))
        return {"grad_instability": Condition(onset, message, evidence, remedies)}
    clip = advisor.enable_clipping() if state == "off" else advisor.tighten_clipping(base)
    message += ": nothing stops the next one (seed 004: a loss explosion followed)"
    remedies = (clip or advisor.enable_clipping(), advisor.lower_lr(current.get("lr")))
    return {"clip_inactive": Condition(onset, message, evidence, remedies)}


def grad_swing(h: History, advisor: Advisor, current: Row) -> Condition | None:
    """Seed 003's pattern: rows clipped hard, then not at all, then hard again."""
    cfg = h.cfg
    window = [
        r
        for r in [*h.recent(cfg.grad_swing_rows - 1), current]
        if r.get("clip_delta") is not None and r.get("grad_norm")
    ]
    if len(window) < 3:
        return None
    deltas = [r.get("clip_delta") or 0.0 for r in window]
    hard = [d <= max(deltas) - cfg.clip_swing for d in deltas]
    first = hard.index(True) if True in hard else None
    if first is None or not alternates(hard[first:]):
        return None
    swing = window[first:]
    norms = [r.get("grad_norm") or 0.0 for r in swing]
    deltas = deltas[first:]
    if max(norms) < cfg.grad_swing_ratio * min(norms):
        return None
    message = (
        f"gradient norm swings {fmt(min(norms))} to {fmt(max(norms))} and ClipΔ "
        f"{fmt(min(deltas))} to {fmt(max(deltas))} within {rows_text(len(swing))}: some rows "
        "clipped hard, others not at all (seed 003: GradNorm 4.764 to 8.787, ClipΔ 0.569 to "
        "1.000)"
    )
    evidence = {
        "grad_norm_min": min(norms),
        "grad_norm_max": max(norms),
        "clip_delta_min": min(deltas),
        "clip_delta_max": max(deltas),
        "rows": len(swing),
    }
    remedies = (advisor.smoother_gradients(), advisor.lower_lr(current.get("lr")))
    return Condition(swing[0], message, evidence, remedies)


def saturated(cfg: DoctorConfig, row: Row) -> bool:
    """Nearly every step of the row clipped, hard."""
    frac, delta = row.get("clip_frac"), row.get("clip_delta")
    return (
        frac is not None
        and delta is not None
        and frac >= cfg.clip_saturated_frac
        and delta <= cfg.clip_saturated_delta
    )


def clip_saturated(h: History, advisor: Advisor, current: Row) -> Condition | None:
    """Every step clipped hard for `clip_saturated_rows` rows: clipping sets the steps."""
    if not saturated(h.cfg, current):
        return None
    onset = h.onset(current, lambda r: saturated(h.cfg, r))
    rows = current.index - onset.index + 1
    if rows < h.cfg.clip_saturated_rows:
        return None
    run = [r for r in h.rows if r.index >= onset.index] + [current]
    delta = statistics.fmean(r.get("clip_delta") or 0.0 for r in run)
    clip = advisor.number("learner.max_grad_norm")
    limit = f" --learner.max-grad-norm {fmt(clip)}" if clip else ""
    message = (
        f"every step clipped for {rows} rows (clip_frac ≥ {fmt(h.cfg.clip_saturated_frac)}"
        f", mean ClipΔ {fmt(delta)}): gradients run {fmt(1 / max(delta, 1e-12))}x the clip"
        f"{limit}, so clipping, not the learning rate, sets every step"
    )
    evidence = {
        "rows": rows,
        "clip_delta_mean": delta,
        "clip_frac": current.get("clip_frac"),
        "grad_norm": current.get("grad_norm"),
        "max_grad_norm": clip,
    }
    remedies = (
        advisor.lower_lr(current.get("lr")),
        advisor.normalize_rewards(),
        advisor.raise_clipping(),
    )
    return Condition(onset, message, evidence, remedies)


def alternates(flags: Sequence[bool]) -> bool:
    """True when `flags` (starting True) goes True → False → True."""
    seen_false = False
    for flag in flags[1:]:
        if not flag:
            seen_false = True
        elif seen_false:
            return True
    return False


def unclipped(row: Row) -> bool:
    """No step of the row was clipped (ClipΔ 1.0 and clip_frac 0, or unknown)."""
    delta = row.get("clip_delta")
    return (delta is None or delta >= 0.999) and not row.get("clip_frac")
