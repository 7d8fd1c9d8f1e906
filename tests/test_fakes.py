"""The fake chain env keeps the vector-env contract the loop relies on."""

from __future__ import annotations

import numpy as np

from tests.fakes import ChainVectorEnv


def test_always_right_reaches_the_goal_then_autoresets_on_the_next_step():
    env = ChainVectorEnv(num_envs=2, length=4)
    obs, _ = env.reset(seed=0)
    assert obs.shape == (2, 4) and obs[:, 0].all()
    for _ in range(2):
        _, reward, terminated, _, _ = env.step(np.ones(2, int))
        assert not terminated.any() and (reward == 0).all()
    obs, reward, terminated, truncated, info = env.step(np.ones(2, int))
    assert terminated.all() and (reward == 1).all() and not truncated.any()
    assert obs[:, 3].all() and (info["score"] == 1).all()  # the final observation
    obs, reward, terminated, _, info = env.step(np.zeros(2, int))  # action ignored: a reset
    assert obs[:, 0].all() and (reward == 0).all() and not terminated.any()


def test_time_limit_truncates():
    env = ChainVectorEnv(num_envs=1, length=4, time_limit=3)
    env.reset(seed=0)
    results = [env.step(np.zeros(1, int)) for _ in range(3)]
    assert results[-1][3].all() and not results[-1][2].any()
