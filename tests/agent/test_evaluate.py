"""`evaluate`: which episodes count when the envs outnumber the episodes asked for."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from agent.evaluate import evaluate


class LongerIsBetterVectorEnv(gym.vector.VectorEnv):
    """Env i's episodes last N - i steps and pay 1 per step, so short episodes score low and
    finish first: an evaluation that keeps the first episodes to finish is biased low."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, num_envs: int):
        self.num_envs = num_envs
        self.single_observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self.length = num_envs - np.arange(num_envs)
        self.elapsed = np.zeros(num_envs, np.int64)
        self.needs_reset = np.zeros(num_envs, bool)

    def reset(self, *, seed=None, options=None):
        self.elapsed[:] = 0
        self.needs_reset[:] = False
        return np.zeros((self.num_envs, 1), np.float32), self._info()

    def step(self, actions):
        resetting = self.needs_reset.copy()
        self.elapsed = np.where(resetting, 0, self.elapsed + 1)
        terminated = ~resetting & (self.elapsed >= self.length)
        self.needs_reset = terminated
        reward = np.where(resetting, 0.0, 1.0).astype(np.float32)
        truncated = np.zeros(self.num_envs, bool)
        return np.zeros((self.num_envs, 1), np.float32), reward, terminated, truncated, \
            self._info()

    def _info(self) -> dict:
        return {"lives": np.ones(self.num_envs, np.int32),
                "score": self.elapsed.astype(np.float64)}


def test_episodes_are_chosen_by_env_not_by_who_finishes_first() -> None:
    def greedy(obs: np.ndarray) -> np.ndarray:
        return np.zeros(len(obs), np.int64)

    result = evaluate(greedy, LongerIsBetterVectorEnv(8), episodes=3, epsilon=0.0, seed=0)
    assert result.scores == [8.0, 7.0, 6.0]  # envs 0, 1, 2 (not the short envs 7, 6, 5)


def test_an_evaluation_plays_one_game_per_env_in_one_round():
    from agent.evaluate import EVAL_ENVS_MAX, eval_env_count
    from config import EnvConfig

    assert eval_env_count(10, EnvConfig(num_envs=8)) == 10  # not 2 rounds of 8, 6 thrown away
    assert eval_env_count(10, EnvConfig(num_envs=32)) == 10
    assert eval_env_count(500, EnvConfig(num_envs=8)) == EVAL_ENVS_MAX
    assert eval_env_count(500, EnvConfig(num_envs=256)) == 256


def test_in_run_evaluations_play_whole_games_when_the_config_says_so():
    """actor.eval_protocol "game": the in-run evaluation's Tempest envs play whole games (no
    episodic life), on the evaluations' own seeds; "life" (the default) as the run trains."""
    import config
    from agent.evaluate import RunEvaluations

    made = []

    def make_env(env_cfg):
        made.append(env_cfg)
        return LongerIsBetterVectorEnv(env_cfg.num_envs)

    for protocol, episodic in (("life", True), ("game", False)):
        cfg = config.apply_overrides(config.get_preset("smoke"), {
            "actor.eval_protocol": protocol, "actor.eval_episodes": 3})
        evaluations = RunEvaluations(cfg, make_env, None, events=_Quiet())
        result = evaluations.network(lambda obs: np.zeros(len(obs), np.int64), 0)
        assert made[-1].episodic_life is episodic and made[-1].num_envs == 3
        assert result.scores == [3.0, 2.0, 1.0]


class _Quiet:
    def log(self, *args, **kwargs) -> None:
        pass
