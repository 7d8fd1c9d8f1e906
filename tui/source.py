"""The run directory, read incrementally: new metrics rows, new events, config.json, and its state.
On request (while the game panel is shown) it also reads game.json, the trainer's game snapshot.

Why its own module: everything that touches the disk is here, behind one `poll()` that never
raises and reads only what is new (a few stats and the bytes appended since), so the app can
run it in its event loop and a vanished or unreadable run directory cannot crash the
dashboard.  The state it reports (directory missing, deleted, no
metrics yet, a malformed line) becomes the status line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NamedTuple

from metrics.events import validate_event
from metrics.gameview import read_game_view
from metrics.runfiles import CONFIG_FILE, EVENTS_FILE, METRICS_FILE
from metrics.sink import RowFollower
from metrics.skim import Skim, skim

MISSING_DIR = "missing_dir"
DELETED_DIR = "deleted_dir"
NO_METRICS = "no_metrics"
NO_ROWS = "no_rows"
OK = "ok"


class Poll(NamedTuple):
    """What one poll found."""

    state: str
    """MISSING_DIR (never seen), DELETED_DIR (gone since), NO_METRICS, NO_ROWS or OK."""
    rows: list[dict[str, Any]]
    events: list[dict[str, Any]]
    config: dict[str, Any] | None
    """config.json's content the first time it is read, else None."""
    problems: list[str]
    """Lines skipped because they break the contract, and config.json errors."""
    partial_bytes: bool = False
    """metrics.jsonl holds bytes but no complete row yet (a first line being written)."""
    game_read: bool = False
    """game.json was asked for (the game panel is shown); `game` holds what was found."""
    game: dict[str, Any] | None = None
    """game.json's snapshot when `game_read`; None when absent or unreadable."""
    skim: Skim | None = None
    """On the first poll of a long metrics.jsonl: the rows a History keeps of it (metrics.skim);
    `rows` then holds only what came after."""


SKIM_BYTES = 8 << 20
"""A metrics.jsonl longer than this (~10,000 rows) is skimmed on attach, not read row by row."""


class RunSource:
    """Follows one run directory; `poll()` returns what is new since the previous call.

    `keep` (recent rows, whole-run points) is what the reader keeps of the rows (tui.model's
    History): a long file is skimmed to just those on the first poll (metrics.skim)."""

    def __init__(self, run_dir: str | Path, keep: tuple[int, int] | None = None) -> None:
        self.keep = keep
        self.run_dir = Path(run_dir)
        self.metrics_path = self.run_dir / METRICS_FILE
        self.events_path = self.run_dir / EVENTS_FILE
        self.config_path = self.run_dir / CONFIG_FILE
        self._metrics = RowFollower(self.metrics_path)
        self._events = RowFollower(self.events_path, validator=validate_event)
        self._seen_dir = False
        self._seen_rows = False
        self._config_loaded = False
        self._config_error = ""

    def poll(self, game: bool = False) -> Poll:
        """Never raises: an OS error reading a file is reported as a problem.

        game: also read game.json (only while the game panel is shown: it changes 4 times a
        second and nothing else needs it)."""
        try:
            found = self._poll()
        except OSError as exc:  # permissions, a disk gone away: say so, try again next time
            state = OK if self._seen_dir else MISSING_DIR
            found = Poll(state, [], [], None, [f"read error: {exc}"])
        if game:
            found = found._replace(game_read=True, game=read_game_view(self.run_dir))
        return found

    def _poll(self) -> Poll:
        if not self.run_dir.is_dir():
            return Poll(DELETED_DIR if self._seen_dir else MISSING_DIR, [], [], None, [])
        self._seen_dir = True
        config, problems = self._read_config()
        skimmed = self._skim_long_file()
        rows, events = self._metrics.poll(), self._events.poll()
        problems += [f"{p.path.name}:{p.line}: {p.problem}"
                     for p in self._metrics.problems + self._events.problems]
        self._metrics.problems.clear()
        self._events.problems.clear()
        if skimmed is not None:
            problems += [f"{p.path.name}:{p.line}: {p.problem}" for p in skimmed.problems]
        self._seen_rows = self._seen_rows or bool(rows) or bool(skimmed and skimmed.count)
        state, partial = OK, False
        if not self._seen_rows:
            size = self._size(self.metrics_path)
            state = NO_METRICS if size is None else NO_ROWS
            partial = bool(size)
        return Poll(state, rows, events, config, problems, partial, skim=skimmed)

    def _skim_long_file(self) -> Skim | None:
        """The first time metrics.jsonl is seen, if it is long: what the reader keeps of it,
        the follower carrying on after it."""
        if self._seen_rows or self.keep is None:
            return None
        size = self._size(self.metrics_path)
        if size is None or size < SKIM_BYTES:
            return None
        recent, whole_limit = self.keep
        skimmed = skim(self.metrics_path, recent, whole_limit)
        self._metrics.carry_on_from(skimmed.end, skimmed.count)
        return skimmed

    @staticmethod
    def _size(path: Path) -> int | None:
        try:
            return path.stat().st_size
        except FileNotFoundError:
            return None

    def _read_config(self) -> tuple[dict[str, Any] | None, list[str]]:
        """config.json once it is there and valid; an error is reported once per distinct error."""
        if self._config_loaded or not self.config_path.is_file():
            return None, []
        try:
            config = json.loads(self.config_path.read_text(encoding="utf-8"))
            if not isinstance(config, dict):
                raise ValueError(f"not a JSON object but {type(config).__name__}")
        except (ValueError, UnicodeDecodeError) as exc:
            error = f"{self.config_path}: {exc}"
            new = error != self._config_error
            self._config_error = error
            return None, [error] if new else []
        self._config_loaded = True
        return config, []


def status_line(
    state: str, run_dir: Path, rows: int, problem: str, stale_s: float | None, partial: bool
) -> tuple[str, str]:
    """(text, tone) of the status line; tone "bad" / "warn" / "" colours it.

    The run directory's path comes last: on a narrow terminal it is what gets cut.

    stale_s: seconds since new rows last arrived, when that is long enough to mention.
    problem: the last line skipped as malformed (kept on show: the file is damaged).
    """
    if state == MISSING_DIR:
        return f"run directory not found, waiting for it: {run_dir}", "warn"
    if state == DELETED_DIR:
        kept = f", showing the last {rows_text(rows)}" if rows else ""
        return f"run directory deleted{kept}: {run_dir}", "bad"
    if state == NO_METRICS:
        return f"waiting for metrics.jsonl in {run_dir}", "warn"
    if state == NO_ROWS:
        what = "the first row to be completed" if partial else "the first row"
        return f"metrics.jsonl has no rows yet, waiting for {what}: {run_dir}", "warn"
    if problem:
        return f"skipped a bad line, keeping the last good data: {problem}", "bad"
    if stale_s is not None:
        return f"no new row for {stale_s:.0f} s, is the trainer running? {rows_text(rows)}", "warn"
    return f"{rows_text(rows)} of metrics.jsonl in {run_dir}", ""


def rows_text(count: int) -> str:
    return f"{count:,} row" if count == 1 else f"{count:,} rows"
