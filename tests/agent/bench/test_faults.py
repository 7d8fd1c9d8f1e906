"""bench attach (a long run's first poll, skimmed against row by row) and bench soak's sums."""

from __future__ import annotations

import pytest

from agent.bench.soak import growth_per_hour, summarise
from tests.agent.bench.checks import assert_consistent, run_quick


def test_attach_keeps_the_same_rows_and_reports_both_contenders() -> None:
    report = run_quick("attach")
    assert_consistent(report)
    case = report["cases"][0]
    assert case["rows"] == 20_000 and case["same_rows_kept"] is True
    assert case["speedup"] == pytest.approx(case["row_by_row_s"] / case["skimmed_s"], rel=0.1)


def _sample(minute: float, rss: float, replay: int | None, fds: int = 5, threads: int = 5):
    return dict(minute=minute, rss_mb=rss, fds=fds, threads=threads, frame=replay,
                replay_size=replay, metrics_mb=0.0, events_kb=0.0)


def test_growth_is_the_least_squares_slope_per_hour_over_the_mean():
    # 100, 101, 102 MB at minutes 0, 30, 60: +2 MB an hour over a mean of 101 MB
    samples = [_sample(0, 100, 10), _sample(30, 101, 10), _sample(60, 102, 10)]
    assert growth_per_hour(samples, "rss_mb") == pytest.approx(2 / 101)
    assert growth_per_hour(samples[:1], "rss_mb") == 0.0


def test_the_soak_judges_only_the_samples_with_the_replay_full():
    samples = [_sample(1, 50, None, fds=3, threads=2), _sample(2, 80, 5),
               _sample(3, 100, 10, fds=5), _sample(4, 100, 10, fds=8), _sample(5, 100, 10)]
    case = summarise(samples, "smoke", 5)
    assert case["full_from_minute"] == 3 and case["rss_growth_per_hour"] == 0.0
    assert (case["fd_band"], case["thread_band"]) == (3, 0)
    assert [t["met"] for t in case["targets"]] == [True, False, True]
