"""The dashboard puts itself below the training run's CPU priority (tui.priority)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


def policy_after(code: str) -> tuple[int, int]:
    """(scheduling policy, nice value) a fresh interpreter reports after running `code` (its
    own process: a test must not lower pytest's priority)."""
    script = f"import os\n{code}\nprint(os.sched_getscheduler(0), os.nice(0))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), int(out[1])


pytestmark = pytest.mark.skipif(not hasattr(os, "SCHED_IDLE"), reason="Linux scheduling policy")


def test_the_dashboard_process_takes_the_idle_scheduling_policy() -> None:
    assert policy_after("")[0] == os.SCHED_OTHER
    code = ("from tui.priority import yield_cpu_to_training\n"
            "assert yield_cpu_to_training() == 'idle'")
    assert policy_after(code)[0] == os.SCHED_IDLE


def test_python_m_tui_lowers_its_priority_before_the_app_starts() -> None:
    code = ("import tui.__main__ as m\n"
            "m.DashboardApp = lambda *a, **k: type('A', (), {'run': lambda *a, **k: None})()\n"
            "m.main(['some/run'])")
    assert policy_after(code)[0] == os.SCHED_IDLE


def test_without_sched_idle_it_falls_back_to_the_lowest_nice_value() -> None:
    code = ("import os\nfrom tui import priority\n"
            "def refuse(*args): raise PermissionError('not here')\n"
            "os.sched_setscheduler = refuse\n"
            "assert priority.yield_cpu_to_training() == 'nice'")
    policy, nice = policy_after(code)
    assert policy == os.SCHED_OTHER and nice == 19
