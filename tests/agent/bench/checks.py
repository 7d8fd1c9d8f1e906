"""A benchmark run as a user runs it (`run_quick`), and what every report must hold, whatever the
machine's speed: rows whose medians lie between their min and max, ratios that are the quotients
of the rows they name, and targets whose `met` agrees with their value and threshold (and the
report's `all_targets_met` with them)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]


def run_quick(name: str, timeout: float = 300, command: list[str] | None = None) -> dict:
    """`tempest-dqn bench NAME --quick` in a subprocess (or `command`): exit 0, the markdown
    tables on stderr, and the JSON report on stdout, returned."""
    argv = command or [sys.executable, "-m", "agent", "bench", name, "--quick"]
    result = subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "| --- |" in result.stderr  # its markdown tables
    return json.loads(result.stdout)


def positive(value: object) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def assert_consistent(report: dict) -> None:
    targets = [t for case in report["cases"] for t in case.get("targets", [])]
    for goal in targets:
        value, threshold = goal["value"], goal["threshold"]
        expected = value >= threshold if goal["at_least"] else value <= threshold
        assert goal["met"] is expected, goal
    assert report["all_targets_met"] is all(t["met"] for t in targets)
    for case in report["cases"]:
        for row in case.get("contenders", []):
            if {"min", "median", "max"} <= set(row):
                assert math.isfinite(row["median"]) and row["median"] > 0, row
                assert row["min"] <= row["median"] <= row["max"], row


def assert_ratio(case: dict, key: str, numerator: str, denominator: str) -> None:
    """`case["ratios"][key]` is the median of row `numerator` over that of `denominator`."""
    medians = {row["name"]: row["median"] for row in case["contenders"]}
    assert case["ratios"][key] == pytest.approx(medians[numerator] / medians[denominator],
                                                abs=1e-3)
