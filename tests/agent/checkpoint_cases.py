"""A small replay with a few steps in it, for the checkpoint tests to save and load."""

from __future__ import annotations

import numpy as np

from replay import ReplayBuffer


def small_replay() -> ReplayBuffer:
    """Two streams of 3-value observations, five steps each."""
    buf = ReplayBuffer(60, 2, (3,), n_step=2)
    obs = np.ones((2, 3), np.float32)
    for _ in range(5):
        buf.add(obs, [0, 1], [1.0, 0.5], [False, False], [False, False], obs, [0, 0])
    return buf
