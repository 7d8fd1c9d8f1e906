"""The dashboard runs below training's CPU priority.

Why: the dashboard shares the machine with the run it shows, and a training loop on every core
(torch's OpenMP threads spin between ops) loses far more than the dashboard's own CPU time each
time a dashboard wake-up preempts one of its threads: `bench tui` measured 0.032 CPU s/s of
dashboard costing the loop 5% of its frames/s at equal priority.  At a lower priority the
kernel runs the dashboard in the loop's idle moments instead, and it still gets a whole core
whenever training leaves one free, so its refresh rate does not suffer.
"""

from __future__ import annotations

import os

DASHBOARD_NICE = 10
"""Added to the dashboard's nice value: CFS weight 110 against training's 1024."""


def yield_cpu_to_training(increment: int = DASHBOARD_NICE) -> int | None:
    """Lowers this process's priority by `increment`; the new nice value, or None where the
    platform has no `os.nice` or refuses.  Call it first: threads started later inherit it."""
    if increment <= 0 or not hasattr(os, "nice"):
        return None
    try:
        return os.nice(increment)
    except OSError:
        return None
