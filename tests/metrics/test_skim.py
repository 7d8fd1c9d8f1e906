"""Skimming a long metrics.jsonl keeps exactly what reading every row into a History keeps."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics.schema import IntervalAccumulator
from metrics.sink import RowFollower, read_rows
from metrics.skim import skim, whole_stride
from tui.model import History

STATE = dict(epsilon=0.1, expert_ratio=0.25, lr=1e-4, learner_steps=0, target_age=None,
             replay_size=0, nonfinite_steps=0)  # fmt: skip


def write_rows(path: Path, count: int, eval_every: int, tail: str = "") -> None:
    with open(path, "w") as file:
        for i in range(count):
            row = IntervalAccumulator().row(float(i), **STATE) | {"frame": 1000 * i}
            if eval_every and i % eval_every == eval_every - 1:
                row["eval_score"] = float(i)
            file.write(json.dumps(row) + "\n")
        file.write(tail)


@pytest.mark.parametrize(("count", "recent", "whole", "eval_every"), [
    (0, 10, 8, 0), (1, 10, 8, 3), (7, 10, 8, 3), (8, 3, 8, 0), (9, 3, 8, 5), (1000, 50, 64, 37),
    (1000, 2000, 16, 400), (1000, 50, 64, 0),
])  # fmt: skip
def test_a_skim_keeps_what_every_row_would(tmp_path, count, recent, whole, eval_every):
    path = tmp_path / "metrics.jsonl"
    write_rows(path, count, eval_every, tail='{"t": 1.0, "fra')  # a row being written
    every = History(recent, whole)
    every.add(read_rows(path, strict=False))
    skimmed = skim(path, recent, whole)
    seeded = History(recent, whole)
    seeded.seed(skimmed)
    assert (seeded.count, seeded.stride) == (every.count, every.stride) == (count, skimmed.stride)
    assert seeded.chart_rows() == every.chart_rows()
    assert list(seeded.recent) == list(every.recent)
    assert seeded.last_eval == every.last_eval
    assert skimmed.end == path.stat().st_size - len('{"t": 1.0, "fra')


def test_following_carries_on_after_the_skim(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_rows(path, 100, 0)
    skimmed = skim(path, 10, 8)
    follower = RowFollower(path)
    follower.carry_on_from(skimmed.end, skimmed.count)
    assert follower.poll() == []
    with open(path, "a") as file:
        file.write('{"broken\n')
    assert follower.poll() == [] and follower.problems[0].line == 101  # numbering carries on


def test_the_stride_is_historys():
    assert [whole_stride(n, 8) for n in (0, 8, 9, 16, 17, 1000)] == [1, 1, 2, 2, 4, 128]


def test_a_bad_kept_row_is_noted_and_skipped(tmp_path):
    path = tmp_path / "metrics.jsonl"
    write_rows(path, 5, 0)
    with open(path, "a") as file:
        file.write('{"t": 1}\n')
    skimmed = skim(path, 10, 8)
    assert len(skimmed.recent) == 5 and skimmed.count == 6
    assert skimmed.problems[0].line == 6 and "missing required key" in skimmed.problems[0].problem
