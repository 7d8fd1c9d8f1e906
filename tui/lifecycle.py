"""Is the run running?  Its start and end events, and on the trainer's host its process.

Why: rows that stop arriving say nothing about why.  The trainer logs a start event and, unless it
is killed, an end event (metrics.events.RUN_START / RUN_END; agent.lifecycle).  With them the
dashboard's header says "finished", "stopped", "failed" or "crashed" for a run that ended, and
"died" for one whose rows went stale while its process (same host only: a pid means nothing
elsewhere) is gone, instead of "training" over a question.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterable
from typing import Any

from metrics.events import RUN_END, RUN_ENDS, RUN_START, pid_alive

Event = dict[str, Any]
DIED = "died"
NOT_RUNNING = (*RUN_ENDS, DIED)


class Lifecycle:
    """The run's last start event and the end event that followed it, if any."""

    def __init__(self, host: str | None = None,
                 alive: Callable[[int], bool] = pid_alive) -> None:
        self.host = host or socket.gethostname()
        self.alive = alive
        self.start: Event | None = None
        self.end: Event | None = None

    def take(self, events: Iterable[Event]) -> None:
        """New events, oldest first: a start clears the end before it."""
        for event in events:
            if RUN_START in event:
                self.start, self.end = event, None
            elif event.get(RUN_END) in RUN_ENDS:
                self.end = event

    def state(self, rows_stale: bool) -> str | None:
        """One of NOT_RUNNING for a run that is not running; None while it may be."""
        if self.end is not None:
            return str(self.end[RUN_END])
        if rows_stale and self._process_gone():
            return DIED
        return None

    def note(self, rows_stale: bool) -> tuple[str, str] | None:
        """(status line, tone) for a run that is not running, None otherwise."""
        state = self.state(rows_stale)
        if state is None:
            return None
        if state == DIED:
            pid = self.start.get("pid") if self.start else None
            return (f"the trainer (pid {pid}) is gone without an end event: killed? The same "
                    "`tempest-dqn train` command resumes from its last checkpoint", "bad")
        frame, reason = self.end.get("frame"), self.end.get("reason", "")  # type: ignore[union-attr]
        at = f" at frame {frame:,}" if isinstance(frame, int) else ""
        resume = {"finished": "a higher --frames with the same command trains on",
                  "stopped": "the same `tempest-dqn train` command resumes it"}
        tone = "" if state in resume else "bad"
        return f"run {state}{at} ({reason}); {resume.get(state, 'see the events')}", tone

    def _process_gone(self) -> bool:
        start = self.start or {}
        pid = start.get("pid")
        if start.get("host") != self.host or not isinstance(pid, int):
            return False  # another host's pid, or none: nothing to ask
        return not self.alive(pid)
