"""events.jsonl: what happened besides the numbers — checkpoints, commands, findings, problems.

Why a separate file: rows arrive on a fixed cadence and have a fixed schema; events are rare,
irregular and free-form.  Each event is `{"t", "kind", "message", ...}` where `t` is the run clock
(the same seconds-since-start as the rows' `t`, so a dashboard can place an event between rows)
and `unix` the wall-clock time, for matching against other logs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from metrics.sink import JsonlWriter, read_rows

EVENT_KINDS: tuple[str, ...] = ("checkpoint", "command", "finding", "warning", "error", "info")
"""checkpoint: saved/loaded; command: received from the control channel (or rejected);
finding: the doctor; warning / error / info: everything else worth a line."""

RUN_START, RUN_END = "run_start", "run_end"
"""The fields of the trainer's start event (the frame it starts from, with `pid` and `host`) and
end event (one of RUN_ENDS, with `reason` and `frame`): a reader tells a running run from one that
is not by them (agent.lifecycle writes them, the dashboard reads them)."""
RUN_ENDS: tuple[str, ...] = ("finished", "stopped", "failed", "crashed")
"""finished: its frames are done; stopped: a quit command or a signal; failed: the final
checkpoint could not be written; crashed: an exception ended the loop."""


def validate_event(event: object) -> list[str]:
    """Every way `event` breaks the event contract; [] if fine."""
    if not isinstance(event, dict):
        return [f"an event must be a JSON object, got {type(event).__name__}"]
    problems = [f"missing required key {key!r}" for key in ("t", "kind") if key not in event]
    t = event.get("t")
    if "t" in event and (not isinstance(t, int | float) or isinstance(t, bool)):
        problems.append(f"t must be a number, got {t!r}")
    if "kind" in event and event["kind"] not in EVENT_KINDS:
        problems.append(f"kind {event['kind']!r} is not one of {', '.join(EVENT_KINDS)}")
    return problems


class EventLog:
    """Appends events to events.jsonl, fsynced (events are rare and must survive a crash).

    `clock` gives the run time (seconds since the run started); the trainer passes its own so
    events and rows share a time axis.  Without one, seconds since this log was opened are used.

    Logging never fails for want of disk: an event the file does not take (a full disk) is held
    in memory and written before the next one, or by `retry`; `write_error` is the last such
    error (None once the file takes events again) and `held` how many wait.  Every part of the
    run logs events, and none of them should stop training because the disk is full.
    """

    def __init__(
        self, path: str | os.PathLike[str], clock: Callable[[], float] | None = None
    ) -> None:
        opened = time.monotonic()
        self.clock = clock or (lambda: time.monotonic() - opened)
        self._writer = JsonlWriter(path, fsync=True)
        self.path = self._writer.path
        self.write_error: OSError | None = None

    def log(self, kind: str, message: str = "", **fields: Any) -> dict[str, Any]:
        """Writes one event and returns it; `fields` may not replace t, kind, message or unix."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; use one of {', '.join(EVENT_KINDS)}")
        clash = {"t", "kind", "message", "unix"} & set(fields)
        if clash:
            raise ValueError(f"event fields may not replace {sorted(clash)}")
        event = {"t": float(self.clock()), "kind": kind, "message": message,
                 "unix": time.time(), **fields}  # fmt: skip
        self._attempt(lambda: self._writer.write(event))
        return event

    def retry(self) -> None:
        """Writes the held events, if any (a no-op when none wait)."""
        if self._writer.held:
            self._attempt(self._writer.retry)

    @property
    def held(self) -> int:
        """Events waiting in memory for the file to accept them."""
        return self._writer.held

    def _attempt(self, write: Callable[[], None]) -> None:
        try:
            write()
        except OSError as err:
            self.write_error = err
        else:
            self.write_error = None

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: str | os.PathLike[str], strict: bool = True) -> list[dict[str, Any]]:
    """Every event of an events.jsonl file; same strict/lenient rules as `sink.read_rows`."""
    return read_rows(Path(path), strict=strict, validator=validate_event)


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this host (signal 0 asks without sending): a
    run's trainer (its start event's `pid`), or the owner of a save's leftovers."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    return True
