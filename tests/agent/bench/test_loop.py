"""`bench loop` in quick mode, run as a user runs it: a subprocess, JSON on stdout.

Checks the report's shape and that our numbers are real, not that targets are met: quick blocks
on a shared machine say nothing about the targets (the full run does that).
"""

from __future__ import annotations

import sys
import time

import pytest

from tests.agent.bench.checks import assert_consistent, assert_ratio, positive, run_quick

QUICK = "import sys; from agent.bench.loop import main; sys.exit(main(quick=True))"


@pytest.fixture(scope="module")
def report() -> dict:
    return run_quick("loop", command=[sys.executable, "-c", QUICK])


def case(report: dict, name: str) -> dict:
    return next(c for c in report["cases"] if c["case"] == name)



@pytest.mark.slow
def test_report_has_every_case_and_the_settings(report: dict) -> None:
    assert report["benchmark"] == "loop" and report["quick"] is True
    assert_consistent(report)
    assert [c["case"] for c in report["cases"]] == ["learning", "learner step", "acting"]
    params = report["params"]
    assert params["batch_size"] == 32 and params["replay_capacity"] == 100_000
    assert params["replay_ratio"] == 2.0 and params["env_id"] == "ALE/Pong-v5"
    for c in report["cases"]:
        assert all({"name", "value", "threshold", "met"} <= set(t) for t in c["targets"])


@pytest.mark.slow
@pytest.mark.parametrize("name", ["learning", "learner step", "acting"])
def test_our_rates_are_positive_and_finite(report: dict, name: str) -> None:
    ours = [r for r in case(report, name)["contenders"] if r["name"].startswith("ours")]
    assert ours
    for row in ours:
        assert all(positive(row[k]) for k in ("median", "min", "max"))
        assert row["min"] <= row["median"] <= row["max"] and row["blocks"] >= 1


@pytest.mark.slow
def test_ours_learns_once_per_four_agent_steps_with_one_and_eight_envs(report: dict) -> None:
    rows = case(report, "learning")["contenders"]
    ours = [r for r in rows if r["name"].startswith("ours")]
    assert {r["num_envs"] for r in ours} == {1, 8}
    for row in ours:  # learning has started: the timed blocks took their learner steps
        assert row["learner_steps_per_agent_step"] == pytest.approx(0.25, abs=0.05)


@pytest.mark.slow
def test_acting_rows_pair_ours_with_the_bare_env(report: dict) -> None:
    acting = case(report, "acting")
    for n in (1, 8):
        bare = [r for r in acting["contenders"]
                if r["name"] == f"bare AtariVectorEnv, num_envs {n}"]
        assert bare and positive(bare[0]["median"])
        assert_ratio(acting, f"ours, random policy / bare, num_envs {n}",
                     f"ours, random policy, num_envs {n}", f"bare AtariVectorEnv, num_envs {n}")
        assert positive(acting["ratios"][f"ours, network policy / bare, num_envs {n}"])
        assert positive(acting["ratios"][f"bare / ours, random policy, CPU per agent step, "
                                         f"num_envs {n}"])
    assert all(positive(r["cpu_us_per_agent_step"]) for r in acting["contenders"])
    assert len(acting["targets"]) == 2


@pytest.mark.slow
def test_sb3_rows_and_ratios(report: dict) -> None:
    pytest.importorskip("stable_baselines3")
    learning = case(report, "learning")
    sb3 = [r for r in learning["contenders"] if r["name"].startswith("SB3")]
    assert sb3 and positive(sb3[0]["median"])
    assert sb3[0]["learner_steps_per_agent_step"] == pytest.approx(0.25, abs=0.05)
    target_row = learning["contenders"][0]["name"]
    assert target_row.startswith("ours, default here: ")
    assert_ratio(learning, f"{target_row} / SB3", target_row, sb3[0]["name"])
    assert len(learning["targets"]) == 1
    train = [r for r in case(report, "learner step")["contenders"] if r["name"].startswith("SB3")]
    assert train and positive(train[0]["median"])


def test_with_cpu_logs_the_cpu_time_not_the_wall_time_per_agent_step() -> None:
    from agent.bench.loop import with_cpu

    def spinning() -> tuple[int, float]:  # 20 ms of CPU over 10 agent steps: 2,000 us each
        start = time.process_time()
        while time.process_time() - start < 0.02:
            pass
        return 10, 1.0

    def sleeping() -> tuple[int, float]:  # 50 ms asleep: next to no CPU
        time.sleep(0.05)
        return 10, 1.0

    log: list[float] = []
    assert with_cpu(spinning, log)() == (10, 1.0)
    assert with_cpu(sleeping, log)() == (10, 1.0)
    assert 2_000 <= log[0] < 3_000 and log[1] < 1_000
