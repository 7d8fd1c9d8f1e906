"""Frozen run directories and screen readers for the dashboard tests.

Rows are hand-made and complete (every §5 key), so the app sees exactly what a trainer writes;
the clock is frozen so nothing on screen depends on when a test runs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from metrics.gameview import write_game_view
from metrics.schema import REQUIRED_KEYS
from tui.app import DashboardApp

SMALL = (80, 24)
LARGE = (160, 48)


def make_row(i: int = 0, **overrides: Any) -> dict[str, Any]:
    """Row number `i` of a steady run: 2 s apart, 12,000 frames and 12 learner steps per row."""
    row: dict[str, Any] = dict.fromkeys(REQUIRED_KEYS)
    row.update(
        t=2.0 * (i + 1), frame=12_000 * (i + 1), fps=6000.0, episodes=10 * i, epsilon=0.05,
        expert_ratio=0.25, return_mean=1000.0 + 10 * i, dqn_return_1m=800.0 + 5 * i,
        dqn_return_5m=700.0 + 2 * i, dqn5m_slope=120.0, loss=0.004, grad_norm=0.5,
        grad_norm_max=1.5, clip_delta=0.9, clip_frac=0.25, q_min=-2.0, q_max=3.0, q_mean=0.5,
        agreement=0.4, greedy_top_action=3, greedy_top_share=0.3, lr=3e-4,
        learner_steps=12 * (i + 1), target_age=5, replay_size=12_000 * (i + 1),
        samples_per_frame=4.0, nonfinite_steps=0,
    )  # fmt: skip
    row.update(overrides)
    return row


CONFIG = {"product": "tempest-dqn", "version": "0.1.0", "config": {
    "env": {"id": "Tempest-v0"}, "learner": {"device": "cpu", "max_grad_norm": 10.0},
    "replay": {"capacity": 1_000_000}, "metrics": {"interval_s": 2.0}}}  # fmt: skip


def write_run(
    run_dir: Path, rows: list[dict[str, Any]] | None = None, events: list[dict] | None = None,
    config: dict | None = CONFIG, tail: str = "",
) -> Path:
    """A run directory with config.json, metrics.jsonl (+ `tail` appended raw) and events.jsonl."""
    run_dir.mkdir(parents=True, exist_ok=True)
    if config is not None:
        (run_dir / "config.json").write_text(json.dumps(config))
    if rows is not None or tail:
        text = "".join(json.dumps(r) + "\n" for r in rows or [])
        (run_dir / "metrics.jsonl").write_text(text + tail)
    if events:
        append_events(run_dir, events)
    return run_dir


CIRCLE_X = [240, 231, 207, 170, 128, 86, 49, 25, 16, 25, 49, 86, 128, 170, 207, 231]
CIRCLE_Y = [128, 170, 207, 231, 240, 231, 207, 170, 128, 86, 49, 25, 16, 25, 49, 86]


def game_view(**overrides: Any) -> dict[str, Any]:
    """A game.json snapshot on the circle tube: one enemy of each type, shots, two spikes."""
    view: dict[str, Any] = {
        "version": 1, "frame": 12_345, "wave": 3, "score": 4_250, "lives": 2, "mode": "play",
        "tube": {"x": CIRCLE_X, "y": CIRCLE_Y, "open": False},
        "player": {"lane": 4.0, "depth": 0x10, "alive": True},
        "enemies": [{"type": "flipper", "lane": 7.25, "depth": 0x80},
                    {"type": "pulsar", "lane": 10.0, "depth": 0x40},
                    {"type": "tanker", "lane": 12.0, "depth": 0xC0},
                    {"type": "spiker", "lane": 1.0, "depth": 0xA0},
                    {"type": "fuseball", "lane": 15.5, "depth": 0x60}],
        "shots": [{"lane": 4, "depth": 0x30}],
        "enemy_shots": [{"lane": 7, "depth": 0x60}],
        "spikes": [0, 0xA0] + [0] * 13 + [0xF1],
    }  # fmt: skip
    view.update(overrides)
    return view


def write_game(run_dir: Path, **overrides: Any) -> dict[str, Any]:
    """Writes game.json the way the trainer does; returns the snapshot."""
    view = game_view(**overrides)
    write_game_view(run_dir, view)
    return view


def append_rows(run_dir: Path, rows: list[dict[str, Any]], raw: str = "") -> None:
    with open(run_dir / "metrics.jsonl", "a") as file:
        file.write("".join(json.dumps(r) + "\n" for r in rows) + raw)


def append_events(run_dir: Path, events: list[dict[str, Any]]) -> None:
    with open(run_dir / "events.jsonl", "a") as file:
        file.write("".join(json.dumps(e) + "\n" for e in events))


def control_files(run_dir: Path) -> list[dict[str, Any]]:
    """The commands waiting in control/, oldest first, as JSON."""
    folder = run_dir / "control"
    if not folder.is_dir():
        return []
    return [json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))]


Script = Callable[[DashboardApp, Any], Awaitable[Any]]


def drive(run_dir: Path, size: tuple[int, int], script: Script) -> Any:
    """Runs the app headless at `size` with a frozen clock, polls once, then runs `script`."""

    async def go() -> Any:
        app = DashboardApp(run_dir, clock=lambda: 100.0)
        async with app.run_test(size=size) as pilot:
            await app.poll_once()
            await pilot.pause()
            return await script(app, pilot)

    return asyncio.run(go())


def screen_lines(app: DashboardApp) -> list[str]:
    """The characters on screen, one string per terminal line."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def widget_text(app: DashboardApp, selector: str) -> str:
    """What the screen shows inside the widget matched by `selector`, lines joined by newlines."""
    region = app.query_one(selector).region
    lines = screen_lines(app)[region.y : region.y + region.height]
    return "\n".join(line[region.x : region.x + region.width] for line in lines)


def text_color(app: DashboardApp, text: str) -> str | None:
    """Hex colour of the first on-screen segment containing `text`."""
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            if text in segment.text and segment.style and segment.style.color:
                triplet = segment.style.color.get_truecolor()
                return f"#{triplet.red:02x}{triplet.green:02x}{triplet.blue:02x}"
    return None
