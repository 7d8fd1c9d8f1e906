"""The dashboard lowers its own CPU priority below the training run's (tui.priority)."""

from __future__ import annotations

import subprocess
import sys

from tui.priority import DASHBOARD_NICE, yield_cpu_to_training


def nice_after(code: str) -> int:
    """The nice value a fresh interpreter reports after running `code` (own process: a test
    must not lower pytest's priority)."""
    script = f"import os\n{code}\nprint(os.nice(0))"
    return int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              check=True).stdout)


def test_the_dashboard_process_runs_below_training_priority() -> None:
    before = nice_after("")
    after = nice_after("from tui.priority import yield_cpu_to_training; yield_cpu_to_training()")
    assert after == min(19, before + DASHBOARD_NICE)


def test_python_m_tui_lowers_its_priority_before_the_app_starts() -> None:
    code = ("import tui.__main__ as m\n"
            "m.DashboardApp = lambda *a, **k: type('A', (), {'run': lambda *a, **k: None})()\n"
            "m.main(['some/run'])")
    assert nice_after(code) == min(19, nice_after("") + DASHBOARD_NICE)


def test_a_zero_increment_changes_nothing() -> None:
    assert yield_cpu_to_training(0) is None
