"""What several doctor tests read: the real healthy run (tests/metrics/data/healthy_tempest_20m
.jsonl.gz: the metrics.jsonl of a real Tempest-v0 run, 20.3M frames, 1,820 rows, DQN5M ~5,400 =
1.7x the expert; only the §5 keys, floats rounded to 5 significant digits, gzipped), its resolved
settings, and every trace.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from metrics.doctor import (
    Finding,
)
from tests.metrics import doctor_traces as traces

REAL_RUN = Path(__file__).parent / "data" / "healthy_tempest_20m.jsonl.gz"

REAL_RUN_SETTINGS = {
    "env.id": "Tempest-v0",
    "env.reward_clip": 10.0,
    "env.clip_rewards": False,
    "replay.n_step": 8,
    "learner.lr": 3e-4,
    "learner.gamma": 0.99,
    "learner.batch_size": 4096,
    "learner.micro_batches": 1,
    "learner.tau": 0.005,
    "learner.hard_update_every": 0,
    "learner.max_grad_norm": 10.0,
    "learner.loss": "huber",
    "learner.td_target_clamp": 0.0,
    "learner.normalize_rewards": False,
    "expert.enabled": True,
    "expert.ratio_start": 0.5,
    "expert.ratio_floor": 0.05,
}
"""The real run's resolved settings that the doctor reads (its config.json)."""

ALL_TRACES = [
    *traces.SEED_TRACES,
    traces.lr_raise_then_divergence,
    traces.clip_saturation,
    lambda: traces.clip_saturation(loss_rises=True),
]


def real_rows() -> list[dict]:
    with gzip.open(REAL_RUN, "rt", encoding="utf-8") as file:
        return [json.loads(line) for line in file]


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]
