"""The dashboard runs below training's CPU priority, but not so far below that it starves.

Why: the dashboard shares the machine with the run it shows.  At equal priority its wake-ups
preempt training threads whose partners then wait at OpenMP barriers, so it costs the loop more
than its own CPU time (`bench tui`: 0.03-0.04 CPU s/s of dashboard, 3.5-5% of the frames/s).
Far below, it starves: a training loop that keeps both cores busy (the inline learner's
OpenMP threads spin between ops; trainer CPU 1.99 s/s on 2 cores) left a SCHED_IDLE dashboard
0.004 CPU s/s, and nice +19 0.015: they showed new data 0.22 and 0.85 times a second, with
waits of 4.4 and 1.8 s between refreshes.  Nice +10 (CFS weight 110 against training's 1024)
gets its ~0.03 CPU s/s at the asked rate (3.4 refreshes a second in the same run) while any
training thread that wakes still takes the core first.
"""

from __future__ import annotations

import os

DASHBOARD_NICE = 10
"""How far below a normal process the dashboard runs (see the module docstring)."""


def yield_cpu_to_training() -> int | None:
    """Lowers this process's priority by DASHBOARD_NICE; returns the new nice value, or None
    where the platform has no nice or refuses.  Call it first: threads started later inherit
    it."""
    if not hasattr(os, "nice"):
        return None
    try:
        return os.nice(DASHBOARD_NICE)
    except OSError:
        return None
