"""`tempest-dqn eval`: every player on the same seeded episodes, one life or whole games, from a
chosen start wave; requests a game cannot honour are user errors."""

from __future__ import annotations

import json

import pytest

from agent.cli import main
from agent.eval_command import EvalRequest, run_eval
from agent.evaluate import EvalRequestError, eval_env_config
from config import get_preset


def test_the_protocol_and_start_wave_reach_the_tempest_env() -> None:
    env = get_preset("tempest").env
    assert eval_env_config(env, 20, 100).episodic_life  # as the run trained
    whole = eval_env_config(env, 20, 100, "game", 13)
    assert not whole.episodic_life and whole.start_wave == 13 and whole.num_envs == 20
    assert whole.seed == 100


@pytest.mark.parametrize(("protocol", "wave", "fragment"), [
    ("life", None, "the one-life protocol is Tempest's"),
    (None, 13, "has no waves")])
def test_ale_games_have_no_one_life_protocol_and_no_waves(protocol, wave, fragment) -> None:
    with pytest.raises(EvalRequestError, match=fragment):
        eval_env_config(get_preset("pong").env, 4, 0, protocol, wave)


def test_a_start_wave_out_of_range_is_refused() -> None:
    with pytest.raises(EvalRequestError, match="from 1 to 99"):
        eval_env_config(get_preset("tempest").env, 4, 0, "game", 100)


@pytest.mark.parametrize(("target", "request_", "preset", "fragment"), [
    (None, EvalRequest(1, 0), None, "give a run directory or checkpoint"),
    ("runs/x", EvalRequest(1, 0, "expert"), None, "plays without a checkpoint"),
    (None, EvalRequest(1, 0, "attract"), "pong", "the attract-mode AI is Tempest's"),
    (None, EvalRequest(1, 0, "random"), "tempset", "unknown preset"),
    ("runs/x", EvalRequest(1, 0), "pong", "a checkpoint plays the game it was trained on")])
def test_requests_that_cannot_be_played_say_why(target, request_, preset, fragment) -> None:
    with pytest.raises(EvalRequestError, match=fragment):
        run_eval(target, request_, preset)


def test_the_expert_plays_whole_games_from_a_skill_step_wave() -> None:
    """From wave 3 the expert's games carry the 6,000-point start bonus when wave 3 is cleared
    (then its score is at least 6,000), and every game loses its last life."""
    document, table = run_eval(None, EvalRequest(3, 100, "expert", "game", 3))
    assert document["protocol"] == "game" and document["start_wave"] == 3
    assert document["episodes"] == 3 and len(document["games"]) == 3
    for game in document["games"]:
        assert game["start_wave"] == 3 and sum(game["deaths"].values()) >= 3
        assert game["score"] >= 6_000 or game["highest_wave"] == 3
    assert table.splitlines()[0].split()[:3] == ["game", "score", "frames"]


def test_cli_eval_prints_json_on_stdout_and_the_games_on_stderr(capsys) -> None:
    code = main(["eval", "--policy", "random", "--protocol", "game", "--episodes", "2",
                 "--seed", "4"], environ={})
    out, err = capsys.readouterr()
    assert code == 0
    document = json.loads(out)
    assert document["policy"] == "random" and document["summary"]["games"] == 2
    assert err.splitlines()[0].split()[0] == "game" and err.splitlines()[-1].startswith(
        "  mean")


@pytest.mark.parametrize("argv", [
    ["eval", "--policy", "random", "--preset", "pong", "--protocol", "life"],
    ["eval", "--policy", "random", "--video", "clip.avi"],
    ["eval", "--policy", "god"]])
def test_cli_eval_user_errors_exit_2_without_traceback(argv, capsys) -> None:
    assert main(argv, environ={}) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err
