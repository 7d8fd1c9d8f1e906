"""`tempest-dqn bench env --quick`, run as a user runs it (a subprocess, JSON on stdout), and the
throughput measurement it is built on (`measure_env_fps`)."""

from __future__ import annotations

import math

import pytest

from agent.bench.env import measure_env_fps
from config import EnvConfig
from tests.agent.bench.checks import assert_consistent, assert_ratio, run_quick


@pytest.mark.slow
def test_env_benchmark_reports_ours_and_the_bare_emulator() -> None:
    report = run_quick("env")
    assert_consistent(report)
    assert report["benchmark"] == "env" and [c["case"] for c in report["cases"]] == [
        "1 envs", "8 envs", "Tempest 1 envs", "Tempest 64 envs", "Tempest 256 envs"]
    for case in report["cases"][2:]:
        names = [r["name"] for r in case["contenders"]]
        with_ale = case["case"] != "Tempest 256 envs"  # quick: no ALE row above 64 envs
        assert names == ["Tempest-v0 random", "Tempest-v0 + expert"] + (
            ["ALE Pong bare AtariVectorEnv"] if with_ale else [])
        assert all(math.isfinite(r["median"]) and r["median"] > 0 for r in case["contenders"])
        assert_ratio(case, "with expert / random", "Tempest-v0 + expert", "Tempest-v0 random")
        assert ("Tempest / ALE Pong" in case["ratios"]) == with_ale
        if with_ale:  # rounded to 2 decimals
            sim, _, pong = (r["median"] for r in case["contenders"])
            assert case["ratios"]["Tempest / ALE Pong"] == pytest.approx(sim / pong, abs=0.006)
    assert [t["threshold"] for t in report["cases"][-1]["targets"]] == [100_000, 50_000]
    assert any("no ALE Pong row above 64 envs" in note for note in report["notes"])
    for case in report["cases"][:2]:
        names = [r["name"] for r in case["contenders"]]
        assert names == ["ours (AleVectorEnv)", "bare AtariVectorEnv"]
        assert all(math.isfinite(r["median"]) and r["median"] > 0 for r in case["contenders"])
        assert_ratio(case, "ours / bare", "ours (AleVectorEnv)", "bare AtariVectorEnv")


def test_measure_env_fps_counts_frames_and_agent_steps() -> None:
    result = measure_env_fps(EnvConfig(id="ALE/Pong-v5", num_envs=2, frame_skip=3), 40, warmup=5)
    assert result["agent_steps"] == 80 and result["frames"] == 240
    assert result["frame_skip"] == 3 and result["num_envs"] == 2
    assert result["frames_per_s"] == pytest.approx(3 * result["agent_steps_per_s"])
    assert result["seconds"] > 0 and result["frames_per_s"] > 0


def test_measure_env_fps_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="steps"):
        measure_env_fps(EnvConfig(id="ALE/Pong-v5"), 0)


def test_measure_env_fps_counts_one_frame_per_tempest_step() -> None:
    result = measure_env_fps(EnvConfig(id="Tempest-v0", num_envs=4), 30, warmup=2)
    assert result["agent_steps"] == 120 and result["frames"] == 120
