"""The harness every benchmark shares: contenders timed in turns in one process, medians with
min and max, targets, the machine they ran on, and the report (JSON on stdout, markdown on
stderr).

Why in one process and in turns: the machine is shared and noisy, so absolute times mean little
(DESIGN.md §7); contenders that take turns rep by rep (or block by block), each round starting
with a different one, meet the same bursts of noise, and their ratios hold.
"""

from __future__ import annotations

import gc
import importlib
import importlib.metadata
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

MISSING = "not installed: pip install -e '.[bench]'"

Thunk = Callable[[], object]
"""One timed call."""
Block = Callable[[], tuple[int, float]]
"""Runs one block of work; returns (units done, seconds)."""


def fixed(call: Thunk) -> Callable[[], Thunk]:
    """A contender with nothing to prepare between calls."""
    return lambda: call


def interleave(contenders: dict[str, Callable[[], Thunk]], reps: int,
               warmup: int) -> dict[str, list[float]]:
    """Seconds per call of each contender, taking turns rep by rep.

    Each contender is a factory called untimed before every call (a floor draws its fresh
    indices there), returning the thunk that is timed.  The garbage collector is off while timing
    so a collection triggered by one contender is not charged to another.
    """
    for make in contenders.values():
        for _ in range(warmup):
            make()()
    names, times = list(contenders), {name: [] for name in contenders}
    gc.collect()
    gc.disable()
    try:
        for rep in range(reps):
            for name in names[rep % len(names):] + names[:rep % len(names)]:
                call = contenders[name]()
                start = time.perf_counter()
                call()
                times[name].append(time.perf_counter() - start)
    finally:
        gc.enable()
    return times


def interleave_blocks(contenders: dict[str, Block], rounds: int) -> dict[str, list[float]]:
    """Per-block rates (units/s) of each contender, taking turns block by block.

    The collector is emptied before every block so that one contender's garbage is not collected
    on another's clock; it stays on during a block, as it is in a real run.
    """
    names, rates = list(contenders), {name: [] for name in contenders}
    for r in range(rounds):
        for name in names[r % len(names):] + names[:r % len(names)]:
            gc.collect()
            steps, seconds = contenders[name]()
            rates[name].append(steps / seconds)
    return rates


def summarise(times: dict[str, list[float]], scale: float, **extra) -> list[dict]:
    """Median / min / max of each contender's seconds in the case's unit (`scale` per second)."""
    return [dict(name=name, **extra, median=statistics.median(t) * scale, min=min(t) * scale,
                 max=max(t) * scale, reps=len(t)) for name, t in times.items()]


def rate_row(name: str, values: list[float], unit: str, **extra) -> dict:
    """Median / min / max of a contender's per-block rates."""
    return dict(name=name, **extra, unit=unit, median=statistics.median(values), min=min(values),
                max=max(values), blocks=len(values))


def median_of(rows: list[dict], name: str, **match) -> float:
    """The median of the row named `name` (and matching `match`)."""
    return next(r["median"] for r in rows
                if r["name"] == name and all(r.get(k) == v for k, v in match.items()))


def target(name: str, value: float, threshold: float, at_least: bool = True) -> dict:
    """A target row: met when `value` is at least (or, `at_least` False, at most) `threshold`."""
    met = value >= threshold if at_least else value <= threshold
    return dict(name=name, value=round(value, 4), threshold=threshold, at_least=at_least,
                met=bool(met))


def optional(module: str) -> Any | None:
    """The module, or None when it is not installed (the bench then skips that contender)."""
    try:
        return importlib.import_module(module)
    except ImportError:
        return None


def version(dist: str) -> str | None:
    """An installed distribution's version, None when it is not installed."""
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _proc_kb(path: str, key: str) -> int:
    with open(path, encoding="ascii") as fh:
        for line in fh:
            if line.startswith(key + ":"):
                return int(line.split()[1]) * 1024
    return 0


def rss() -> int:
    """Resident bytes of this process: cross-checks the arrays' nbytes after filling."""
    return _proc_kb("/proc/self/status", "VmRSS")


def mem_available() -> int:
    """What the kernel says can still be allocated without swapping (there is no swap here)."""
    return _proc_kb("/proc/meminfo", "MemAvailable")


def progress(label: str, i: int, total: int) -> None:
    """Prints every 10%: filling a million ALE frames takes long enough to look hung."""
    tenth = max(total // 10, 1)
    if (i + 1) % tenth == 0 or i + 1 == total:
        print(f"  {label}: {round(100 * (i + 1) / total)}% ({i + 1}/{total} steps)",
              file=sys.stderr, flush=True)



def machine() -> dict:
    """Where the numbers came from: the contenders' versions and the machine's size."""
    return dict(cpu_count=os.cpu_count(), python=platform.python_version(),
                mem_total=_proc_kb("/proc/meminfo", "MemTotal"), numpy=version("numpy"),
                numba=version("numba"), torch=version("torch"), cpprb=version("cpprb"),
                stable_baselines3=version("stable-baselines3"))



def targets_markdown(report: dict) -> list[str]:
    """The report's targets as a markdown table (after a blank line), one row per target."""
    lines = ["", "| target | value | threshold | met |", "| --- | ---: | ---: | --- |"]
    return lines + [f"| {t['name']} | {t['value']:.3f} | {t['threshold']} | "
                    f"{'yes' if t['met'] else 'NO'} |"
                    for case in report["cases"] for t in case["targets"]]


def publish(benchmark: str, quick: bool, params: dict, cases: list[dict], notes: list[str],
            started: float, render) -> int:
    """Print the report: one JSON document on stdout, `render(report)` (markdown) on stderr."""
    report = dict(benchmark=benchmark, quick=bool(quick), machine=machine(), params=params,
                  cases=cases, notes=notes,
                  all_targets_met=all(t["met"] for c in cases for t in c["targets"]),
                  elapsed_s=round(time.perf_counter() - started, 1))
    print(json.dumps(report, indent=2))
    print(render(report), file=sys.stderr)
    return 0
