"""`tempest-dqn bench tui --quick`, run as a user runs it: a subprocess, JSON on stdout.

Two tiny training runs (without and with the headless dashboard); no timing is asserted, only
that both were measured and the report carries the ratio and the issue's 3% target.
"""

from __future__ import annotations

import pytest

from tests.agent.bench.checks import assert_consistent, positive, run_quick


@pytest.mark.slow
def test_tui_benchmark_reports_both_runs_the_ratio_and_the_target() -> None:
    report = run_quick("tui", timeout=240)
    assert_consistent(report)
    assert report["benchmark"] == "tui" and report["quick"] is True
    [case] = report["cases"]
    without, with_ = case["contenders"]
    assert without["name"] == "without dashboard"
    assert with_["name"].startswith("with dashboard")
    for row in (without, with_):
        assert row["reps"] == 1 and all(positive(row[k]) for k in ("median", "min", "max"))
        assert positive(row["trainer_cpu_per_s"])
    assert without["dashboard_cpu_per_s"] is None  # no dashboard process to measure
    assert positive(with_["dashboard_cpu_per_s"])
    ratio = case["ratios"]["with / without"]
    assert ratio == pytest.approx(with_["median"] / without["median"], abs=1e-4)
    assert positive(with_["dashboard_polls_per_s"]) and positive(with_["dashboard_longest_gap_s"])
    cost, refresh = case["targets"]
    assert cost["threshold"] == 0.97 and cost["value"] == ratio
    assert cost["met"] == (ratio >= 0.97)
    assert refresh["threshold"] == 2.0
    assert refresh["value"] == pytest.approx(with_["dashboard_polls_per_s"], abs=1e-3)
    assert report["all_targets_met"] == (cost["met"] and refresh["met"])


def test_refreshes_count_the_polls_inside_the_window_and_the_longest_wait() -> None:
    from agent.bench.tui import refreshes

    got = refreshes([0.5, 10.2, 10.6, 11.0, 12.9, 13.5], start=10.0, end=14.0)
    assert got["dashboard_polls_per_s"] == pytest.approx(5 / 4.0)  # 10.2 .. 13.5
    assert got["dashboard_longest_gap_s"] == pytest.approx(1.9)  # 11.0 -> 12.9


def test_alternating_windows_are_compared_within_each_abba_group() -> None:
    from agent.bench.tui import RUNNING, STOPPED, alternating_case

    def window(name: str, start: float, rate: float) -> tuple:
        return (name, start, int(start * 1000), start + 5.0, int(start * 1000 + rate * 5))

    # the machine slows down between the groups; the dashboard costs 2% in both
    rates = [(RUNNING, 980), (STOPPED, 1000), (STOPPED, 1000), (RUNNING, 980),
             (RUNNING, 490), (STOPPED, 500), (STOPPED, 500), (RUNNING, 490),
             (RUNNING, 10)]  # an unfinished group: left out of the ratio
    windows = [window(name, 5.0 * i, rate) for i, (name, rate) in enumerate(rates)]
    case = alternating_case(windows, {"frames": 1000, "window_s": 5.0})
    assert case["ratios"]["ABBA groups"] == 2
    assert case["ratios"]["running / stopped, median over ABBA groups"] == pytest.approx(0.98)
    [target] = case["targets"]
    assert target["met"] and target["value"] == pytest.approx(0.98)
    running, stopped = case["contenders"]
    assert running["reps"] == 5 and stopped["reps"] == 4
