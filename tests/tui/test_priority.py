"""The dashboard puts itself below the training run's CPU priority (tui.priority)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tui.priority import DASHBOARD_NICE


def policy_after(code: str) -> tuple[int, int]:
    """(scheduling policy, nice value) a fresh interpreter reports after running `code` (its
    own process: a test must not lower pytest's priority)."""
    script = f"import os\n{code}\nprint(os.sched_getscheduler(0), os.nice(0))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True).stdout.split()
    return int(out[0]), int(out[1])


pytestmark = pytest.mark.skipif(not hasattr(os, "sched_getscheduler"), reason="Linux scheduling")


def test_the_dashboard_process_runs_ten_nice_steps_below_normal_not_at_idle_policy() -> None:
    """Below training, but not SCHED_IDLE or nice +19: those starved it while a training loop
    kept both cores busy (module docstring)."""
    before_policy, before_nice = policy_after("")
    code = "from tui.priority import yield_cpu_to_training\nyield_cpu_to_training()"
    policy, nice = policy_after(code)
    assert policy == before_policy == os.SCHED_OTHER
    assert nice == min(19, before_nice + DASHBOARD_NICE)
    assert nice > before_nice or before_nice == 19  # it did lower itself


def test_python_m_tui_lowers_its_priority_before_the_app_starts() -> None:
    _, before_nice = policy_after("")
    code = ("import tui.__main__ as m\n"
            "m.DashboardApp = lambda *a, **k: type('A', (), {'run': lambda *a, **k: None,\n"
            "                                               'poll_times': []})()\n"
            "m.main(['some/run'])")
    assert policy_after(code)[1] == min(19, before_nice + DASHBOARD_NICE)


def test_a_platform_that_refuses_leaves_the_priority_alone() -> None:
    code = ("import os\nfrom tui import priority\n"
            "def refuse(*args): raise PermissionError('not here')\n"
            "nice, os.nice = os.nice, refuse\n"
            "assert priority.yield_cpu_to_training() is None\n"
            "os.nice = nice")
    _, before_nice = policy_after("")
    assert policy_after(code)[1] == before_nice
