"""events.jsonl: EventLog and read_events."""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics.events import EVENT_KINDS, EventLog, read_events
from metrics.sink import MetricsFileError
from tests.small_disk import fill, small_filesystem


def test_events_round_trip_on_the_run_clock(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    ticks = iter([1.5, 2.5])
    with EventLog(path, clock=lambda: next(ticks)) as log:
        log.log("checkpoint", "saved", path="checkpoints/latest", frame=1000)
        log.log("command", command="pause")
    first, second = read_events(path)
    assert first["t"] == 1.5 and first["kind"] == "checkpoint" and first["frame"] == 1000
    assert first["message"] == "saved" and isinstance(first["unix"], float)
    assert second == second | {"t": 2.5, "kind": "command", "message": "", "command": "pause"}


def test_every_kind_is_accepted_and_others_refused(tmp_path: Path) -> None:
    with EventLog(tmp_path / "events.jsonl") as log:
        for kind in EVENT_KINDS:
            assert log.log(kind)["t"] >= 0.0
        with pytest.raises(ValueError, match="unknown event kind 'oops'"):
            log.log("oops")
        with pytest.raises(ValueError, match="may not replace"):
            log.log("info", t=3.0)
    assert [e["kind"] for e in read_events(tmp_path / "events.jsonl")] == list(EVENT_KINDS)


def test_reader_names_bad_events(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_text('{"t": 1, "kind": "info"}\n{"t": 2, "kind": "gossip"}\n{"kind": "info"}\n')
    with pytest.raises(MetricsFileError, match=":2: kind 'gossip' is not one of"):
        read_events(path)
    path.write_text('{"t": 1, "kind": "info"}\n{"kind": "info"}\n{"t": 3, "ki')
    with pytest.raises(MetricsFileError, match=":2: missing required key 't'"):
        read_events(path, strict=False)
    path.write_text('{"t": 1, "kind": "info"}\n{"t": 3, "ki')
    assert len(read_events(path, strict=False)) == 1



def test_an_event_the_file_refuses_is_held_and_written_before_the_next(tmp_path: Path) -> None:
    with small_filesystem(tmp_path / "disk", size_kb=64) as disk:
        log = EventLog(disk / "events.jsonl", clock=lambda: 1.0)
        filler = fill(disk)
        log.log("error", "the disk is full")  # no exception: logging never stops a run
        assert log.held == 1 and log.write_error is not None and log.write_error.errno == 28
        log.retry()
        assert log.held == 1
        filler.unlink()
        log.log("info", "space again")
        assert log.write_error is None and log.held == 0
        log.close()
        assert [e["message"] for e in read_events(disk / "events.jsonl")] == [
            "the disk is full", "space again"]
