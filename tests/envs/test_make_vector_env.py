"""`make_vector_env`: dispatch by id, clear errors, no torch, and the throughput helper."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import EnvConfig
from envs import EnvNotAvailableError, UnknownEnvError, make_vector_env, measure_env_fps
from envs.ale import AleVectorEnv
from tests.torch_free import assert_torch_not_loaded

REPO = Path(__file__).resolve().parents[2]


def test_ale_ids_go_to_the_ale_adapter() -> None:
    env = make_vector_env(EnvConfig(id="ALE/Breakout-v5", num_envs=1))
    assert isinstance(env, AleVectorEnv)
    env.close()


def test_tempest_says_when_it_arrives() -> None:
    with pytest.raises(EnvNotAvailableError) as caught:
        make_vector_env(EnvConfig(id="Tempest-v0"))
    assert isinstance(caught.value, NotImplementedError)
    assert "issue #4" in str(caught.value) and "--env ALE/<Game>-v5" in str(caught.value)


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
        "from envs import make_vector_env, measure_env_fps\n"
        "env = make_vector_env(EnvConfig(id='ALE/Pong-v5', num_envs=1))\n"
        "env.reset()\n"
        "env.step(np.zeros(1, np.int64))\n"
        "measure_env_fps(EnvConfig(id='ALE/Pong-v5', num_envs=1), 5, warmup=0)\n"
    )


def test_measure_env_fps_counts_frames_and_agent_steps() -> None:
    result = measure_env_fps(EnvConfig(id="ALE/Pong-v5", num_envs=2, frame_skip=3), 40, warmup=5)
    assert result["agent_steps"] == 80 and result["frames"] == 240
    assert result["frame_skip"] == 3 and result["num_envs"] == 2
    assert result["frames_per_s"] == pytest.approx(3 * result["agent_steps_per_s"])
    assert result["seconds"] > 0 and result["frames_per_s"] > 0


def test_measure_env_fps_rejects_nonsense_and_unbuilt_backends() -> None:
    with pytest.raises(ValueError, match="steps"):
        measure_env_fps(EnvConfig(id="ALE/Pong-v5"), 0)
    with pytest.raises(EnvNotAvailableError):
        measure_env_fps(EnvConfig(id="Tempest-v0"), 10)
