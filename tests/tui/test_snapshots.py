"""Screen snapshots of the dashboard at 80x24 and 160x48, twice: SVG and plain text.

The SVG snapshots (pytest-textual-snapshot, in `__snapshots__/`) pin every cell with its colour
and style; the text snapshots (`snapshots/*.txt`) pin the same screens as characters only, which
read as a diff in review.  The run is frozen: fixed rows and events, a relative run directory, a
frozen clock, no wall-clock time on screen.

After a deliberate layout change, look at the new screens and accept them with
`python -m pytest tests/tui/test_snapshots.py --snapshot-update` (SVG; `snapshot_report.html`
shows old and new side by side when they differ) and `TUI_SNAPSHOT_UPDATE=1 python -m pytest
tests/tui/test_snapshots.py` (text).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tui.helpers import LARGE, SMALL, drive, make_row, screen_lines, write_run
from tui.app import DashboardApp

SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("TUI_SNAPSHOT_UPDATE") == "1"


def frozen_rows() -> list[dict]:
    """120 rows of a run that learns: returns rise, loss falls, Q widens, evaluations every 40."""
    rows = []
    for i in range(120):
        row = make_row(
            i, frame=25_000 * (i + 1), t=4.0 * (i + 1), fps=6250.0 + 10 * (i % 5),
            return_mean=500.0 + 20 * i + 40 * (i % 7), dqn_return_1m=400.0 + 15 * i,
            dqn_return_5m=380.0 + 12 * i, dqn5m_slope=480.0 - 2 * i, loss=0.02 / (1 + i / 10),
            grad_norm=0.5 + 0.1 * (i % 5), grad_norm_max=1.2 + 0.2 * (i % 3),
            q_min=-1.0 - i / 60, q_max=2.0 + i / 30, q_mean=0.5 + i / 100,
            agreement=0.3 + i / 400, expert_ratio=0.5 - i / 400, epsilon=max(0.01, 1 - i / 50),
            replay_size=min(1_000_000, 25_000 * (i + 1)), learner_steps=40 * (i + 1),
            driver="manual", imitation_weight=max(0.0, 1.0 - i / 80),
            imitation_loss=0.4 / (1 + i / 20) if i < 80 else None,
            curriculum_frontier=1 + 2 * (i // 40), curriculum_clear_rate=0.1 * (i // 40),
            curriculum_pinned=False,
        )  # fmt: skip
        if i % 40 == 39:
            row.update(eval_score=600.0 + 5 * i, eval_return=1.5 + i / 100)
        rows.append(row)
    return rows


EVENTS = [
    {"t": 160.0, "kind": "info", "message": "evaluation at frame 1000000: mean score 795.00"},
    {"t": 300.0, "kind": "checkpoint", "message": "saved checkpoints/latest (generation 1)"},
    {"t": 310.0, "kind": "command", "message": "expert share set to 0.25 by hand",
     "command": "expert_ratio", "args": {"value": "down"}, "file": "x.json"},
    {"t": 420.0, "kind": "finding", "code": "performance_reversal", "frame": 2_600_000,
     "severity": "warning", "message": "loss fell 30% while the DQN5M slope turned negative",
     "advice": "lower the learning rate or raise the expert floor"},
]  # fmt: skip


def snapshot(tmp_path, monkeypatch, size, keys=()) -> str:
    monkeypatch.chdir(tmp_path)
    run_dir = write_run(Path("runs/demo"), frozen_rows(), events=EVENTS)

    async def shoot(app, pilot):
        for key in keys:
            await pilot.press(key)
        await pilot.pause()
        return "\n".join(line.rstrip() for line in screen_lines(app)) + "\n"

    return drive(run_dir, size, shoot)


SCREENS = [
    ("dashboard_80x24", SMALL, ()),
    ("dashboard_160x48", LARGE, ()),
    ("doctor_80x24", SMALL, ("d",)),
    ("help_80x24", SMALL, ("question_mark",)),
]


@pytest.mark.parametrize(("name", "size", "keys"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_matches_its_svg_snapshot(tmp_path, monkeypatch, snap_compare, name, size, keys):
    monkeypatch.chdir(tmp_path)
    run_dir = write_run(Path("runs/demo"), frozen_rows(), events=EVENTS)

    async def first_poll(pilot) -> None:
        await pilot.app.poll_once()
        await pilot.pause()

    app = DashboardApp(run_dir, clock=lambda: 100.0)
    assert snap_compare(app, press=keys, terminal_size=size, run_before=first_poll)


@pytest.mark.parametrize(("name", "size", "keys"), SCREENS, ids=[s[0] for s in SCREENS])
def test_screen_matches_its_snapshot(tmp_path, monkeypatch, name, size, keys):
    shown = snapshot(tmp_path, monkeypatch, size, keys)
    path = SNAPSHOTS / f"{name}.txt"
    if UPDATE or not path.exists():
        SNAPSHOTS.mkdir(exist_ok=True)
        path.write_text(shown, encoding="utf-8")
        pytest.skip(f"snapshot written: {path}; review it, then run again")
    assert shown == path.read_text(encoding="utf-8")
