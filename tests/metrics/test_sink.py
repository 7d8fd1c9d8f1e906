"""metrics.jsonl: writer, strict and lenient reader, live follower."""

from __future__ import annotations

import errno
import json
import math
from pathlib import Path

import numpy as np
import pytest

from metrics import sink
from metrics.schema import IntervalAccumulator
from metrics.sink import JsonlWriter, MetricsFileError, RowFollower, read_rows
from tests.small_disk import fill, small_filesystem

STATE = dict(epsilon=0.1, expert_ratio=0.25, lr=1e-4, learner_steps=0, target_age=None,
             replay_size=0, nonfinite_steps=0)  # fmt: skip


def row(t: float = 1.0, **changes: object) -> dict:
    return IntervalAccumulator().row(t, **STATE) | changes


def _write_lines(path: Path, *lines: str, tail: str = "") -> None:
    path.write_text("".join(line + "\n" for line in lines) + tail, encoding="utf-8")


def test_writer_round_trip_with_numpy_values_and_nulls_for_non_finite(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    with JsonlWriter(path, fsync=True) as writer:
        writer.write(row(1.0, loss=float("nan"), q_max=np.float32("inf"), frame=np.int64(7)))
        writer.write(row(2.0, q_min=np.float32(-1.5), hist=np.array([1, 2]), ok=np.bool_(True)))
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text and text.count("\n") == 2
    first, second = read_rows(path)
    assert (first["loss"], first["q_max"], first["frame"]) == (None, None, 7)
    assert (second["q_min"], second["hist"], second["ok"]) == (-1.5, [1, 2], True)


def test_writer_refuses_what_json_cannot_hold(tmp_path: Path) -> None:
    with JsonlWriter(tmp_path / "m.jsonl") as writer:
        with pytest.raises(TypeError, match="row.where"):
            writer.write({"where": object()})
        with pytest.raises(TypeError, match="object"):
            writer.write([1, 2])  # type: ignore[arg-type]


def test_writer_cuts_a_crashed_writers_partial_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write_lines(path, json.dumps(row(1.0)), tail='{"t": 2.0, "fra')
    writer = JsonlWriter(path)
    assert writer.dropped_tail_bytes == len('{"t": 2.0, "fra')
    writer.write(row(3.0))
    writer.close()
    assert [r["t"] for r in read_rows(path)] == [1.0, 3.0]


def test_strict_reader_names_the_line_and_the_missing_key(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    bad = row(2.0)
    del bad["clip_delta"]
    _write_lines(path, json.dumps(row(1.0)), "", json.dumps(bad))
    with pytest.raises(MetricsFileError) as info:
        read_rows(path)
    assert info.value.line == 3
    assert str(info.value).startswith(f"{path}:3: ")
    assert "missing required key 'clip_delta'" in str(info.value)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize(
    ("line", "problem"),
    [("{not json", "not JSON"), ("[1, 2]", "not a JSON object but list"),
     ('{"t": 1}', "missing required key 'frame'")],
)  # fmt: skip
def test_strict_reader_problems(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "metrics.jsonl"
    _write_lines(path, json.dumps(row()), line)
    with pytest.raises(MetricsFileError, match=f":2: {problem}"):
        read_rows(path, strict=True)


def test_lenient_reader_skips_only_a_truncated_final_line(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write_lines(path, json.dumps(row(1.0)), json.dumps(row(2.0)), tail='{"t": 3.0, "fr')
    assert [r["t"] for r in read_rows(path, strict=False)] == [1.0, 2.0]
    with pytest.raises(MetricsFileError, match=r":3: not JSON .*ends mid-line"):
        read_rows(path, strict=True)
    _write_lines(path, "{broken", json.dumps(row(2.0)))
    with pytest.raises(MetricsFileError, match=":1: not JSON"):
        read_rows(path, strict=False)  # a bad complete line is corruption, not a writer at work


def test_a_complete_final_line_without_newline_is_read(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write_lines(path, json.dumps(row(1.0)), tail=json.dumps(row(2.0)))
    assert [r["t"] for r in read_rows(path)] == [1.0, 2.0]


def test_reader_without_validator_accepts_any_object(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    _write_lines(path, '{"a": 1}')
    assert read_rows(path, validator=None) == [{"a": 1}]


def test_follower_returns_only_new_complete_rows(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    follower = RowFollower(path)
    assert follower.poll() == []  # no file yet
    partial = json.dumps(row(3.0))
    _write_lines(path, json.dumps(row(1.0)), json.dumps(row(2.0)), tail=partial[:20])
    assert [r["t"] for r in follower.poll()] == [1.0, 2.0]
    assert follower.poll() == []  # the partial line waits
    with open(path, "a") as file:
        file.write(partial[20:] + "\n" + json.dumps(row(4.0)) + "\n")
    assert [r["t"] for r in follower.poll()] == [3.0, 4.0]
    assert follower.problems == []


def test_follower_records_bad_lines_and_keeps_going(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write_lines(path, json.dumps(row(1.0)), "{oops", '{"t": 2}', json.dumps(row(3.0)))
    follower = RowFollower(path)
    assert [r["t"] for r in follower.poll()] == [1.0, 3.0]
    assert [p.line for p in follower.problems] == [2, 3]
    assert "missing required key 'frame'" in str(follower.problems[1])


def test_follower_starts_over_when_the_file_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "metrics.jsonl"
    _write_lines(path, json.dumps(row(1.0)), json.dumps(row(2.0)))
    follower = RowFollower(path)
    assert len(follower.poll()) == 2
    path.unlink()  # --fresh archived the run; a new one starts
    assert follower.poll() == []
    _write_lines(path, json.dumps(row(0.5)))
    assert [r["t"] for r in follower.poll()] == [0.5]


def test_nan_never_reaches_the_file(tmp_path: Path) -> None:
    path = tmp_path / "m.jsonl"
    with JsonlWriter(path) as writer:
        writer.write({"nested": {"x": [math.nan, 1.0]}})
    assert read_rows(path, validator=None) == [{"nested": {"x": [None, 1.0]}}]


def test_a_line_the_disk_cannot_take_leaves_no_part_behind_and_is_written_later(
        tmp_path: Path) -> None:
    """On a real full filesystem: the kernel takes the part of a long line that fits in the
    file's last page, then refuses; the writer cuts that part off and holds the line."""
    with small_filesystem(tmp_path / "disk", size_kb=64) as disk:
        writer = JsonlWriter(disk / "metrics.jsonl")
        writer.write({"n": 1})
        filler = fill(disk)
        with pytest.raises(OSError) as refused:
            writer.write({"n": 2, "pad": "x" * 6000})
        assert refused.value.errno == errno.ENOSPC
        assert (disk / "metrics.jsonl").read_bytes() == b'{"n":1}\n' and writer.held == 1
        with pytest.raises(OSError):
            writer.write({"n": 3})  # still full: both held, in order
        filler.unlink()
        writer.retry()
        writer.write({"n": 4})
        writer.close()
        assert [r["n"] for r in read_rows(disk / "metrics.jsonl", validator=None)] == [1, 2, 3, 4]
        assert writer.held == 0 and writer.lost == 0


def test_a_writer_holds_at_most_its_limit_and_counts_the_rest(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sink, "HELD_LINES_LIMIT", 3)
    full = tmp_path / "full.jsonl"
    full.symlink_to("/dev/full")
    writer = JsonlWriter(full)
    for n in range(5):
        with pytest.raises(OSError):
            writer.write({"n": n})
    assert writer.held == 3 and writer.lost == 2
