"""The run's writes when the disk says no: training goes on, the failure is told, nothing is lost.

A run writes four kinds of files: checkpoints, metrics rows, events and the game view.  A full
disk (or any OSError) at any of them must not stop the training, whose weights and replay live in
memory: a failed checkpoint has already removed its partial files (agent.checkpoint writes into a
temporary directory) and is tried again at the next interval; a row or an event the file does not
take is held in memory and written first when it takes one again (metrics.sink.JsonlWriter); a
game-view snapshot is simply the next one.  What fails is said once when a site starts failing
and once when it works again, in events.jsonl (which the dashboard shows) and on stderr (the only
channel left when the events file is the one failing).

Only the final checkpoint cannot be retried: when it fails, `FinalSaveError` carries a message
that says what was kept (the newest good generation and its frame) and what was lost, and the CLI
exits non-zero with it, without a traceback.

Before the run, `space_warning` compares the free space with the size of two checkpoints (the
replay dominates): a new generation is written in full before an old one is dropped.
"""

from __future__ import annotations

import shutil
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from agent.checkpoint import CheckpointError, generation_frame, latest_checkpoint
from metrics import EventLog, JsonlWriter

if TYPE_CHECKING:
    import torch

METRICS_SITE, EVENTS_SITE, GAME_VIEW_SITE = "metrics.jsonl", "events.jsonl", "game.json"


class FinalSaveError(Exception):
    """The checkpoint at the end of the run could not be written; the message says what was
    kept.  The CLI prints it and exits 1."""


def _count(n: int, thing: str) -> str:
    return f"{n:,} {thing}" if n == 1 else f"{n:,} {thing}s"


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def describe(err: OSError) -> str:
    """'No space left on device (errno 28)' — the error without its Python dress."""
    if err.strerror:
        return f"{err.strerror} (errno {err.errno})" if err.errno else err.strerror
    return str(err) or type(err).__name__


