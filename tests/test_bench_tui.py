"""`tempest-dqn bench tui --quick`, run as a user runs it: a subprocess, JSON on stdout.

Two tiny training runs (without and with the headless dashboard); no timing is asserted, only
that both were measured and the report carries the ratio and the issue's 3% target.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


@pytest.mark.slow
def test_tui_benchmark_reports_both_runs_the_ratio_and_the_target() -> None:
    result = subprocess.run([sys.executable, "-m", "agent", "bench", "tui", "--quick"],
                            cwd=REPO, capture_output=True, text=True, timeout=240)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout)
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
    [target] = case["targets"]
    assert target["threshold"] == 0.97 and target["value"] == ratio
    assert target["met"] == (ratio >= 0.97) and report["all_targets_met"] == target["met"]
