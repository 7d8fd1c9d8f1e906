"""The trainer says in events.jsonl when it starts and how it ends (agent.lifecycle)."""

from __future__ import annotations

import os
import socket

import pytest

from metrics.control import send_command
from metrics.events import read_events
from tests.agent.chain_runs import chain_cfg, chain_trainer


def _life(trainer) -> list[dict]:
    return [e for e in read_events(trainer.paths.events) if "run_start" in e or "run_end" in e]


def test_a_run_that_reaches_its_frames_finished(tmp_path):
    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 400}))
    trainer.run()
    begun, ended = _life(trainer)
    assert (begun["run_start"], begun["pid"], begun["host"]) == (0, os.getpid(),
                                                                 socket.gethostname())
    assert begun["message"] == f"training from frame 0 (pid {os.getpid()})"
    assert (ended["run_end"], ended["reason"], ended["frame"]) == ("finished", "end of run", 400)
    assert ended["message"] == "run finished at frame 400 (end of run)"


def test_a_quit_command_stops_it_and_a_resume_starts_it_again(tmp_path):
    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 400}))
    trainer.inbox.discard_pending = lambda: 0
    send_command(trainer.paths.root, "quit")
    trainer.run()
    again = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 400}))
    assert again.resume()
    again.run()
    assert [(e.get("run_start"), e.get("run_end"), e.get("reason")) for e in _life(again)] == [
        (0, None, None), (None, "stopped", "quit"), (0, None, None),
        (None, "finished", "end of run")]


def test_an_exception_in_the_loop_is_logged_as_a_crash_and_raised(tmp_path):
    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 400}))

    def broken_step():
        raise RuntimeError("boom")

    trainer.step = broken_step
    with pytest.raises(RuntimeError, match="boom"):
        trainer.run()
    assert _life(trainer)[-1]["run_end"] == "crashed"
    assert _life(trainer)[-1]["reason"] == "RuntimeError: boom"
