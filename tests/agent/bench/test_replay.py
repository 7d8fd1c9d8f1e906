"""`tempest-dqn bench replay --quick`, run as a user runs it: a subprocess, JSON on stdout.

Checks the report's shape and that our numbers are real, not that targets are met: timings on a
shared machine at quick sizes say nothing about the targets (the full run does that).
"""

from __future__ import annotations

import pytest

from tests.agent.bench.checks import assert_consistent, assert_ratio, positive, run_quick


@pytest.fixture(scope="module")
def report() -> dict:
    return run_quick("replay", timeout=90)


def rows(report: dict, case: str) -> list[dict]:
    return next(c for c in report["cases"] if c["case"] == case)["contenders"]



@pytest.mark.slow
def test_report_has_machine_params_and_every_case(report: dict) -> None:
    assert report["quick"] is True
    assert_consistent(report)
    assert report["machine"]["cpu_count"] >= 1 and report["machine"]["numpy"]
    assert report["params"]["batch_a"] == 16_384
    assert [c["case"] for c in report["cases"]] == ["A", "B", "C"]
    for case in report["cases"]:
        assert isinstance(case["ratios"], dict) and isinstance(case["targets"], list)
        assert all({"name", "value", "threshold", "met"} <= set(t) for t in case["targets"])


@pytest.mark.slow
@pytest.mark.parametrize("case", ["A", "B", "C"])
def test_our_numbers_are_positive_and_finite(report: dict, case: str) -> None:
    ours = [r for r in rows(report, case) if r["name"].startswith("ours")]
    assert ours
    for row in ours:
        assert all(positive(row[k]) for k in ("median", "min", "max"))
        assert row["min"] <= row["median"] <= row["max"] and row["reps"] >= 1


@pytest.mark.slow
def test_the_gather_floor_and_our_memory_are_reported(report: dict) -> None:
    names = {r["name"] for r in rows(report, "A")}
    assert {"floor: numpy fancy index", "floor: np.take(out=)"} <= names
    assert positive(next(c for c in report["cases"] if c["case"] == "A")
                    ["ratios"]["ours (out= reuse) / floor take"])
    ours = next(c for c in report["cases"] if c["case"] == "B")["memory"]["ours"]
    assert ours["bytes_per_transition"] >= 84 * 84 and positive(ours["rss_growth"])


@pytest.mark.slow
def test_cpprb_contenders_and_ratios(report: dict) -> None:
    pytest.importorskip("cpprb")
    cpprb = [r for r in rows(report, "A") if r["name"].startswith("cpprb")]
    assert cpprb and positive(cpprb[0]["median"])
    ratios = {c["case"]: c["ratios"] for c in report["cases"]}
    case_a = next(c for c in report["cases"] if c["case"] == "A")
    assert_ratio(case_a, "cpprb / ours (fresh arrays)", "cpprb PrioritizedReplayBuffer",
                 "ours (fresh arrays)")
    assert positive(ratios["A"]["cpprb / ours, 2 threads (out= reuse)"])
    assert positive(ratios["C"]["cpprb_ReplayBuffer_over_ours_uniform"])
    assert positive(ratios["C"]["cpprb_PrioritizedReplayBuffer_over_ours_prioritised"])


@pytest.mark.slow
def test_sb3_contender_ratios_and_memory(report: dict) -> None:
    pytest.importorskip("stable_baselines3")
    case = next(c for c in report["cases"] if c["case"] == "B")
    for batch in (32, 256):
        assert positive(case["ratios"][f"SB3 / ours (fresh arrays), batch {batch}"])
    assert positive(case["ratios"]["ours_over_sb3_bytes_per_transition"])
    assert case["memory"]["sb3"]["capacity"] > 0
