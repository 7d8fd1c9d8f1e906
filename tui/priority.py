"""The dashboard runs below training's CPU priority.

Why: the dashboard shares the machine with the run it shows, and a training loop on every core
(torch's OpenMP threads spin between ops) loses far more than the dashboard's own CPU time each
time a dashboard wake-up preempts one of its threads: `bench tui` measured 0.03-0.04 CPU s/s of
dashboard costing the loop 3.5-5% of its frames/s at equal priority.  Where Linux offers it the
dashboard takes the SCHED_IDLE policy: it runs when a core has nothing else to do (a training
loop leaves ~0.2 of a core idle on this 2-core machine, waiting on its own threads), and never
takes a core from a runnable training thread.  Elsewhere it lowers its nice value.
"""

from __future__ import annotations

import os

DASHBOARD_NICE = 19
"""Where SCHED_IDLE is unavailable: the lowest priority a nice value gives (CFS weight 15
against training's 1024)."""


def yield_cpu_to_training() -> str | None:
    """Puts this process below every normal one: "idle" (SCHED_IDLE), "nice" (nice +19), or
    None where the platform offers neither or refuses.  Call it first: threads started later
    inherit it."""
    if hasattr(os, "sched_setscheduler") and hasattr(os, "SCHED_IDLE"):
        try:
            os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            return "idle"
        except OSError:
            pass
    if not hasattr(os, "nice"):
        return None
    try:
        os.nice(DASHBOARD_NICE)
        return "nice"
    except OSError:
        return None
