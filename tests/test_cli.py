"""The `tempest-dqn` command line, run as a user runs it: `python -m agent ...` in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path

import pytest

import config
from agent.cli import main, split_overrides

REPO = Path(__file__).resolve().parents[1]


def run(*args: str, env: dict[str, str] | None = None,
        timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """Runs `python -m agent *args` from the repository root with a clean flag environment
    (the timeout only guards against a hang: shared machines can be slow)."""
    environ = {k: v for k, v in os.environ.items() if k not in config.ENV_FLAGS}
    environ.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "agent", *args],
        cwd=REPO,
        env=environ,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def torch_cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def assert_user_error(result: subprocess.CompletedProcess[str], fragment: str) -> None:
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert "error: " in result.stderr and fragment in result.stderr, result.stderr


def test_print_config_applies_overrides() -> None:
    result = run(
        "train", "--preset", "smoke", "--print-config",
        "--learner.lr", "3e-4", "--replay.n-step=5", "--frames", "1234", "--no-tui",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["learner"]["lr"] == 3e-4 and data["replay"]["n_step"] == 5
    assert data["run"]["frames"] == 1234 and data["tui"]["enabled"] is False
    assert data["replay"]["capacity"] == config.PRESETS["smoke"].replay.capacity
    assert config.from_dict(data) == config.resolve(
        "smoke",
        overrides={
            "learner.lr": "3e-4",
            "replay.n_step": "5",
            "run.frames": "1234",
            "tui.enabled": "false",
        },
        environ={},
    )


def test_batch_size_zero_is_a_user_error() -> None:
    result = run("train", "--preset", "smoke", "--learner.batch-size", "0", "--print-config")
    assert_user_error(result, "learner.batch_size must be a positive integer, got 0")


def test_unknown_field_suggests_the_nearest() -> None:
    result = run("train", "--learner.lrr", "1e-3")
    assert_user_error(result, "did you mean 'learner.lr'?")


def test_bare_field_flag_suggests_its_section() -> None:
    assert_user_error(run("train", "--lr", "1e-3"), "did you mean '--learner.lr'?")


def test_bad_value_names_field_value_and_type() -> None:
    result = run("train", "--learner.lr", "fast")
    assert_user_error(result, "learner.lr expects a number, got 'fast'")


def test_unknown_preset_lists_the_valid_ones() -> None:
    result = run("train", "--preset", "pongg")
    assert_user_error(result, "valid presets: breakout, pong, smoke, tempest")


def test_unknown_env_id() -> None:
    result = run("train", "--env", "ALE/Pongg-v5")
    assert_user_error(result, "unknown env id 'ALE/Pongg-v5'")


def test_missing_config_file(tmp_path: Path) -> None:
    result = run("train", "--config", str(tmp_path / "missing.toml"))
    assert_user_error(result, "config file not found")


def test_config_file_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[learner]\nlr = = 1\n")
    assert_user_error(run("train", "--config", str(path)), "line 2")


def test_config_file_is_applied(tmp_path: Path) -> None:
    path = tmp_path / "run.yaml"
    path.write_text("preset: smoke\nlearner:\n  gamma: 0.95\n")
    result = run("train", "--config", str(path), "--print-config")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["learner"]["gamma"] == 0.95 and data["run"]["frames"] == 4000


def test_force_fresh_model_environment_variable() -> None:
    result = run("train", "--preset", "smoke", "--print-config", env={"FORCE_FRESH_MODEL": "1"})
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["run"]["force_fresh_model"] is True


def test_bad_environment_variable_is_a_user_error() -> None:
    result = run("train", "--print-config", env={"RESET_METRICS": "maybe"})
    assert_user_error(result, "RESET_METRICS='maybe'")


def test_smoke_trains_on_tempest_with_the_expert_curriculum(tmp_path) -> None:
    result = run("train", "--preset", "smoke", "--run-dir", str(tmp_path), timeout=300)
    assert result.returncode == 0, result.stderr
    run_dir = tmp_path / "tempest-v0"
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows and rows[-1]["frame"] >= 4_000
    ratios = [row["expert_ratio"] for row in rows]
    assert all(r is not None for r in ratios) and ratios[-1] == 0.05  # annealed to the floor
    assert any(row["agreement"] is not None for row in rows)  # expert labels reach the learner


SHORT_PONG = ("train", "--preset", "smoke", "--env", "ALE/Pong-v5", "--env.num-envs", "2",
              "--learner.learning-starts", "400", "--learner.hidden-sizes", "32",
              "--replay.capacity", "4000", "--tui.progress-every-s", "0.01")


@pytest.mark.slow
def test_train_on_pong_writes_rows_checkpoints_and_resumes(tmp_path) -> None:
    first = run(*SHORT_PONG, "--frames", "1600", "--run-dir", str(tmp_path))
    assert first.returncode == 0, first.stderr
    run_dir = tmp_path / "ale-pong-v5"
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    assert rows[-1]["frame"] == 1600 and rows[-1]["learner_steps"] > 0
    assert "frame" in first.stdout and "fps" in first.stdout  # progress lines, no terminal
    assert (run_dir / "checkpoints" / "latest" / "model.safetensors").exists()
    second = run(*SHORT_PONG, "--frames", "2400", "--run-dir", str(tmp_path))
    assert second.returncode == 0 and "resumed at frame 1,600" in second.stderr
    evaluation = run("eval", str(run_dir), "--episodes", "1", "--seed", "3")
    assert evaluation.returncode == 0, evaluation.stderr
    result = json.loads(evaluation.stdout)
    assert result["episodes"] == 1 and result["frame"] == 2400
    assert -21 <= result["mean_score"] <= 21 and result["checkpoint"].endswith("gen-000002")
    fresh = run(*SHORT_PONG, "--frames", "800", "--run-dir", str(tmp_path), "--fresh")
    assert fresh.returncode == 0 and "fresh start" in fresh.stderr
    archived = list((run_dir / "archive").iterdir())
    assert len(archived) == 1 and (archived[0] / "checkpoints").is_dir()


def _as_if_trained_on_cuda(run_dir: Path) -> None:
    """What a checkpoint written by a CUDA learner differs in: the configured and the recorded
    device (its tensors are saved on the CPU either way)."""
    state_file = run_dir / "checkpoints" / "latest" / "state.json"
    state = json.loads(state_file.read_text())
    state["config"]["learner"]["device"] = "cuda"
    state["learner"]["device"] = "cuda"
    state_file.write_text(json.dumps(state))


def _tree(root: Path) -> dict[str, int]:
    return {str(p.relative_to(root)): p.stat().st_size for p in root.rglob("*") if p.is_file()}


@pytest.mark.slow
@pytest.mark.skipif(torch_cuda_available(), reason="needs a machine without CUDA")
def test_a_run_trained_on_cuda_evaluates_and_continues_on_a_cpu(tmp_path) -> None:
    smoke = ("train", "--preset", "smoke", "--run-dir", str(tmp_path))
    assert run(*smoke, "--learner.device", "cuda").returncode == 2  # nothing to resume yet
    assert not any(tmp_path.iterdir())  # and nothing written
    assert run(*smoke, "--frames", "2000").returncode == 0
    run_dir = tmp_path / "tempest-v0"
    _as_if_trained_on_cuda(run_dir)
    before = _tree(run_dir)
    again = run(*smoke, "--frames", "3000", "--learner.device", "cuda")
    assert_user_error(again, "--learner.device cpu")
    assert _tree(run_dir) == before  # refused before anything was written
    evaluation = run("eval", str(run_dir), "--episodes", "1", "--seed", "3")
    assert evaluation.returncode == 0, evaluation.stderr
    assert json.loads(evaluation.stdout)["frame"] == 2000
    doctor = run("doctor", str(run_dir))
    assert doctor.returncode in (0, 1) and "Traceback" not in doctor.stderr
    moved = run(*smoke, "--frames", "3000", "--learner.device", "cpu")
    assert moved.returncode == 0, moved.stderr
    assert "resumed at frame 2,000; trained on cuda, continues on cpu" in moved.stderr
    events = (run_dir / "events.jsonl").read_text()
    assert "trained on cuda, continues on cpu" in events


def _as_if_saved_before(run_dir: Path, fields: tuple[str, ...]) -> None:
    """A checkpoint written before these env fields existed: its saved config lacks them."""
    state_file = run_dir / "checkpoints" / "latest" / "state.json"
    state = json.loads(state_file.read_text())
    for field in fields:
        del state["config"]["env"][field]
    state_file.write_text(json.dumps(state))


@pytest.mark.slow
@pytest.mark.parametrize("trained_with, added_since, said", [
    (("--env.lane-map", "false"), ("lane_map", "shot_clock", "spike_clock"),
     "trained without the lane map; resume it with --env.lane-map false"),
    (("--env.shot-clock", "false", "--env.spike-clock", "false"), ("shot_clock", "spike_clock"),
     "trained with the lane map, its enemy shots as a depth and its spikes as a depth; resume it"
     " with --env.lane-map true --env.shot-clock false --env.spike-clock false"),
    (("--env.spike-clock", "true"), (),
     "its enemy shots as a clock and its spikes as a clock; resume it with --env.lane-map true"
     " --env.shot-clock true --env.spike-clock true"),
])
def test_a_run_trained_on_an_older_observation_evaluates_and_resumes_with_the_flag(
        tmp_path, trained_with, added_since, said) -> None:
    smoke = ("train", "--preset", "smoke", "--run-dir", str(tmp_path))
    assert run(*smoke, "--frames", "2000", *trained_with).returncode == 0
    run_dir = tmp_path / "tempest-v0"
    _as_if_saved_before(run_dir, added_since)
    evaluation = run("eval", str(run_dir), "--episodes", "1", "--seed", "3")
    assert evaluation.returncode == 0, evaluation.stderr  # on the observation it learned
    before = _tree(run_dir)
    again = run(*smoke, "--frames", "3000")  # today's defaults: the lane map and its clocks
    assert_user_error(again, said)
    assert _tree(run_dir) == before  # refused before anything was written
    resumed = run(*smoke, "--frames", "3000", *trained_with)
    assert resumed.returncode == 0 and "resumed at frame 2,000" in resumed.stderr


def test_eval_without_a_checkpoint_says_where_to_look(tmp_path) -> None:
    result = run("eval", str(tmp_path / "nothing"))
    assert result.returncode == 2 and "no checkpoint at" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.slow
def test_a_corrupt_checkpoint_is_a_clear_error_and_stays_untouched(tmp_path) -> None:
    assert run(*SHORT_PONG, "--frames", "800", "--run-dir", str(tmp_path)).returncode == 0
    model = tmp_path / "ale-pong-v5" / "checkpoints" / "latest" / "model.safetensors"
    model.write_bytes(b"garbage")
    result = run(*SHORT_PONG, "--frames", "1600", "--run-dir", str(tmp_path))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "cannot resume" in result.stderr and "--fresh" in result.stderr
    assert "gen-000001 (latest): unloadable" in result.stderr  # the only generation kept
    assert "none of them verifies" in result.stderr
    assert model.read_bytes() == b"garbage"


def test_watch_refuses_a_missing_run_directory(tmp_path) -> None:
    result = run("watch", str(tmp_path / "nowhere"))
    assert_user_error(result, "no run directory at")


def test_watch_without_a_terminal_is_a_clear_error(tmp_path) -> None:
    result = run("watch", str(tmp_path))
    assert_user_error(result, "needs a terminal")


# The remaining cases exercise argument handling in-process: same code, no interpreter start-up.


@pytest.mark.parametrize(
    "argv",
    [["frob"], [], ["train", "--bogus"], ["train", "--learner.lr"], ["eval"],
     ["eval", "x", "--episodes", "two"], ["bench", "everything"]],
)  # fmt: skip
def test_usage_errors_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv, environ={}) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "Traceback" not in err


def test_unbuilt_commands_say_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A benchmark whose module is missing says so and exits 1 (the doctor is built: its tests
    are in tests/metrics/test_doctor_report.py)."""
    monkeypatch.setitem(sys.modules, "agent.bench.tui", None)  # makes its import fail
    assert main(["bench", "tui"], environ={}) == 1
    err = capsys.readouterr().err
    assert "bench tui is not available" in err and "Traceback" not in err


