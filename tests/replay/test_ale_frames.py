"""Frame stacks rebuilt by the buffer equal the stacks a real ALE vector env produced."""

from __future__ import annotations

import numpy as np
import pytest

from replay import ReplayBuffer, Source

ale_vector = pytest.importorskip("ale_py.vector_env")


@pytest.mark.slow
def test_rebuilt_stacks_equal_atari_vector_env_observations():
    # Short episodes of both kinds: life loss ends episodes (terminated), a frame cap truncates.
    env = ale_vector.AtariVectorEnv("breakout", num_envs=2, noop_max=5, episodic_life=True,
                                    max_num_frames_per_episode=300)
    buf = ReplayBuffer(4000, 2, (4, 84, 84), n_step=1, gamma=0.99)
    rng = np.random.default_rng(0)
    obs, _ = env.reset(seed=3)
    autoreset = np.zeros(2, bool)
    recorded: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # ticket -> (obs, next_obs)
    written = np.zeros(2, np.int64)
    try:
        for _ in range(400):
            action = rng.integers(0, env.single_action_space.n, 2)
            next_obs, reward, terminated, truncated, _ = env.step(action)
            live = np.flatnonzero(~autoreset)  # the step after an autoreset is no transition
            for e in live:
                recorded[int(e + 2 * written[e])] = (obs[e].copy(), next_obs[e].copy())
                written[e] += 2 if terminated[e] or truncated[e] else 1
            buf.add(obs[live], action[live], reward[live], terminated[live], truncated[live],
                    next_obs[live], np.full(live.size, Source.RANDOM), env_ids=live)
            autoreset = terminated | truncated
            obs = next_obs
    finally:
        env.close()
    slots = np.flatnonzero(buf.sampleable_S).astype(np.int64)
    batch = buf._assemble(slots, np.ones(slots.size, np.float32), None)
    assert batch.terminated.sum() >= 2 and len(slots) > 600
    for b, ticket in enumerate(batch.indices):
        want_obs, want_next = recorded[int(ticket)]
        np.testing.assert_array_equal(batch.obs[b], want_obs)
        np.testing.assert_array_equal(batch.next_obs[b], want_next)
