"""Shared fakes for tests: small environments whose optimal policy is known.

`ChainVectorEnv` behaves like the real vector envs of this product (gymnasium `VectorEnv`,
NEXT_STEP autoreset, separate terminated/truncated, `info["lives"]`, `info["score"]`,
`info["expert_action"]`), so the loop can be tested without an emulator.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode


class ChainVectorEnv(gym.vector.VectorEnv):
    """N copies of a chain of `length` states; the optimal policy always moves right.

    Observation: one-hot of the position (float32).  Actions: 0 = left (not below 0), 1 = right.
    Reaching the last state pays `goal_reward` and terminates; every other step pays
    `step_reward`; an episode is truncated after `time_limit` steps.  The expert always says 1.
    With gamma, Q*(s, right) = sum of discounted rewards along the shortest path to the goal.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int = 4, length: int = 6, time_limit: int = 40,
                 goal_reward: float = 1.0, step_reward: float = 0.0):
        self.num_envs, self.length, self.time_limit = num_envs, length, time_limit
        self.goal_reward, self.step_reward = goal_reward, step_reward
        self.single_observation_space = gym.spaces.Box(0.0, 1.0, (length,), np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.position = np.zeros(num_envs, np.int64)
        self.elapsed = np.zeros(num_envs, np.int64)
        self.score = np.zeros(num_envs, np.float64)
        self.needs_reset = np.zeros(num_envs, bool)

    def reset(self, *, seed=None, options=None):
        super().reset(seed=seed)
        self.position[:] = 0
        self.elapsed[:] = 0
        self.score[:] = 0.0
        self.needs_reset[:] = False
        return self._obs(), self._info()

    def step(self, actions):
        actions = np.asarray(actions)
        resetting = self.needs_reset.copy()
        move = np.where(actions == 1, 1, -1)
        self.position = np.where(resetting, 0, np.clip(self.position + move, 0, self.length - 1))
        self.elapsed = np.where(resetting, 0, self.elapsed + 1)
        terminated = ~resetting & (self.position == self.length - 1)
        truncated = ~resetting & ~terminated & (self.elapsed >= self.time_limit)
        reward = np.where(resetting, 0.0, np.where(terminated, self.goal_reward,
                                                    self.step_reward))
        self.score = np.where(resetting, 0.0, self.score + reward)
        self.needs_reset = terminated | truncated
        return self._obs(), reward.astype(np.float32), terminated, truncated, self._info()

    def _obs(self) -> np.ndarray:
        return np.eye(self.length, dtype=np.float32)[self.position]

    def _info(self) -> dict:
        return {"lives": np.ones(self.num_envs, np.int32), "score": self.score.copy(),
                "expert_action": np.ones(self.num_envs, np.int64)}


class PipelinedChainVectorEnv(ChainVectorEnv):
    """The chain with gymnasium's step_async/step_wait pair, as ALE's adapter has it: the step
    happens in `step_wait`, so a caller that books between the two is seen doing so."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._actions: np.ndarray | None = None
        self.calls: list[str] = []

    def step_async(self, actions) -> None:
        if self._actions is not None:
            raise RuntimeError("step_async twice without step_wait")
        self._actions = np.asarray(actions).copy()
        self.calls.append("async")

    def step_wait(self):
        if self._actions is None:
            raise RuntimeError("step_wait without step_async")
        actions, self._actions = self._actions, None
        self.calls.append("wait")
        return ChainVectorEnv.step(self, actions)

    def step(self, actions):
        self.step_async(actions)
        return self.step_wait()
