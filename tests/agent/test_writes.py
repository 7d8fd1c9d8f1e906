"""A run whose writes fail (a full disk) keeps training, says so once, and stops cleanly.

The failures are real ones where the kernel gives them for free (`/dev/full` answers every write
with ENOSPC) and injected at the checkpoint's replay save otherwise, after it has written part of
its files, so that the partial files' removal is exercised too.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from agent.checkpoint import latest_checkpoint, list_generations
from agent.generations import problem_with
from agent.writes import FinalSaveError, RunWrites, describe, space_warning
from metrics import EventLog, read_rows
from metrics.events import read_events
from replay import ReplayBuffer
from tests.agent.chain_runs import chain_cfg, chain_trainer
from tests.small_disk import small_filesystem
from tests.test_cli import run

DEV_FULL = Path("/dev/full")
needs_dev_full = pytest.mark.skipif(not DEV_FULL.exists(), reason="no /dev/full here")


def _refuse_replay_saves(monkeypatch, refused: set[int]) -> list[int]:
    """The replay's save writes a file, then fails with ENOSPC on the calls numbered in
    `refused` (1-based); returns the list of call numbers made so far."""
    calls: list[int] = []
    real_save = ReplayBuffer.save

    def save(self, path):
        calls.append(len(calls) + 1)
        if calls[-1] in refused:
            Path(path).mkdir(parents=True, exist_ok=True)
            (Path(path) / "part.npy").write_bytes(b"x" * 1000)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_save(self, path)

    monkeypatch.setattr(ReplayBuffer, "save", save)
    return calls


def _errors(trainer) -> list[str]:
    return [e["message"] for e in read_events(trainer.paths.events) if e["kind"] == "error"]


def test_a_refused_checkpoint_is_told_cleaned_up_and_retried_while_training_goes_on(
        tmp_path, monkeypatch, capsys):
    calls = _refuse_replay_saves(monkeypatch, refused={2, 3})
    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 1600,
                                                   "run.checkpoint_every_s": 0.001}))
    trainer.run()
    assert len(calls) > 4  # a save every loop: refused twice, then saved again
    errors = _errors(trainer)
    assert len(errors) == 2 and trainer.writes.failed_checkpoints == 2
    assert errors[0].startswith("checkpoint failed: No space left on device (errno 28); "
                                "its partial files are removed; the newest good checkpoint "
                                "is gen-000001 (frame ")
    assert errors[0].endswith("training goes on, next try in 0 s")
    assert "checkpoint failed" in capsys.readouterr().err  # said on stderr too
    checkpoints = trainer.paths.checkpoints
    assert not [p for p in checkpoints.iterdir() if p.name.startswith(".")]  # nothing partial
    assert latest_checkpoint(checkpoints).name == list_generations(checkpoints)[-1].name
    rows = read_rows(trainer.paths.metrics)
    assert rows[-1]["frame"] == 1600  # trained to the end


def test_a_refused_final_checkpoint_says_what_was_kept(tmp_path, monkeypatch):
    _refuse_replay_saves(monkeypatch, refused=set(range(2, 10_000)))
    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 800,
                                                   "run.checkpoint_every_s": 1e-9}))
    with pytest.raises(FinalSaveError) as raised:
        trainer.run()
    kept = latest_checkpoint(trainer.paths.checkpoints)
    saved_at = next(e["frame"] for e in read_events(trainer.paths.events)
                    if e["message"].startswith("saved gen-000001"))
    assert kept.name == "gen-000001"
    assert str(raised.value) == (
        "the final checkpoint (frame 800) could not be written: No space left on device "
        f"(errno 28). Its partial files are removed; the newest good checkpoint is gen-000001 "
        f"(frame {saved_at:,}), which `latest` names. Free some space and run the same "
        "command to resume from it.")
    assert _errors(trainer)[-1] == str(raised.value)
    assert read_events(trainer.paths.events)[-1]["run_end"] == "failed"
    assert trainer.game_view._closed  # closed all the same


@needs_dev_full
def test_metrics_rows_the_disk_refuses_are_told_once_and_held(tmp_path, capsys):
    cfg = chain_cfg(tmp_path, **{"run.frames": 800})
    trainer = chain_trainer(cfg)
    trainer.paths.metrics.symlink_to(DEV_FULL)
    trainer.run()
    errors = _errors(trainer)
    assert len(errors) == 1  # one failing spell, one event, however many rows
    assert errors[0].startswith("cannot write metrics.jsonl: No space left on device "
                                "(errno 28); 1 row held in memory")
    assert trainer.writes.rows_held > 1 and trainer.writes.failing == {
        "metrics.jsonl": "No space left on device (errno 28)"}
    assert latest_checkpoint(trainer.paths.checkpoints) is not None  # the run ended normally
    assert capsys.readouterr().err.count("cannot write metrics.jsonl") == 1


@needs_dev_full
def test_an_events_file_the_disk_refuses_is_told_on_stderr_and_its_events_held(
        tmp_path, capsys):
    cfg = chain_cfg(tmp_path, **{"run.frames": 400})
    paths_dir = tmp_path / "chain"
    paths_dir.mkdir()
    (paths_dir / "events.jsonl").symlink_to(DEV_FULL)
    trainer = chain_trainer(cfg)
    trainer.run()
    err = capsys.readouterr().err
    assert err.count("cannot write events.jsonl: No space left on device (errno 28)") == 1
    assert trainer.events.held >= 3  # learner mode, checkpoint, and the failure itself
    assert read_rows(trainer.paths.metrics)[-1]["frame"] == 400


def test_a_site_that_works_again_is_told_once(tmp_path):
    said: list[str] = []
    writes = RunWrites(EventLog(tmp_path / "events.jsonl"), tmp_path / "checkpoints", said.append)
    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    for _ in range(3):
        writes.game_view_written(full)
    writes.game_view_written(None)
    writes.game_view_written(None)
    assert said == ["cannot write game.json: No space left on device (errno 28); the "
                    "dashboard's game view stands still",
                    "game.json is written again (it had failed: No space left on device "
                    "(errno 28))"]
    events = read_events(tmp_path / "events.jsonl")
    assert [(e["kind"], e["site"]) for e in events] == [("error", "game.json"),
                                                        ("info", "game.json")]
    assert events[0]["errno"] == errno.ENOSPC


def test_errors_are_described_without_their_python_dress():
    assert describe(OSError(errno.EIO, "Input/output error")) == "Input/output error (errno 5)"
    assert describe(OSError("odd")) == "odd"
    assert describe(OSError()) == "OSError"


def test_the_preflight_warns_when_two_checkpoints_do_not_fit(tmp_path):
    free = os.statvfs(tmp_path).f_bavail * os.statvfs(tmp_path).f_frsize
    assert space_warning(tmp_path / "run" / "checkpoints", free // 4) is None
    warning = space_warning(tmp_path / "run" / "checkpoints", free // 2 + 10**6)
    assert warning is not None and str(tmp_path) in warning  # the nearest existing folder
    assert "--replay.capacity" in warning and "less than the two a save needs" in warning


def test_a_real_run_on_a_filesystem_that_fills_keeps_training_and_stops_cleanly(tmp_path):
    """`tempest-dqn train` on a 4 MB tmpfs: the first checkpoints fit, later ones do not; the
    run trains to its last frame, says each failure, and its final save's failure ends it with
    exit code 1, a plain message and no traceback, `latest` on an intact generation."""
    with small_filesystem(tmp_path / "disk", size_kb=4096) as disk:
        result = run("train", "--preset", "smoke", "--no-tui", "--run-dir", str(disk),
                     "--run.name", "full", "--frames", "3000",
                     "--run.checkpoint-every-s", "0.2", timeout=600)
        checkpoints = disk / "full" / "checkpoints"
        events = read_events(disk / "full" / "events.jsonl")
        rows = read_rows(disk / "full" / "metrics.jsonl")
        latest = latest_checkpoint(checkpoints)
        assert latest is not None and problem_with(latest) is None
        assert not [p for p in checkpoints.iterdir() if p.name.startswith(".")]
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0].startswith("one checkpoint of this run takes about")
    last_line = result.stderr.splitlines()[-1]
    assert last_line.startswith(f"tempest-dqn: the final checkpoint (frame {rows[-1]['frame']:,}) "
                                "could not be written: No space left on device (errno 28)")
    assert f"the newest good checkpoint is {latest.name}" in last_line
    failed = [e for e in events if e["message"].startswith("checkpoint failed")]
    assert failed and rows[-1]["frame"] >= 3000  # it failed, and trained on to the end
    assert any(row["t"] > failed[0]["t"] for row in rows)
