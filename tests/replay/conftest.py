"""Shared drivers for the replay tests: feed the same random steps to the buffer and the oracle."""

from __future__ import annotations

import numpy as np
import pytest

from replay import ReplayBuffer
from tests.replay.naive import NaiveReplay


def drive(buf: ReplayBuffer, naive: NaiveReplay | None, steps: int, rng: np.random.Generator,
          p_end: float = 0.08, p_skip: float = 0.15) -> None:
    """Random steps: episode ends of both kinds, runs of behaviour sources, skipped envs.

    Skipping an env models the step after its autoreset, which is not a transition.
    """
    source_N = rng.integers(0, 3, buf.num_envs)
    for _ in range(steps):
        keep = rng.random(buf.num_envs) >= p_skip
        env_ids = np.flatnonzero(keep)
        count = env_ids.size
        obs = _observations(buf, rng, count)
        next_obs = _observations(buf, rng, count)
        end = rng.random(count) < p_end
        terminated = end & (rng.random(count) < 0.5)
        truncated = end & ~terminated
        continues = terminated & (rng.random(count) < 0.3)  # a lost life, the game goes on
        switch = rng.random(buf.num_envs) < 0.2
        source_N = np.where(switch, rng.integers(0, 3, buf.num_envs), source_N)
        source = source_N[env_ids]
        action = rng.integers(0, 6, count)
        reward = rng.normal(size=count).astype(np.float32)
        expert = rng.integers(-1, 6, count)
        buf.add(obs, action, reward, terminated, truncated, next_obs, source, expert, env_ids,
                continues)
        if naive is None:
            continue
        for i, env in enumerate(env_ids):
            frame = obs[i, -1] if buf.frames else obs[i].astype(buf.obs_dtype)
            last = next_obs[i, -1] if buf.frames else next_obs[i].astype(buf.obs_dtype)
            naive.add(env, frame, action[i], reward[i], terminated[i], truncated[i], last,
                      source[i], expert[i], continues[i])


def _observations(buf: ReplayBuffer, rng: np.random.Generator, count: int) -> np.ndarray:
    if buf.frames:
        return rng.integers(0, 256, (count, *buf.obs_shape), dtype=np.uint8)
    return rng.normal(size=(count, *buf.obs_shape)).astype(np.float32)


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(20261125)
