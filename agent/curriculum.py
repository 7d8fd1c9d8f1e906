"""Tempest's start-wave curriculum: where new games start, and when that moves.

Why: one life from wave 1 rarely gets past wave 6, so the later waves (spikes, pulsars,
fuseballs, faster enemies) hardly reach the replay, and a whole game from wave 13 is one the
network has barely seen.  The system this replaced had a start-level curriculum only in the
browser's JavaScript, alive while an admin tab was open; this one lives in the trainer, is saved
in its checkpoints, and is shown and steered through the metrics and the control channel.

The frontier is a skill-step wave (`envs.tempest.tables.SKILL_STEP_WAVES`: the arcade's own
start choices, each paying its start bonus).  New games start at wave 1 with `wave1_share`, at
the frontier with `frontier_share`, and otherwise uniformly at the skill-step waves in between.
At each evaluation the network also plays one-life episodes started at the frontier; the share
that clears it (reaches the next wave) moves the frontier one skill step up (at least
`promote_clear_rate`) or down (below `demote_clear_rate`), unless it is pinned.

`start_distribution`, `clear_rate` and `next_frontier` are pure; `RunCurriculum` connects them
to the trainer's env, evaluations, events, control channel and checkpoints.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from agent.games import GameRecord
from config import CurriculumConfig
from envs.tempest.tables import SKILL_STEP_WAVES


def frontier_waves(max_wave: int) -> list[int]:
    """The waves the frontier can stand on: the skill-step waves up to `max_wave`."""
    return [int(w) for w in SKILL_STEP_WAVES if w <= max_wave]


def start_distribution(frontier: int, cfg: CurriculumConfig) -> tuple[list[int], list[float]]:
    """(waves, probabilities) of the start waves of new games under `frontier`."""
    between = [w for w in frontier_waves(cfg.max_wave) if 1 < w < frontier]
    rest = 1.0 - cfg.wave1_share - cfg.frontier_share
    shares = {1: cfg.wave1_share}
    shares[frontier] = shares.get(frontier, 0.0) + cfg.frontier_share + (0.0 if between
                                                                         else rest)
    for wave in between:
        shares[wave] = rest / len(between)
    waves = sorted(w for w, share in shares.items() if share > 0)
    if not waves:  # both shares 0 at frontier 1: every game at wave 1
        return [1], [1.0]
    total = sum(shares[w] for w in waves)
    return waves, [shares[w] / total for w in waves]


def clear_rate(episodes: list[GameRecord]) -> float:
    """Share of the episodes that cleared their start wave (reached the one after it)."""
    return float(np.mean([(e.waves_cleared or 0) >= 1 for e in episodes]))


def step_frontier(frontier: int, steps: int, cfg: CurriculumConfig) -> int:
    """`frontier` moved `steps` skill steps (negative: down), within wave 1 and max_wave."""
    waves = frontier_waves(cfg.max_wave)
    here = max(i for i, w in enumerate(waves) if w <= frontier)
    return waves[min(max(here + steps, 0), len(waves) - 1)]


def next_frontier(frontier: int, rate: float, cfg: CurriculumConfig) -> int:
    """One step up at a clear rate of at least promote_clear_rate, one down below
    demote_clear_rate, else where it is."""
    if rate >= cfg.promote_clear_rate:
        return step_frontier(frontier, 1, cfg)
    if rate < cfg.demote_clear_rate:
        return step_frontier(frontier, -1, cfg)
    return frontier


@dataclass
class CurriculumState:
    """What a checkpoint keeps of the curriculum: exact on resume."""

    frontier: int = 1
    clear_rate: float | None = None
    """The latest evaluated clear rate at the frontier of its time (None before the first)."""
    pinned: bool = False
    """Held where it is by hand (the control channel); evaluations still measure."""

    def state(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict | None) -> CurriculumState:
        """A checkpoint's curriculum; checkpoints written before it have none (frontier 1)."""
        if not state:
            return cls()
        rate = state.get("clear_rate")
        return cls(int(state["frontier"]), None if rate is None else float(rate),
                   bool(state.get("pinned", False)))


@dataclass
class CurriculumControl:
    """The control channel's requests, waiting for the trainer's next step."""

    pin: bool | None = None
    """True: pin; False: back to the evaluations; None: no request."""
    steps: int = 0
    """Skill steps to move the frontier by hand (which pins it)."""


class RunCurriculum:
    """A training run's curriculum (off: every method does nothing and rows say null).

    Args:
        cfg: the curriculum section.
        set_start_waves: the env's `set_start_waves` (the Tempest vector env's).
        evaluate_at: plays `episodes` one-life evaluation episodes from a wave with the given
            greedy policy and returns their records (agent.evaluate.RunEvaluations.at_wave).
        log: the run's events log's `log`.
    """

    def __init__(self, cfg: CurriculumConfig, set_start_waves: Callable | None,
                 evaluate_at: Callable, log: Callable) -> None:
        self.cfg, self.set_start_waves, self.evaluate_at, self.log = (
            cfg, set_start_waves, evaluate_at, log)
        self.state = CurriculumState()

    @property
    def on(self) -> bool:
        return self.cfg.enabled

    def restore(self, state: dict | None) -> None:
        self.state = CurriculumState.from_state(state)
        self.apply()

    def apply(self) -> None:
        """Hands the start waves of the frontier in force to the env."""
        if self.on:
            self.set_start_waves(*start_distribution(self.state.frontier, self.cfg))

    def follow_control(self, request: CurriculumControl, frame: int) -> None:
        """Acts on the control channel's requests (between two steps)."""
        if not self.on or (request.pin is None and request.steps == 0):
            return
        if request.pin is not None:
            self.state.pinned = request.pin
        if request.steps:
            self._move(step_frontier(self.state.frontier, request.steps, self.cfg), frame,
                       "by hand")
            self.state.pinned = True

    def evaluate(self, greedy: Callable, frame: int) -> None:
        """The frontier's evaluation and, unless pinned, its move."""
        if not self.on:
            return
        frontier = self.state.frontier
        rate = clear_rate(self.evaluate_at(greedy, frontier, self.cfg.eval_episodes, frame))
        self.state.clear_rate = rate
        self.log("info", f"curriculum: clear rate {rate:.2f} at the frontier, wave {frontier}",
                 frame=frame, frontier=frontier, clear_rate=rate)
        if not self.state.pinned:
            self._move(next_frontier(frontier, rate, self.cfg), frame, f"clear rate {rate:.2f}")

    def _move(self, frontier: int, frame: int, why: str) -> None:
        if frontier == self.state.frontier:
            return
        before, self.state.frontier = self.state.frontier, frontier
        self.log("info", f"curriculum: frontier wave {before} -> {frontier} ({why})",
                 frame=frame, frontier=frontier)
        self.apply()

    def row_fields(self) -> dict:
        """The metrics row's curriculum keys (metrics.schema.VERSION_3_KEYS)."""
        if not self.on:
            return {"curriculum_frontier": None, "curriculum_clear_rate": None}
        return {"curriculum_frontier": self.state.frontier,
                "curriculum_clear_rate": self.state.clear_rate}

    @property
    def pinned_shown(self) -> bool | None:
        """Whether it is pinned, for the dashboard's row (None when off)."""
        return self.state.pinned if self.on else None
