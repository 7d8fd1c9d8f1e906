"""Who acts, per environment and step: the expert (with probability `ratio`) or the network.

The network's share is epsilon-greedy.  The expert only acts where it has an opinion (its
action is not NO_ACTION); every choice is reported as a `Source` so the replay records who
acted, and the expert's proposal is stored as the label whoever acted.  User overrides from the
control channel (expert only, expert off, a manual ratio) sit on top of the schedule.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from expert.protocol import NO_ACTION

DQN, RANDOM, EXPERT = 0, 1, 2
"""The replay's `Source` codes (replay.types.Source), repeated here: expert/ may not import
replay.  A test checks they agree."""

RATIO_STEP = 0.05
"""`expert_ratio up/down` moves a manual ratio by this much."""


@dataclass
class MixerOverride:
    """The user's say over the schedule: mode "auto", "on" (expert only), "off", or a manual
    ratio (`manual` not None)."""

    mode: str = "auto"
    manual: float | None = None

    def ratio(self, scheduled: float) -> float:
        if self.mode == "on":
            return 1.0
        if self.mode == "off":
            return 0.0
        return scheduled if self.manual is None else self.manual

    def nudge(self, direction: str, scheduled: float) -> float:
        """`expert_ratio up/down`: a manual ratio starting from what is in force now."""
        current = self.ratio(scheduled)
        step = RATIO_STEP if direction == "up" else -RATIO_STEP
        self.mode, self.manual = "auto", min(1.0, max(0.0, current + step))
        return self.manual


def mix(network_N: np.ndarray, expert_N: np.ndarray, epsilon: float, ratio: float,
        num_actions: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Choose each env's action and its source.

    Args:
        network_N: the network's greedy actions.
        expert_N: the expert's actions (NO_ACTION where it has none).
        epsilon: random-action probability on the network's share.
        ratio: probability that the expert acts (where it can).

    Returns:
        (actions_N int64, source_N uint8 with DQN / RANDOM / EXPERT).
    """
    size = network_N.shape[0]
    use_expert = (rng.random(size) < ratio) & (expert_N != NO_ACTION)
    explore = ~use_expert & (rng.random(size) < epsilon)
    actions = np.where(explore, rng.integers(0, num_actions, size), network_N)
    actions = np.where(use_expert, expert_N, actions).astype(np.int64)
    source = np.where(use_expert, EXPERT, np.where(explore, RANDOM, DQN)).astype(np.uint8)
    return actions, source
