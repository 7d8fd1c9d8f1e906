"""metrics.jsonl: one JSON object per line; a writer, a strict/lenient reader and a live follower.

Why JSON lines: a row is complete once its newline is written, so a reader can always tell a
finished row from one being written (or cut short by a crash) — the last line without a newline.

Non-finite numbers: JSON has no NaN or Infinity (Python's `json` would write the non-standard
tokens `NaN`/`Infinity` that other readers reject), so the writer stores null for them.  A NaN
loss is still visible: `nonfinite_steps` counts the learner steps it skipped.
"""

from __future__ import annotations

import contextlib
import json
import math
import numbers
import os
import threading
from collections import deque
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from metrics.schema import validate_row

Validator = Callable[[object], list[str]]


class MetricsFileError(ValueError):
    """A line of a JSONL file that breaks the contract; names the file, the line and the problem."""

    def __init__(self, path: str | os.PathLike[str], line: int, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}")
        self.path, self.line, self.problem = Path(path), line, problem


def to_json_value(value: Any, where: str = "row") -> Any:
    """Plain JSON value of `value`: numpy scalars/arrays unwrapped, non-finite floats as None."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return number if math.isfinite(number) else None
    if isinstance(value, Mapping):
        return {str(k): to_json_value(v, f"{where}.{k}") for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json_value(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if hasattr(value, "tolist"):  # numpy arrays and numpy scalars (np.bool_ included)
        return to_json_value(value.tolist(), where)
    raise TypeError(f"{where}: {type(value).__name__} {value!r} cannot be written as JSON")


HELD_LINES_LIMIT = 100_000
"""Lines a writer keeps in memory while its file cannot be written (a full disk): about a day of
rows at one a second, a few tens of MB; beyond it the oldest are dropped and counted."""


class JsonlWriter:
    """Appends JSON objects to a file, one per line, written whole or not at all (optionally
    fsynced).

    On open, a last line without a newline (left by a crashed writer) is cut off, so that the next
    row does not get glued onto it; `dropped_tail_bytes` says how much was cut, for a warning.

    A write that fails (a full disk, an I/O error) leaves no part of its line in the file: the
    bytes that did land are cut off again, the line is held in memory (`held`, at most
    `HELD_LINES_LIMIT`; older ones beyond that are counted in `lost`) and the OSError is raised.
    The next `write` or `retry` writes the held lines first, in order, so a full disk that is
    freed loses nothing.
    """

    def __init__(self, path: str | os.PathLike[str], fsync: bool = False) -> None:
        self.path = Path(path)
        self.fsync = fsync
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.dropped_tail_bytes = _cut_partial_tail(self.path)
        self._file = open(self.path, "ab", buffering=0)  # closed by close()
        self._lock = threading.Lock()  # the learner thread and the loop may both write
        self._held: deque[bytes] = deque()
        self.lost = 0
        """Held lines dropped because more than HELD_LINES_LIMIT were waiting."""

    @property
    def held(self) -> int:
        """Lines waiting in memory for the file to accept them."""
        return len(self._held)

    def write(self, obj: Mapping[str, Any]) -> None:
        """Writes one object as one line (after any held lines); raises TypeError for what JSON
        cannot hold and OSError, with the line held, when the file cannot be written."""
        if not isinstance(obj, Mapping):
            raise TypeError(f"a JSONL line must be an object, got {type(obj).__name__}")
        line = json.dumps(to_json_value(obj), allow_nan=False, separators=(",", ":"))
        with self._lock:
            self._held.append((line + "\n").encode())
            if len(self._held) > HELD_LINES_LIMIT:
                self._held.popleft()
                self.lost += 1
            self._write_held()

    def retry(self) -> None:
        """Writes the held lines, if any; raises OSError (still holding them) if it cannot."""
        with self._lock:
            self._write_held()

    def _write_held(self) -> None:
        while self._held:
            self._append(self._held[0])
            self._held.popleft()

    def _append(self, data: bytes) -> None:
        """`data` at the end of the file, all of it or (after an OSError) none of it."""
        size = os.fstat(self._file.fileno()).st_size
        try:
            view = memoryview(data)
            while view:
                view = view[self._file.write(view):]
            if self.fsync:
                os.fsync(self._file.fileno())
        except OSError:
            with contextlib.suppress(OSError):
                os.ftruncate(self._file.fileno(), size)
            raise

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> JsonlWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _cut_partial_tail(path: Path) -> int:
    """Truncates `path` after its last newline; returns the bytes removed (0 if none)."""
    try:
        with open(path, "rb+") as file:
            size = file.seek(0, os.SEEK_END)
            if size == 0:
                return 0
            pos = size
            while pos > 0:
                step = min(4096, pos)
                file.seek(pos - step)
                chunk = file.read(step)
                newline = chunk.rfind(b"\n")
                if newline >= 0:
                    keep = pos - step + newline + 1
                    break
                pos -= step
            else:
                keep = 0
            file.truncate(keep)
            return size - keep
    except FileNotFoundError:
        return 0


def parse_line(
    text: bytes | str, path: str | os.PathLike[str], line: int, validator: Validator | None
) -> dict[str, Any]:
    """One line -> object; raises MetricsFileError naming the line and the first problem."""
    try:
        obj = json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise MetricsFileError(path, line, json_problem(exc)) from None
    if not isinstance(obj, dict):
        raise MetricsFileError(path, line, f"not a JSON object but {type(obj).__name__}")
    problems = validator(obj) if validator else []
    if problems:
        raise MetricsFileError(path, line, "; ".join(problems))
    return obj


def read_rows(
    path: str | os.PathLike[str], strict: bool = True, validator: Validator | None = validate_row
) -> list[dict[str, Any]]:
    """Reads every row of a JSONL file; blank lines are skipped.

    strict: any bad line raises MetricsFileError naming the line and the problem (the missing
        key by name).  Lenient (strict=False): a last line without a newline that does not parse
        is skipped, because a writer may be in the middle of it; every other problem (a complete
        line that is not JSON, an object missing a key) still raises, so a corrupted file is
        never silently half-read.
    validator: checks each object (default: the §5 row contract); None accepts any object.
    """
    return read_rows_and_tail(path, strict, validator)[0]


def read_rows_and_tail(
    path: str | os.PathLike[str], strict: bool = True, validator: Validator | None = validate_row
) -> tuple[list[dict[str, Any]], int]:
    """`read_rows`, and the bytes of the half-written last line a lenient read skipped (0 when
    none was), for a reader that says so (`tempest-dqn doctor`)."""
    data = Path(path).read_bytes()
    lines = data.split(b"\n")
    unterminated = lines.pop()  # b"" when the file ends with a newline
    rows = [
        parse_line(text, path, number, validator)
        for number, text in enumerate(lines, start=1)
        if text.strip()
    ]
    if not unterminated.strip():
        return rows, 0
    if not strict and not _is_json(unterminated):
        return rows, len(unterminated)
    number = len(lines) + 1
    try:
        rows.append(parse_line(unterminated, path, number, validator))
    except MetricsFileError as exc:
        raise MetricsFileError(
            path, number, f"{exc.problem} (the file ends mid-line: cut by a crash?)"
        ) from None
    return rows, 0


def json_problem(exc: ValueError) -> str:
    """A parse error in words, without the decoder's own 'line 1' (we count file lines)."""
    if isinstance(exc, json.JSONDecodeError):
        return f"not JSON ({exc.msg} at column {exc.colno})"
    return f"not UTF-8 text ({exc})"


