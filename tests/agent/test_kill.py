"""kill -9 of a real `tempest-dqn train` at random moments, most of them during a save: every
kill leaves `latest` on a generation that verifies, and the next start resumes from it.

Checkpoints are taken every 50 ms, so a save is in progress much of the time; half the kills
wait for one (its temporary directory appearing), the others fall at a random moment after the
run has started.  One seeded sequence, 20 kills, bounded by the processes' start-up (a few
seconds each).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

import config
from agent.checkpoint import generation_number, latest_checkpoint, list_generations
from agent.generations import problem_with
from metrics import read_rows
from metrics.events import read_events

KILLS = 20
REPO = Path(__file__).resolve().parents[2]


def _start(run_dir: Path, log: Path) -> subprocess.Popen:
    environ = {k: v for k, v in os.environ.items() if k not in config.ENV_FLAGS}
    return subprocess.Popen(
        [sys.executable, "-m", "agent", "train", "--preset", "smoke", "--no-tui",
         "--run-dir", str(run_dir), "--run.name", "killed", "--frames", "100000000",
         "--run.checkpoint-every-s", "0.05"],
        cwd=REPO, env=environ, stdout=subprocess.DEVNULL, stderr=open(log, "w"))  # noqa: SIM115


def _wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.002)
    return False


def _started(log: Path, process: subprocess.Popen) -> bool:
    """The run says it is training (or the process is already gone)."""
    return "training Tempest-v0" in log.read_text() or process.poll() is not None


def _newest(checkpoints: Path) -> int:
    """The newest generation's number, 0 before the first (old ones are rotated away)."""
    found = list_generations(checkpoints) if checkpoints.exists() else []
    return generation_number(found[-1]) if found else 0


def _saved_after(checkpoints: Path, newest: int) -> bool:
    return _newest(checkpoints) > newest


def _saving(checkpoints: Path) -> bool:
    """A generation is being written (its temporary directory exists)."""
    try:
        return any(p.name.startswith(".gen-") for p in os.scandir(checkpoints))
    except FileNotFoundError:
        return False


def test_kill_9_during_saves_never_costs_a_verified_generation(tmp_path):
    rng = random.Random(0)
    run = tmp_path / "killed"
    checkpoints = run / "checkpoints"
    starts = []
    for kill in range(KILLS):
        log = tmp_path / f"start-{kill}.log"
        process = _start(tmp_path, log)
        assert _wait_for(partial(_started, log, process), timeout=120), "no start in 2 minutes"
        assert process.poll() is None, log.read_text()
        starts.append(log.read_text())
        _wait_for(partial(_saved_after, checkpoints, _newest(checkpoints)),
                  timeout=30)  # at least one save of its own, so kills fall among saves
        if kill % 2 == 0:
            _wait_for(lambda: _saving(checkpoints), timeout=5)
        else:
            time.sleep(rng.uniform(0.0, 0.3))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        latest = latest_checkpoint(checkpoints)
        assert latest is not None and problem_with(latest) is None, f"kill {kill}: {latest}"
    resumed = [s for s in starts if "(resumed at frame" in s]
    assert len(resumed) == KILLS - 1  # every start after the first resumed
    assert all(problem_with(g) is None for g in list_generations(checkpoints))
    leftovers = [p.name for p in checkpoints.iterdir() if p.name.startswith(".")]
    assert all(p.endswith(f"-{process.pid}") for p in leftovers)  # only the last kill's
    read_rows(run / "metrics.jsonl", strict=False)  # every complete line still parses
    assert sum(e["message"].startswith("resumed from") for e in read_events(
        run / "events.jsonl", strict=False)) == KILLS - 1
