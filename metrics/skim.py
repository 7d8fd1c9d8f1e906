"""A long metrics.jsonl read as the dashboard keeps it, without parsing every row.

Why: a month-long run at one row every 2 s writes about 1.3 million rows (a GB).  The dashboard
keeps the last few thousand rows and an evenly thinned sample of the whole run (tui.model.History:
every stride-th row, stride the smallest power of two that keeps at most `whole_limit` of them),
plus the newest row that carries an evaluation.  Parsing and validating every row to throw most
of them away took minutes at that size; skimming finds the line boundaries with numpy (one pass
over the bytes), parses only the rows that are kept, and searches backwards for the last
evaluation, so attaching costs seconds (`tempest-dqn bench attach`).

The result is exactly what reading every row into a History would keep, for a file that holds one
run (a resume's rows that go back in frames are kept as they are, not taken for a new run).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from metrics.schema import validate_row
from metrics.sink import MetricsFileError, Validator, parse_line

CHUNK = 1 << 24
"""Bytes read at a time (16 MiB): the newline scan never holds the whole file."""
EVALUATION = re.compile(rb'"eval_(?:score|return)":\s*[-0-9]')
"""A row with an evaluation: a number after the key (null means none in this row)."""


@dataclass
class Skim:
    """What the dashboard keeps of a metrics.jsonl, and where following it goes on."""

    count: int
    """Complete rows in the file."""
    stride: int
    whole: list[dict[str, Any]]
    """Rows 0, stride, 2·stride, ... (at most `whole_limit`)."""
    recent: list[dict[str, Any]]
    """The last `recent` rows, oldest first."""
    last_eval: dict[str, Any] | None
    end: int
    """Byte offset just after the last complete row: where a follower carries on."""
    problems: list[MetricsFileError] = field(default_factory=list)
    """Kept rows that broke the contract (skipped)."""


def line_ends(path: Path) -> np.ndarray:
    """Byte offsets of every newline in the file (int64), in one pass over its bytes."""
    ends, offset = [], 0
    with open(path, "rb") as file:
        while chunk := file.read(CHUNK):
            ends.append(np.flatnonzero(np.frombuffer(chunk, np.uint8) == 10) + offset)
            offset += len(chunk)
    return np.concatenate(ends) if ends else np.zeros(0, np.int64)


def whole_stride(count: int, whole_limit: int) -> int:
    """The stride History reaches after `count` rows: the smallest power of two that keeps at
    most `whole_limit` of rows 0, stride, 2·stride, ..."""
    stride = 1
    while -(-count // stride) > whole_limit:
        stride *= 2
    return stride


def skim(path: str | os.PathLike[str], recent: int, whole_limit: int,
         validator: Validator | None = validate_row) -> Skim:
    """Reads the rows a History(recent, whole_limit) would keep of the file at `path`."""
    path = Path(path)
    ends = line_ends(path)
    count = len(ends)
    starts = np.concatenate([[0], ends[:-1] + 1]) if count else ends
    stride = whole_stride(count, whole_limit)
    problems: list[MetricsFileError] = []
    with open(path, "rb") as file:
        lines = (file, path, starts, ends)
        whole = _parse(lines, range(0, count, stride), validator, problems)
        tail = _parse(lines, range(max(0, count - recent), count), validator, problems)
        last_eval = _last_evaluation(lines, validator)
    end = int(ends[-1]) + 1 if count else 0
    return Skim(count, stride, whole, tail, last_eval, end, problems)


Lines = tuple[BinaryIO, Path, np.ndarray, np.ndarray]
"""An open file, its path, and its lines' start and end offsets."""


def _line(lines: Lines, i: int) -> bytes:
    file, _, starts, ends = lines
    file.seek(int(starts[i]))
    return file.read(int(ends[i] - starts[i]))


def _parse(lines: Lines, indices: range, validator: Validator | None,
           problems: list[MetricsFileError]) -> list[dict[str, Any]]:
    """The rows at `indices` (0-based line numbers); blank or bad ones skipped (bad: noted)."""
    rows, path = [], lines[1]
    for i in indices:
        text = _line(lines, i)
        if not text.strip():
            continue
        try:
            rows.append(parse_line(text, path, i + 1, validator))
        except MetricsFileError as err:
            problems.append(err)
    return rows


def _last_evaluation(lines: Lines, validator: Validator | None) -> dict[str, Any] | None:
    """The newest row with an evaluation, searched backwards a chunk at a time."""
    file, path, _, ends = lines
    top = int(ends[-1]) + 1 if len(ends) else 0
    while top > 0:
        bottom = max(0, top - CHUNK)
        file.seek(bottom)
        found = list(EVALUATION.finditer(file.read(top - bottom)))
        if found:
            line = int(np.searchsorted(ends, bottom + found[-1].start()))
            try:
                return parse_line(_line(lines, line), path, line + 1, validator)
            except MetricsFileError:
                return None
        top = bottom + 100  # overlap: a key cut at the chunk's start is found next time
        if bottom == 0:
            break
    return None