def _is_json(text: bytes) -> bool:
    try:
        json.loads(text)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return False
    return True


class RowFollower:
    """Polled by a live reader (the dashboard): returns the complete rows added since last time.

    Tolerates a file that does not exist yet (no rows), a last line still being written (left for
    the next poll) and a file replaced or truncated by a new run (starts again from its top).
    A complete line that is bad does not stop the follower: it is skipped and its
    MetricsFileError is appended to `problems`, for the reader to show.
    """

    def __init__(
        self, path: str | os.PathLike[str], validator: Validator | None = validate_row
    ) -> None:
        self.path = Path(path)
        self.validator = validator
        self.problems: list[MetricsFileError] = []
        self._offset = 0
        self._line = 0
        self._inode: int | None = None

    def carry_on_from(self, offset: int, line: int) -> None:
        """The next poll reads from byte `offset`, the start of line `line + 1` of the file as
        it is now (after metrics.skim has read what comes before)."""
        self._inode = os.stat(self.path).st_ino
        self._offset, self._line = offset, line

    def poll(self) -> list[dict[str, Any]]:
        """New complete rows, oldest first; [] when there are none (or no file yet)."""
        try:
            with open(self.path, "rb") as file:
                stat = os.fstat(file.fileno())
                if stat.st_ino != self._inode or stat.st_size < self._offset:
                    self._inode, self._offset, self._line = stat.st_ino, 0, 0
                file.seek(self._offset)
                data = file.read()
        except FileNotFoundError:
            return []
        complete = data[: data.rfind(b"\n") + 1]
        self._offset += len(complete)
        return self._parse(complete.split(b"\n")[:-1])

    def _parse(self, lines: list[bytes]) -> list[dict[str, Any]]:
        rows = []
        for text in lines:
            self._line += 1
            if not text.strip():
                continue
            try:
                rows.append(parse_line(text, self.path, self._line, self.validator))
            except MetricsFileError as exc:
                self.problems.append(exc)
        return rows
