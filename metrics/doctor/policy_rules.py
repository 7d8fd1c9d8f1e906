"""Rules on how the network plays: agreement with the expert collapsing, and DQN5M turning
from rising to falling while the loss falls.  One function per rule."""

from __future__ import annotations

import itertools

from metrics.doctor.advice import Advisor
from metrics.doctor.history import Condition, History, Row
from metrics.doctor.values import fmt, median, pct, rows_text, signed


def agreement_collapse(h: History, advisor: Advisor, current: Row) -> Condition | None:
    """Agreement with the expert fell below a fraction of its recent peak (seed 004), not
    counting the rows after a planned fade of the imitation term."""
    cfg = h.cfg
    agreement = current.get("agreement")
    fade, settle = h.imitation_fade, cfg.agreement_fade_rows
    if fade is not None and current.index - fade.index < settle:
        return None  # the network is meant to leave the expert as the term fades
    window = [
        r for r in h.recent(cfg.agreement_window_rows - 1)
        if r.get("agreement") is not None and (fade is None or r.index - fade.index >= settle)
    ]
    if agreement is None or not window:
        return None
    peak = max(window, key=lambda r: r.get("agreement") or 0.0)
    top = peak.get("agreement") or 0.0
    limit = cfg.agreement_collapse_fraction * top
    if top < cfg.agreement_peak_min or agreement > limit:
        return None
    onset = h.onset(current, lambda r: (r.get("agreement") or 0.0) <= limit)
    message = (
        f"agreement with the expert fell {pct(top)} → {pct(agreement)} (peak at frame "
        f"{peak.frame:,}; below {pct(cfg.agreement_collapse_fraction)} of it since frame "
        f"{onset.frame:,}); seed 004 went 90% → 50% → 31% → 10% before its loss exploded"
    )
    before, after = peak.greedy_top_action, current.greedy_top_action
    if before is not None and after is not None and before != after:
        message += f"; the greedy action switched from {before} to {after}"
    evidence = {
        "agreement": agreement,
        "agreement_peak": top,
        "peak_frame": peak.frame,
        "greedy_top_action_before": before,
        "greedy_top_action": after,
    }
    remedies = (
        advisor.enable_clipping(),
        advisor.raise_floor(),
        advisor.lower_lr(current.get("lr")),
        advisor.fresh("seed 004 restarted fresh once its policy had collapsed"),
    )
    return Condition(onset, message, evidence, remedies)


def performance_reversal(h: History, advisor: Advisor, current: Row) -> Condition | None:
    """DQN5M turned from rising to falling while the loss fell: the network fits its targets
    better and plays worse (seed 003)."""
    cfg = h.cfg
    slope = current.get("dqn5m_slope")
    if slope is None or slope >= 0 or current.get("dqn_return_5m") is None:
        return None
    if current.frame < cfg.reversal_min_frames:
        return None
    negative = itertools.takewhile(
        lambda r: (r.get("dqn5m_slope") or 0.0) < 0, reversed(h.slopes)
    )
    falling = 1 + sum(1 for _ in negative)
    if falling < cfg.reversal_rows:
        return None
    points = [*h.slopes, current]
    scale = max(abs(r.get("dqn_return_5m") or 0.0) for r in points)
    if scale <= 0 or 100 * slope / scale > -cfg.reversal_fall_pct:
        return None
    before, onset = points[:-falling], points[-falling]
    if len(before) < cfg.min_baseline_rows:
        return None
    rising = median(r.get("dqn5m_slope") for r in before) or 0.0
    if 100 * rising / scale < cfg.reversal_rise_pct:
        return None
    loss_then = median(r.get("loss") for r in before)
    loss_now = median(r.get("loss") for r in points[-3:])
    if loss_then is None or loss_now is None or loss_now >= loss_then:
        return None
    message = (
        f"DQN5M slope turned from {signed(rising)}/M ({signed(100 * rising / scale)}% of "
        f"DQN5M {fmt(scale)} per M; median of the {rows_text(len(before))} since frame "
        f"{before[0].frame:,}) to {signed(slope)}/M ({signed(100 * slope / scale)}%/M), "
        f"negative for {rows_text(falling)}, while the loss fell {fmt(loss_then)} → "
        f"{fmt(loss_now)}: the network fits its targets better and plays worse (seed 003)"
    )
    evidence = {
        "slope": slope,
        "slope_before": rising,
        "dqn_return_5m_scale": scale,
        "slope_pct": 100 * slope / scale,
        "slope_before_pct": 100 * rising / scale,
        "loss_then": loss_then,
        "loss_now": loss_now,
        "rows": falling,
    }
    remedies = (
        advisor.lower_lr(current.get("lr")),
        advisor.lower_tau(),
        advisor.shorter_n_step(),
        advisor.smoother_gradients(),
        advisor.raise_floor(),
    )
    return Condition(onset, message, evidence, remedies)
