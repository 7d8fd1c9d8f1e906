"""The `Expert` protocol: anything that proposes an action for each of N environments."""

from __future__ import annotations

from typing import Protocol

import numpy as np

NO_ACTION = -1
"""An expert's answer for an environment it has no opinion about."""


class Expert(Protocol):
    """A scripted policy over a batch of environments (the Tempest expert, ALE RAM experts)."""

    name: str

    def act(self, obs_N: np.ndarray, info: dict) -> np.ndarray:
        """(N,) int64 actions, or NO_ACTION where the expert cannot tell."""
        ...