class RunWrites:
    """Every write site of a run, and what happens when one fails.

    Args:
        events: the run's event log (it holds what it cannot write; see metrics.events).
        checkpoints: the run's checkpoints directory, for what a failure leaves.
        say: where a failure is also told (stderr by default; the tests collect it).
    """

    def __init__(self, events: EventLog, checkpoints: Path,
                 say: Callable[[str], None] = _stderr) -> None:
        self.events, self.checkpoints, self.say = events, checkpoints, say
        self.failing: dict[str, str] = {}
        """Sites failing now -> the error in words."""
        self.failed_checkpoints = 0
        self.rows_held = 0
        """Metrics rows the writer held after the last row (their file would not take them)."""
        self._lock = threading.Lock()  # the game view writes from its own thread

    def check_space(self, replay_bytes: int, parameters: Iterable[torch.Tensor]) -> None:
        """Preflight: warns (an event and `say`) when the checkpoints' filesystem cannot hold
        two checkpoints of a full replay and these network parameters."""
        parameter_bytes = sum(p.numel() * p.element_size() for p in parameters)
        warning = space_warning(self.checkpoints, checkpoint_bytes(replay_bytes, parameter_bytes))
        if warning:
            self._tell("warning", warning)

    # -- rows, events, the game view: told once per failing spell ---------------------------

    def failed(self, site: str, err: OSError, consequence: str) -> None:
        """`site` could not be written: told the first time it fails after working."""
        with self._lock:
            new = site not in self.failing
            self.failing[site] = describe(err)
        if new:
            self._tell("error", f"cannot write {site}: {describe(err)}; {consequence}",
                       site=site, errno=err.errno)

    def worked(self, site: str) -> None:
        """`site` was written: told if it had been failing."""
        with self._lock:
            was = self.failing.pop(site, None)
        if was is not None:
            self._tell("info", f"{site} is written again (it had failed: {was})", site=site)

    def row(self, writer: JsonlWriter, row: dict) -> None:
        """One metrics row into `writer`; on failure the writer holds it."""
        try:
            writer.write(row)
        except OSError as err:
            self.rows_held = writer.held
            self.failed(METRICS_SITE, err, f"{_count(writer.held, 'row')} held in memory and "
                        "written when it can be; training goes on")
        else:
            self.rows_held = 0
            self.worked(METRICS_SITE)

    def retry_events(self) -> None:
        """Writes the events held in memory, if any, and tells when the file starts or stops
        failing (called once per row interval)."""
        self.events.retry()
        err = self.events.write_error
        if err is not None:
            self.failed(EVENTS_SITE, err, f"{_count(self.events.held, 'event')} held in memory "
                        "and written when it can be; training goes on")
        else:
            self.worked(EVENTS_SITE)

    def game_view_written(self, err: OSError | None) -> None:
        """agent.gameview's report on each snapshot it wrote (None) or could not (the error)."""
        if err is None:
            self.worked(GAME_VIEW_SITE)
        else:
            self.failed(GAME_VIEW_SITE, err, "the dashboard's game view stands still")

    # -- checkpoints: every failure told ----------------------------------------------------------

    def checkpoint(self, save: Callable[[], None], retry_in_s: float | None) -> bool:
        """Runs `save` (a whole checkpoint); False, told, if it failed with an OSError.
        `retry_in_s`: when the next periodic checkpoint comes (None: none is planned)."""
        try:
            save()
        except OSError as err:
            self.failed_checkpoints += 1
            retry = f", next try in {retry_in_s:.0f} s" if retry_in_s else ""
            self._tell("error", f"checkpoint failed: {describe(err)}; its partial files are "
                       f"removed; {self.kept()}; training goes on{retry}",
                       site="checkpoint", errno=err.errno)
            return False
        return True

    def final_checkpoint(self, save: Callable[[], None], frame: int) -> None:
        """The checkpoint at the end of the run; raises FinalSaveError saying what was kept."""
        try:
            save()
        except OSError as err:
            message = (f"the final checkpoint (frame {frame:,}) could not be written: "
                       f"{describe(err)}. Its partial files are removed; {self.kept()}. "
                       f"{self._lost_lines()}Free some space and run the same command to "
                       f"resume from it.")
            self.events.log("error", message, site="checkpoint", errno=err.errno)
            raise FinalSaveError(message) from None

    def kept(self) -> str:
        """What a failed checkpoint leaves to resume from, in words."""
        try:
            generation = latest_checkpoint(self.checkpoints)
        except CheckpointError as err:
            return f"the newest checkpoint is unusable ({err})"
        if generation is None:
            return "no checkpoint of this run was saved before"
        frame = generation_frame(generation)
        at = f" (frame {frame:,})" if frame is not None else ""
        return f"the newest good checkpoint is {generation.name}{at}, which `latest` names"

    def _lost_lines(self) -> str:
        held = [(what, n) for what, n in (("metrics row", self.rows_held),
                                          ("event", self.events.held)) if n]
        return "".join(f"{_count(n, what)} could not be written and are lost. "
                       for what, n in held)

    def _tell(self, kind: str, message: str, **fields: object) -> None:
        self.events.log(kind, message, **fields)
        self.say(message)


def checkpoint_bytes(replay_bytes: int, parameter_bytes: int) -> int:
    """One checkpoint's size, full replay: the replay's arrays, and the network's parameters four
    times over (online, target, and Adam's two moments)."""
    return replay_bytes + 4 * parameter_bytes


def space_warning(checkpoints: Path, one_checkpoint: int) -> str | None:
    """A warning when the filesystem of `checkpoints` has less free space than two checkpoints
    take (the next is written in full before an older one is dropped); None when it has."""
    where = next(p for p in (checkpoints, *checkpoints.parents) if p.exists())
    free = shutil.disk_usage(where).free
    if free >= 2 * one_checkpoint:
        return None
    return (f"one checkpoint of this run takes about {_size(one_checkpoint)} once the replay is "
            f"full, and {where} has {_size(free)} free, less than the two a save needs: "
            f"checkpoints will fail (training goes on, and says so). Free some space, or lower "
            f"--replay.capacity")


def _size(n: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"
