"""A healthy run's metrics rows with realistic noise, for the doctor's tests to splice symptoms
into (`doctor_traces` builds one trace per seed post-mortem on them).  Every row is a complete
DESIGN.md §5 row (`metrics.schema.validate_row` accepts it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

STEPS_PER_GRAD_SAMPLE = 10
"""Learner steps simulated per row for the gradient columns (the real run made ~11 per row)."""


@dataclass(frozen=True)
class Levels:
    """The healthy baseline's scale and trends (defaults: the shape of the real 20M Tempest run)."""

    rows: int = 300
    start_frame: int = 2_000_000
    frames_per_row: int = 12_000  # the real run: ~11k frames per 2 s row
    start_steps: int = 2_000
    steps_per_row: int = 11
    loss: float = 0.004
    loss_end: float = 0.002  # a healthy loss drifts down
    loss_jitter: float = 0.3  # ±30% row to row
    q_min: float = -9.0
    q_max: float = 10.0
    q_growth: float = 0.3  # Q grows by 30% over the trace
    q_noise: float = 0.03
    grad: float = 0.02
    grad_sigma: float = 0.35  # per learner step, lognormal
    grad_drift: float = 0.5  # the median gradient norm halves over the trace
    max_grad_norm: float = 10.0  # 0 = clipping off
    agreement: float = 0.25  # drifts within [0.18, 0.32]
    agreement_low: float = 0.18
    agreement_high: float = 0.32
    dqn: float = 3_000.0
    dqn_slope_pct: float = 3.0  # DQN5M slope in % of its level per million frames
    lr: float = 3e-4
    greedy_action: int = 22
    expert_ratio: float = 0.05
    seed: int = 0


@dataclass
class Trace:
    """Rows plus what the doctor must find: {code: onset row index}, each detected within 3 rows
    of its onset unless `late` names a later row (a rule that must wait for more evidence)."""

    name: str
    rows: list[dict[str, Any]]
    expected: dict[str, int]
    settings: dict[str, Any] = field(default_factory=dict)
    late: dict[str, int] = field(default_factory=dict)

    def onset_frame(self, code: str) -> int:
        return int(self.rows[self.expected[code]]["frame"])

    def detected_by(self, code: str) -> int:
        """The last row at which the finding may be made."""
        return self.late.get(code, self.expected[code] + 3)


def gradients(rng: np.random.Generator, level: float, sigma: float, clip: float) -> dict:
    """One row's gradient columns from simulated learner steps (so they agree with each other)."""
    norms = level * np.exp(rng.normal(0.0, sigma, STEPS_PER_GRAD_SAMPLE))
    scale = np.minimum(1.0, clip / norms) if clip > 0 else np.ones_like(norms)
    return {
        "grad_norm": float(norms.mean()),
        "grad_norm_max": float(norms.max()),
        "clip_delta": float(scale.mean()),
        "clip_frac": float((scale < 1.0).mean()),
    }


def healthy_rows(levels: Levels | None = None, **changes: Any) -> list[dict[str, Any]]:
    """A healthy run after learning started: loss jitter ±30%, lognormal gradient norms, Q rising
    slowly, agreement drifting at 0.2-0.3, DQN5M rising, with a seeded numpy RNG."""
    lv = replace(levels or Levels(), **changes)
    rng = np.random.default_rng(lv.seed)
    agreement = lv.agreement
    rows = []
    for i in range(lv.rows):
        progress = i / max(lv.rows - 1, 1)
        frame = lv.start_frame + i * lv.frames_per_row
        growth = 1 + lv.q_growth * progress
        q_min = lv.q_min * growth * (1 + rng.normal(0, lv.q_noise))
        q_max = lv.q_max * growth * (1 + rng.normal(0, lv.q_noise))
        loss = lv.loss * (lv.loss_end / lv.loss) ** progress
        agreement = float(
            np.clip(agreement + rng.normal(0, 0.01), lv.agreement_low, lv.agreement_high)
        )
        millions = (frame - lv.start_frame) / 1e6
        dqn = lv.dqn * (1 + lv.dqn_slope_pct / 100 * millions)
        slope = lv.dqn * lv.dqn_slope_pct / 100 * (1 + rng.normal(0, 0.2))
        grad = lv.grad * (1 - (1 - lv.grad_drift) * progress)
        steps = lv.start_steps + (i + 1) * lv.steps_per_row
        rows.append(
            {
                "t": 2.0 * (i + 1),
                "frame": frame,
                "fps": lv.frames_per_row / 2.0,
                "episodes": 100 + 3 * i,
                "epsilon": 0.01,
                "expert_ratio": lv.expert_ratio,
                "return_mean": float(dqn * (1 + rng.normal(0, 0.1))),
                "dqn_return_1m": float(dqn * (1 + rng.normal(0, 0.02))),
                "dqn_return_5m": float(dqn),
                "dqn5m_slope": float(slope),
                "loss": float(loss * rng.uniform(1 - lv.loss_jitter, 1 + lv.loss_jitter)),
                **gradients(rng, grad, lv.grad_sigma, lv.max_grad_norm),
                "q_min": float(min(q_min, q_max)),
                "q_max": float(max(q_min, q_max)),
                "q_mean": float(0.3 * q_max + 0.1 * q_min),
                "agreement": agreement,
                "greedy_top_action": lv.greedy_action,
                "greedy_top_share": float(rng.uniform(0.2, 0.3)),
                "lr": lv.lr,
                "learner_steps": steps,
                "target_age": steps,
                "replay_size": min(frame, 1_000_000),
                "samples_per_frame": 4.0,
                "nonfinite_steps": 0,
                "eval_return": None,
                "eval_score": None,
            }
        )
    return rows


def before_learning(rows: int = 3, frames_per_row: int = 12_000) -> list[dict[str, Any]]:
    """Rows of the warm-up before the first learner step: learner columns null (never judged)."""
    nulls = dict.fromkeys(
        "loss grad_norm grad_norm_max clip_delta clip_frac q_min q_max q_mean agreement "
        "greedy_top_action greedy_top_share return_mean dqn_return_1m dqn_return_5m "
        "dqn5m_slope eval_return eval_score".split()
    )
    return [
        {
            **nulls,
            "t": 2.0 * (i + 1),
            "frame": (i + 1) * frames_per_row,
            "fps": 6_000.0,
            "episodes": i,
            "epsilon": 1.0,
            "expert_ratio": 0.5,
            "lr": 3e-7,
            "learner_steps": 0,
            "target_age": 0,
            "replay_size": (i + 1) * frames_per_row,
            "samples_per_frame": 0.0,
            "nonfinite_steps": 0,
        }
        for i in range(rows)
    ]


def splice(rows: list[dict[str, Any]], start: int, **columns: list[Any]) -> None:
    """Overwrites `columns` of rows start, start+1, ... with the given values."""
    for key, values in columns.items():
        for offset, value in enumerate(values):
            rows[start + offset][key] = value
