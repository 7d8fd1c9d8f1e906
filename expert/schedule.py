"""The expert curriculum's share of actions, as a pure function of the frame count.

A pure function (not a counter nudged every call) so that it is exact after a resume and runs
at the configured speed whatever the loop's cadence.  The floor is enforced in every mode.
"""

from __future__ import annotations

from config import ExpertConfig


def expert_ratio_at(frame: int, cfg: ExpertConfig) -> float:
    """The scheduled share of expert actions at `frame` (0 when the expert is disabled)."""
    if not cfg.enabled:
        return 0.0
    frame = max(frame, 0)
    if cfg.anneal == "linear":
        if cfg.anneal_frames <= 0 or frame >= cfg.anneal_frames:
            return cfg.ratio_floor
        share = frame / cfg.anneal_frames
        return cfg.ratio_start + (cfg.ratio_floor - cfg.ratio_start) * share
    steps = frame // max(cfg.interval_frames, 1)
    return max(cfg.ratio_floor, cfg.ratio_start * cfg.decay_per_interval ** steps)
