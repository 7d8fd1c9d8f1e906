"""Whether a run runs: start and end events, and the trainer's process on this host."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys

import pytest

from metrics.events import pid_alive
from tests.tui.helpers import SMALL, append_events, make_row, widget_text, write_run
from tui.app import DashboardApp
from tui.lifecycle import Lifecycle

HOST = socket.gethostname()


def start(pid: int = 4242, host: str = HOST) -> dict:
    return {"t": 0.0, "kind": "info", "message": "training", "run_start": 0, "pid": pid,
            "host": host}


def end(how: str, reason: str, frame: int = 4000) -> dict:
    return {"t": 9.0, "kind": "info", "message": "run ended", "run_end": how, "reason": reason,
            "frame": frame}


def test_a_dead_process_is_told_from_a_live_one():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    assert pid_alive(os.getpid()) and not pid_alive(child.pid)


@pytest.mark.parametrize(("how", "reason", "note", "tone"), [
    ("finished", "end of run", "run finished at frame 4,000 (end of run); a higher --frames "
     "with the same command trains on", ""),
    ("stopped", "quit", "run stopped at frame 4,000 (quit); the same `tempest-dqn train` "
     "command resumes it", ""),
    ("failed", "the final checkpoint could not be written", "run failed at frame 4,000 (the "
     "final checkpoint could not be written); see the events", "bad"),
    ("crashed", "RuntimeError: boom", "run crashed at frame 4,000 (RuntimeError: boom); see the "
     "events", "bad"),
])  # fmt: skip
def test_an_end_event_names_how_the_run_ended(how, reason, note, tone):
    life = Lifecycle(alive=lambda pid: True)
    life.take([start(), end(how, reason)])
    assert life.state(rows_stale=False) == how
    assert life.note(rows_stale=True) == (note, tone)


def test_a_start_after_an_end_means_running_again():
    life = Lifecycle(alive=lambda pid: True)
    life.take([start(), end("stopped", "quit")])
    life.take([start(pid=5151)])
    assert life.state(rows_stale=False) is None and life.note(rows_stale=False) is None


def test_died_needs_stale_rows_a_gone_process_and_this_host():
    gone = Lifecycle(alive=lambda pid: False)
    gone.take([start()])
    assert gone.state(rows_stale=False) is None  # rows still arriving: not dead
    assert gone.state(rows_stale=True) == "died"
    assert gone.note(rows_stale=True)[0].startswith("the trainer (pid 4242) is gone")
    elsewhere = Lifecycle(alive=lambda pid: False)
    elsewhere.take([start(host="another-host")])
    assert elsewhere.state(rows_stale=True) is None  # a pid on another host says nothing
    alive = Lifecycle(alive=lambda pid: True)
    alive.take([start()])
    assert alive.state(rows_stale=True) is None  # stale but alive: the stale line says so


def test_the_dashboard_says_a_finished_run_is_finished_and_a_killed_one_died(tmp_path):
    now = [1000.0]
    finished = write_run(tmp_path / "finished", [make_row(0), make_row(1)])
    append_events(finished, [start(pid=os.getpid()), end("finished", "end of run")])
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    killed = write_run(tmp_path / "killed", [make_row(0)])
    append_events(killed, [start(pid=child.pid)])

    async def look(run_dir):
        app = DashboardApp(run_dir, clock=lambda: now[0])
        async with app.run_test(size=SMALL) as pilot:
            await app.poll_once()
            await pilot.pause()
            before = widget_text(app, "#header")
            now[0] += 60.0
            await app.poll_once()
            await pilot.pause()
            return before, widget_text(app, "#header"), app.status.text

    header, _, status = asyncio.run(look(finished))
    assert "finished · " in header and "training" not in header
    assert status.startswith("run finished at frame 4,000 (end of run)")
    fresh, stale, status = asyncio.run(look(killed))
    assert "training · " in fresh  # rows still fresh: it may be running
    assert "died · " in stale and status.startswith(f"the trainer (pid {child.pid}) is gone")