@pytest.mark.parametrize(("flags", "guard"), [((), False), (("--guard",), True)])
def test_guard_flag_sets_doctor_guard(
    flags: tuple[str, ...], guard: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["train", "--preset", "smoke", *flags, "--print-config"], environ={}) == 0
    assert json.loads(capsys.readouterr().out)["doctor"]["guard"] is guard


def test_resume_from_sets_the_field_and_a_bad_name_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["train", "--preset", "smoke", "--resume-from", "latest-good", "--print-config"],
                environ={}) == 0
    assert json.loads(capsys.readouterr().out)["run"]["resume_from"] == "latest-good"
    assert main(["train", "--preset", "smoke", "--resume-from", "last-tuesday"], environ={}) == 2
    assert "run.resume_from must be 'latest-good' or a generation" in capsys.readouterr().err


def test_train_help_lists_every_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--help"], environ={}) == 0
    out = capsys.readouterr().out
    for info in config.describe_fields():
        assert f"--{info.key} " in out
    assert "Adam learning rate" in out and "learner: " in out


def test_train_help_shows_the_chosen_presets_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["train", "--preset", "pong", "--help"], environ={}) == 0
    assert "--env.id STR  (default: ALE/Pong-v5)" in capsys.readouterr().out


def test_split_overrides() -> None:
    overrides, rest = split_overrides(
        ["--preset", "smoke", "--learner.lr", "-1", "--replay.n-step=5", "--no-tui", "--x=1"]
    )
    assert overrides == {"learner.lr": "-1", "replay.n-step": "5"}
    assert rest == ["--preset", "smoke", "--no-tui", "--x=1"]


@pytest.mark.parametrize(
    ("which", "ran"),
    [("replay", ["replay"]), ("env", ["env"]), ("learner", ["learner"]), ("loop", ["loop"]),
     ("tui", ["tui"]), ("all", ["replay", "env", "learner", "loop", "tui"])],
)
def test_bench_delegates_to_agent_bench_modules(
    which: str, ran: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's half of the contract: `agent.bench.<name>.main(quick)` is called, its exit
    code kept; `all` runs every benchmark in order."""
    calls: list[tuple[str, bool, str | None]] = []
    for name in ("replay", "env", "learner", "loop", "tui"):
        fake = types.ModuleType(f"agent.bench.{name}")

        def record(quick, name=name, **options):
            calls.append((name, quick, options.get("device")))
            return 0

        fake.main = record  # type: ignore[attr-defined]
        monkeypatch.setitem(sys.modules, f"agent.bench.{name}", fake)
    assert main(["bench", which, "--quick"], environ={}) == 0
    # the learner bench takes its device (the CPU unless --device says otherwise)
    assert calls == [(name, True, "cpu" if name == "learner" else None) for name in ran]
