"""`tempest-dqn bench learner --quick`, run as a user runs it: a subprocess, JSON on stdout.

Checks the report's shape and that both contenders' numbers are real, not that the 1.15x target
is met: quick timings on a shared machine say nothing about it (the full run does that).
"""

from __future__ import annotations

import pytest

from tests.agent.bench.checks import assert_consistent, assert_ratio, positive, run_quick

CASES = ["nature-32", "nature-256", "nips-32", "mlp-4096", "mlp-16384", "mlp-16384-acc4"]


@pytest.fixture(scope="module")
def report() -> dict:
    return run_quick("learner")



@pytest.mark.slow
def test_report_names_every_case_and_the_torch_threads(report: dict) -> None:
    assert_consistent(report)
    assert report["benchmark"] == "learner" and report["quick"] is True
    assert report["params"]["torch_threads"] == 2
    assert [c["case"] for c in report["cases"]] == CASES
    assert any("quick" in note for note in report["notes"])


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(CASES)))
def test_ours_and_bare_timings_and_the_ratio(report: dict, index: int) -> None:
    case = report["cases"][index]
    rows = {r["name"]: r for r in case["contenders"]}
    imitation = CASES[index] in ("nature-32", "mlp-4096")  # the presets' own cases
    assert set(rows) == {"ours", "bare torch"} | ({"ours, imitation term on"} if imitation
                                                   else set())
    for row in rows.values():
        assert all(positive(row[k]) for k in ("median", "min", "max", "samples_per_s"))
        assert row["min"] <= row["median"] <= row["max"] and row["reps"] >= 2
    assert_ratio(case, "ours / bare (medians)", "ours", "bare torch")
    assert all(positive(ms) or ms == 0 for ms in case["ours_parts_median_ms"].values())
    goal = case["targets"][0]
    assert goal["threshold"] == 1.15 and isinstance(goal["met"], bool)
    if imitation:  # the term's cost against our step without it
        term = case["targets"][1]
        assert term["threshold"] == 1.05 and "imitation term" in term["name"]
        expected = rows["ours, imitation term on"]["median"] / rows["ours"]["median"]
        assert term["value"] == pytest.approx(expected, abs=1e-3)
