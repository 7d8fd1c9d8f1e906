"""`expert.labels`: which expert a config gets, and the wrapper that labels every state."""

from __future__ import annotations

import numpy as np

from config import EnvConfig, ExpertConfig
from expert.labels import ExpertLabels, make_expert, with_expert
from tests.fakes import ChainVectorEnv, PipelinedChainVectorEnv


class CountingExpert:
    """Proposes the step number everywhere; remembers which envs were told to forget."""

    name = "counting"

    def __init__(self) -> None:
        self.calls = 0
        self.forgotten: list[np.ndarray] = []

    def act(self, obs_N: np.ndarray, info: dict) -> np.ndarray:
        self.calls += 1
        return np.full(obs_N.shape[0], self.calls, np.int64)

    def reset(self, mask: np.ndarray) -> None:
        self.forgotten.append(mask.copy())


def test_every_reset_and_step_carries_the_experts_label_for_the_returned_state() -> None:
    expert = CountingExpert()
    env = ExpertLabels(ChainVectorEnv(num_envs=3, length=3, time_limit=50), expert)
    _, info = env.reset(seed=0)
    assert (info["expert_action"] == 1).all()
    _, _, _, _, info = env.step(np.ones(3, np.int64))
    assert (info["expert_action"] == 2).all()


def test_a_pipelined_env_stays_pipelined_and_its_answers_are_labelled() -> None:
    plain = ExpertLabels(ChainVectorEnv(num_envs=2), CountingExpert())
    assert not hasattr(plain, "step_async")
    env = ExpertLabels(PipelinedChainVectorEnv(num_envs=2), CountingExpert())
    env.reset(seed=0)
    env.step_async(np.ones(2, np.int64))
    obs, _, _, _, info = env.step_wait()
    assert (info["expert_action"] == 2).all() and obs.argmax(1).tolist() == [1, 1]


def test_reset_steps_make_the_expert_forget_those_envs_only() -> None:
    expert = CountingExpert()
    env = ExpertLabels(ChainVectorEnv(num_envs=2, length=2, time_limit=50), expert)
    env.reset(seed=0)
    assert expert.forgotten[-1].all()
    env.step(np.array([1, 0]))  # env 0 reaches the goal
    forgotten_before = len(expert.forgotten)
    env.step(np.array([1, 0]))  # env 0 resets (the fake has no reset_step key: inferred)
    assert len(expert.forgotten) == forgotten_before + 1
    assert expert.forgotten[-1].tolist() == [True, False]


def test_make_expert_picks_the_games_expert_or_none() -> None:
    from expert.ale import BreakoutExpert, PongExpert
    from expert.tempest import AttractModeExpert, TempestExpert

    on, off = ExpertConfig(), ExpertConfig(enabled=False)
    assert isinstance(make_expert(EnvConfig(num_envs=2), on), TempestExpert)
    attract = ExpertConfig(policy="attract")
    assert isinstance(make_expert(EnvConfig(num_envs=2), attract), AttractModeExpert)
    assert isinstance(make_expert(EnvConfig(id="ALE/Pong-v5"), on), PongExpert)
    assert isinstance(make_expert(EnvConfig(id="ALE/Breakout-v5"), on), BreakoutExpert)
    assert make_expert(EnvConfig(id="ALE/Seaquest-v5"), on) is None
    assert make_expert(EnvConfig(num_envs=2), off) is None


def test_with_expert_leaves_envs_without_an_expert_alone() -> None:
    env = ChainVectorEnv(num_envs=2)
    assert with_expert(env, EnvConfig(id="ALE/Seaquest-v5"), ExpertConfig()) is env
