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
    """

    def __init__(
        self, path: str | os.PathLike[str], clock: Callable[[], float] | None = None
    ) -> None:
        opened = time.monotonic()
        self.clock = clock or (lambda: time.monotonic() - opened)
        self._writer = JsonlWriter(path, fsync=True)
        self.path = self._writer.path

    def log(self, kind: str, message: str = "", **fields: Any) -> dict[str, Any]:
        """Writes one event and returns it; `fields` may not replace t, kind, message or unix."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}; use one of {', '.join(EVENT_KINDS)}")
        clash = {"t", "kind", "message", "unix"} & set(fields)
        if clash:
            raise ValueError(f"event fields may not replace {sorted(clash)}")
        event = {"t": float(self.clock()), "kind": kind, "message": message,
                 "unix": time.time(), **fields}  # fmt: skip
        self._writer.write(event)
        return event

    def close(self) -> None:
        self._writer.close()

    def __enter__(self) -> EventLog:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_events(path: str | os.PathLike[str], strict: bool = True) -> list[dict[str, Any]]:
    """Every event of an events.jsonl file; same strict/lenient rules as `sink.read_rows`."""
    return read_rows(Path(path), strict=strict, validator=validate_event)
