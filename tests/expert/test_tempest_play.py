"""The Tempest experts play the real simulator: 20 seeded one-life episodes each, wave 1."""

from __future__ import annotations

import pytest

from expert.play import main, play


@pytest.fixture(scope="module")
def results() -> dict[str, dict]:
    return {policy: play(policy, episodes=20, start_wave=1, seed=100)
            for policy in ("random", "attract", "expert")}


def test_the_expert_beats_random_play_by_a_wide_margin(results) -> None:
    expert, random = results["expert"], results["random"]
    assert expert["mean_score"] >= 3 * random["mean_score"]
    assert expert["mean_wave"] >= random["mean_wave"] + 1.5
    assert expert["mean_frames"] >= 2 * random["mean_frames"]


def test_the_attract_mode_ai_beats_random_play_too(results) -> None:
    assert results["attract"]["mean_score"] >= 4 * results["random"]["mean_score"]


def test_every_episode_ends_by_a_death_with_a_known_cause(results) -> None:
    for result in results.values():
        assert sum(result["deaths"].values()) == result["episodes"]
        assert "alive" not in result["deaths"]


def test_the_command_prints_one_json_line_per_policy(capsys) -> None:
    assert main(["--episodes", "2", "--wave", "3"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split('"policy": "')[1].split('"')[0] for line in lines] == [
        "random", "attract", "expert"]


def test_an_episode_is_recorded_as_a_gif(tmp_path) -> None:
    from PIL import Image

    path = tmp_path / "episode.gif"
    assert main(["--gif", str(path), "--policy", "random", "--seed", "1"]) == 0
    with Image.open(path) as gif:
        assert gif.n_frames > 10 and gif.size == (256, 256)
