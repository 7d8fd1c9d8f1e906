"""A run's start and end in events.jsonl, so that a reader can tell a running run from one that
finished, was stopped, failed or died.

Rows alone cannot say it: a run whose rows stopped may have finished its frames, been stopped
with `q`, lost its final save to a full disk, crashed, or been killed (-9, an OOM kill, a power
cut).  The trainer logs a start event (`run_start`: the frame, with the process id and host, so
that a dashboard on the same host can ask whether the process still lives) and, however the loop
ends short of a kill, an end event (`run_end`: one of metrics.events.RUN_ENDS, with `reason` and
`frame`).  No end event after the last start, and no process, means the run died.
"""

from __future__ import annotations

import contextlib
import os
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from agent.writes import FinalSaveError
from metrics import EventLog
from metrics.events import RUN_END, RUN_START


@dataclass
class Ending:
    """Why the loop stopped, set by the trainer: "end of run", "quit" or "signal"."""

    reason: str = "end of run"


@contextlib.contextmanager
def announced(events: EventLog, frame: Callable[[], int]) -> Iterator[Ending]:
    """Logs the run's start, then its end however the block ends (an exception is re-raised)."""
    start = frame()
    events.log("info", f"training from frame {start:,} (pid {os.getpid()})",
               **{RUN_START: start}, pid=os.getpid(), host=socket.gethostname())
    ending = Ending()
    try:
        yield ending
    except FinalSaveError:
        _ended(events, "failed", "the final checkpoint could not be written", frame())
        raise
    except BaseException as err:
        _ended(events, "crashed", f"{type(err).__name__}: {err}", frame())
        raise
    how = "finished" if ending.reason == "end of run" else "stopped"
    _ended(events, how, ending.reason, frame())


def _ended(events: EventLog, how: str, reason: str, frame: int) -> None:
    events.log("info", f"run {how} at frame {frame:,} ({reason})", **{RUN_END: how},
               reason=reason, frame=frame)
