"""`make_vector_env`: dispatch by id, clear errors, no torch, and the throughput helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import EnvConfig
from envs import UnknownEnvError, make_vector_env
from envs.ale import AleVectorEnv
from envs.tempest.env import TempestVectorEnv
from tests.torch_free import assert_torch_not_loaded

REPO = Path(__file__).resolve().parents[2]


def test_ale_ids_go_to_the_ale_adapter() -> None:
    env = make_vector_env(EnvConfig(id="ALE/Breakout-v5", num_envs=1))
    assert isinstance(env, AleVectorEnv)
    env.close()


def test_tempest_goes_to_the_simulator_with_the_config_settings() -> None:
    cfg = EnvConfig(id="Tempest-v0", num_envs=3, start_wave=5, action_set="compact",
                    max_episode_frames=99, reward_clip=2.5, reward_subjective_scale=0.0)
    env = make_vector_env(cfg)
    assert isinstance(env, TempestVectorEnv) and env.num_envs == 3
    assert env.single_action_space.n == 11
    games = env.games
    assert games.start_wave == 5 and games.max_episode_frames == 99 and games.episodic_life
    assert games.reward_params.clip == 2.5 and games.reward_params.subjective_scale == 0.0
    env.reset(seed=1)
    assert (env.state.wave == 5).all()


@pytest.mark.parametrize(
    ("env_id", "suggestion"),
    [
        ("ALE/Pongg-v5", "ALE/Pong-v5"),
        ("ALE/pong-v5", "ALE/Pong-v5"),
        ("PongNoFrameskip-v4", "ALE/Pong-v5"),
        ("ALE/SpaceInvader-v5", "ALE/SpaceInvaders-v5"),
        ("Tempest-v1", "Tempest-v0"),
    ],
)
def test_unknown_ids_name_the_closest_valid_ones(env_id: str, suggestion: str) -> None:
    with pytest.raises(UnknownEnvError, match="did you mean") as caught:
        make_vector_env(EnvConfig(id=env_id))
    assert isinstance(caught.value, ValueError)
    assert f"'{suggestion}'" in str(caught.value)


def test_making_and_stepping_an_env_never_loads_torch() -> None:
    assert_torch_not_loaded(
        "import numpy as np\n"
        "from config import EnvConfig\n"
        "from envs import make_vector_env\n"
        "env = make_vector_env(EnvConfig(id='ALE/Pong-v5', num_envs=1))\n"
        "env.reset()\n"
        "env.step(np.zeros(1, np.int64))\n"
    )
