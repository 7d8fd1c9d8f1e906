"""What every benchmark report must hold, whatever the machine's speed: rows whose medians lie
between their min and max, ratios that are the quotients of the rows they name, and targets whose
`met` agrees with their value and threshold (and the report's `all_targets_met` with them)."""

from __future__ import annotations

import math

import pytest


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
