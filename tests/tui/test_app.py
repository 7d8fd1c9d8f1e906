"""The dashboard app driven headless (Textual's pilot) at 80x24 and 160x48.

Every key must leave the right command file in the run's control/; every state of the run
directory (not there yet, empty, half-written, training / paused / evaluating, malformed, deleted)
must show on screen without stopping the app.
"""

from __future__ import annotations

import asyncio
import shutil

import pytest

from tests.tui.helpers import (
    LARGE,
    SMALL,
    append_events,
    append_rows,
    control_files,
    drive,
    make_row,
    screen_lines,
    text_color,
    widget_text,
    write_run,
)
from tui.app import DashboardApp

SIZES = [pytest.param(SMALL, id="80x24"), pytest.param(LARGE, id="160x48")]

COMMAND_KEYS = [  # (key, command, args) with a training row driven by the schedule
    ("s", "save", {}), ("t", "pause", {}), ("o", "expert", {"value": "off"}),
    ("e", "expert", {"value": "on"}), ("7", "expert_ratio", {"value": "down"}),
    ("8", "expert", {"value": "auto"}), ("9", "expert_ratio", {"value": "up"}),
    ("4", "epsilon", {"value": "down"}), ("5", "epsilon", {"value": "auto"}),
    ("6", "epsilon", {"value": "up"}), ("p", "greedy", {}), ("L", "lr", {"value": "x2"}),
    ("l", "lr", {"value": "half"}),
]  # fmt: skip


@pytest.mark.parametrize("size", SIZES)
def test_every_command_key_writes_its_command_and_q_quits(tmp_path, size):
    run_dir = write_run(tmp_path / "run", [make_row(i) for i in range(3)])

    async def press_all(app, pilot):
        sent = {}
        for key, _, _ in COMMAND_KEYS:
            await pilot.press(key)
            await pilot.pause()
            newest = control_files(run_dir)[-1]
            sent[key] = (newest["command"], newest["args"])
        notes = [n.message for n in app._notifications]
        await pilot.press("q")
        await pilot.pause()
        return sent, notes, control_files(run_dir)[-1]["command"], app.is_running

    sent, notes, last, running = drive(run_dir, size, press_all)
    assert sent == {key: (name, args) for key, name, args in COMMAND_KEYS}
    assert "sent: expert ratio down (waiting for the trainer)" in notes
    assert (last, running) == ("quit", False)


@pytest.mark.parametrize(("row", "key", "expected"), [
    (dict(state="paused"), "t", ("resume", {})),
    (dict(state="evaluating"), "t", ("pause", {})),
    (dict(driver="expert off"), "o", ("expert", {"value": "auto"})),
    (dict(driver="expert only"), "e", ("expert", {"value": "auto"})),
    (dict(driver="expert off"), "e", ("expert", {"value": "on"})),
])  # fmt: skip
def test_toggle_keys_follow_what_the_screen_shows(tmp_path, row, key, expected):
    run_dir = write_run(tmp_path / "run", [make_row(0, **row)])

    async def press(app, pilot):
        await pilot.press(key)
        await pilot.pause()
        newest = control_files(run_dir)[-1]
        return newest["command"], newest["args"]

    assert drive(run_dir, SMALL, press) == expected


def test_pause_is_shown_in_flight_then_acknowledged_then_confirmed_by_a_row(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0)])

    async def pause(app, pilot):
        seen = []
        await pilot.press("t")
        await pilot.pause()
        seen.append(widget_text(app, "#header"))
        file = sorted((run_dir / "control").glob("*.json"))[-1].name
        append_events(run_dir, [{"t": 3.0, "kind": "command", "message": "training paused",
                                 "command": "pause", "args": {}, "file": file}])  # fmt: skip
        await app.poll_once()
        await pilot.pause()
        seen.append(widget_text(app, "#header"))
        append_rows(run_dir, [make_row(1, state="paused")])
        await app.poll_once()
        await pilot.pause()
        seen.append(widget_text(app, "#header"))
        await pilot.press("t")  # shown paused: t resumes
        await pilot.pause()
        return seen, app.receipts, control_files(run_dir)[-1]["command"]

    (sending, acknowledged, confirmed), receipts, second_t = drive(run_dir, SMALL, pause)
    assert "pausing…" in sending
    assert "paused" in acknowledged and "pausing" not in acknowledged
    assert "paused" in confirmed
    assert [(r.label, r.accepted) for r in receipts] == [("pause", True)]
    assert second_t == "resume"


def test_a_rejected_command_is_reported(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0)])

    async def reject(app, pilot):
        await pilot.press("L")
        await pilot.pause()
        file = sorted((run_dir / "control").glob("*.json"))[-1].name
        append_events(run_dir, [{"t": 3.0, "kind": "warning", "message": "ignored a command",
                                 "file": file, "rejected": "lr at [its] ceiling"}])  # fmt: skip
        await app.poll_once()
        await pilot.pause()
        return app.receipts, [n.message for n in app._notifications], app.is_running

    receipts, notes, running = drive(run_dir, SMALL, reject)
    assert [(r.label, r.message, r.accepted) for r in receipts] == [
        ("lr x2", "lr at [its] ceiling", False)]
    assert "lr x2: rejected — lr at [its] ceiling" in notes and running  # not read as markup


def test_a_command_to_a_deleted_run_is_refused_without_stopping_the_app(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0)])

    async def press(app, pilot):
        shutil.rmtree(run_dir)
        await pilot.press("s")
        await pilot.pause()
        return app.is_running, [n.message for n in app._notifications]

    running, notes = drive(run_dir, SMALL, press)
    assert running and any("could not send save" in note for note in notes)
    assert not run_dir.exists()  # sending never re-creates a run directory


# ---- what the screen shows ----------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("state", ["training", "paused", "evaluating"])
def test_header_shows_state_driver_and_run_numbers(tmp_path, size, state):
    rows = [make_row(i) for i in range(4)] + [make_row(4, state=state, driver="expert only")]

    async def read(app, pilot):
        return widget_text(app, "#header"), widget_text(app, "#status")

    header, status = drive(write_run(tmp_path / "run-a", rows), size, read)
    assert f"{state} · driver: expert only" in header or f"{state} · expert only" in header
    assert "run-a" in header and "60.00k" in header and "6,000 fps" in header
    assert "10s" in header  # t of the last row
    assert status.strip().startswith("5 rows of metrics.jsonl in /")


@pytest.mark.parametrize("size", SIZES)
def test_a_run_followed_from_before_it_exists_to_after_it_is_deleted(tmp_path, size):
    run_dir = tmp_path / "run"

    async def lifecycle(app, pilot):
        async def status():
            await app.poll_once()
            await pilot.pause()
            return widget_text(app, "#status").strip()

        seen = [await status()]
        run_dir.mkdir()
        seen.append(await status())
        write_run(run_dir, rows=[], tail='{"t": 2.0, "fr')
        seen.append(await status())
        (run_dir / "metrics.jsonl").write_text("")
        append_rows(run_dir, [make_row(0)], raw="{not json}\n")
        append_rows(run_dir, [make_row(1, loss=0.125)])
        seen.append(await status())
        loss_tile = widget_text(app, "#tile-loss")
        shutil.rmtree(run_dir)
        seen.append(await status())
        return seen, loss_tile, widget_text(app, "#tile-loss"), app.is_running

    seen, loss_before, loss_after, running = drive(run_dir, size, lifecycle)
    assert seen[0].startswith("run directory not found, waiting for it: /")
    assert seen[1].startswith("waiting for metrics.jsonl in /")
    assert seen[2].startswith("metrics.jsonl has no rows yet, waiting for the first row to be")
    assert seen[3].startswith("skipped a bad line, keeping the last good data: metrics.jsonl:2")
    assert seen[4].startswith("run directory deleted, showing the last 2 rows: /")
    assert "0.125" in loss_before and loss_after == loss_before and running


def test_a_malformed_line_keeps_the_last_good_data_and_names_the_line(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0), make_row(1, epsilon=0.125)],
                        tail="[1, 2]\n")  # fmt: skip

    async def read(app, pilot):
        return app.query_one("#status").text, widget_text(app, "#tile-epsilon")

    status, epsilon = drive(run_dir, SMALL, read)
    assert status == ("skipped a bad line, keeping the last good data: "
                      "metrics.jsonl:3: not a JSON object but list")
    assert "0.125" in epsilon


def test_an_empty_directory_waits_for_metrics(tmp_path):
    run_dir = tmp_path / "empty"
    run_dir.mkdir()

    async def read(app, pilot):
        return screen_lines(app), widget_text(app, "#tile-dqn5m")

    lines, tile = drive(run_dir, LARGE, read)
    assert any(f"waiting for metrics.jsonl in {run_dir}" in line for line in lines)  # 160 wide
    assert any("returns: no data yet" in line for line in lines)
    assert "—" in tile


def test_slope_colour_follows_its_sign(tmp_path):
    async def colours(app, pilot):
        return text_color(app, "+120.0/M"), text_color(app, "-7.500/M"), app.theme_variables

    up = write_run(tmp_path / "up", [make_row(0, dqn5m_slope=120.0)])
    down = write_run(tmp_path / "down", [make_row(0, dqn5m_slope=-7.5)])
    green, _, theme = drive(up, LARGE, colours)
    _, red, _ = drive(down, LARGE, colours)
    assert green == theme["success"].lower() and red == theme["error"].lower()


def test_doctor_panel_lists_findings_with_advice_and_the_events_newest_first(tmp_path):
    events = [
        {"t": 10.0, "kind": "checkpoint", "message": "saved checkpoints/latest"},
        {"t": 20.0, "kind": "finding", "code": "loss_explosion", "frame": 240_000,
         "severity": "critical", "message": "loss 40x its median", "advice": "halve the lr"},
    ]  # fmt: skip
    run_dir = write_run(tmp_path / "run", [make_row(0)], events=events)

    async def toggle(app, pilot):
        strip = widget_text(app, "#events")
        await pilot.press("d")
        await pilot.pause()
        shown = screen_lines(app)
        await pilot.press("d")
        await pilot.pause()
        return strip, shown, app.query_one("#main").current

    strip, shown, back = drive(run_dir, SMALL, toggle)
    assert strip.splitlines()[0].strip().startswith("20s critical   loss_explosion @240.00k")
    text = "\n".join(shown)
    assert text.index("loss_explosion") < text.index("→ halve the lr") < text.index("saved check")
    assert back == "charts"


def test_c_cycles_the_single_chart_of_a_small_terminal(tmp_path):
    async def cycle(app, pilot):
        titles = []
        for _ in range(5):
            titles.append(next(p.spec.key for p in app.query("ChartPanel") if p.display))
            await pilot.press("c")
            await pilot.pause()
        return titles

    titles = drive(write_run(tmp_path / "run", [make_row(0)]), SMALL, cycle)
    assert titles == ["returns", "loss", "q_range", "grad", "returns"]


def test_large_terminal_shows_all_four_charts(tmp_path):
    async def shown(app, pilot):
        return [p.spec.key for p in app.query("ChartPanel") if p.display and p.size.height > 5]

    assert drive(write_run(tmp_path / "run", [make_row(0)]), LARGE, shown) == [
        "returns", "loss", "q_range", "grad"]


def test_help_lists_every_key_and_closes_without_quitting(tmp_path):
    from tui.keys import help_rows

    async def help_screen(app, pilot):
        await pilot.press("question_mark")
        await pilot.pause()
        text = "\n".join(screen_lines(app))
        await pilot.press("q")  # closes the help, does not quit the trainer
        await pilot.pause()
        return text, app.is_running, type(app.screen).__name__

    run_dir = write_run(tmp_path / "run", [make_row(0)])
    text, running, screen = drive(run_dir, SMALL, help_screen)
    for keys, what in help_rows():
        assert f"{keys:<8}{what}" in text.replace("\n", " ")
    assert (running, screen) == (True, "Screen")
    assert control_files(run_dir) == []


def test_a_run_that_stops_writing_is_called_stale(tmp_path):
    now = [1000.0]
    run_dir = write_run(tmp_path / "run", [make_row(0)])

    async def go():
        app = DashboardApp(run_dir, clock=lambda: now[0])
        async with app.run_test(size=SMALL):
            await app.poll_once()
            fresh = app.status.text
            now[0] += 60.0  # 30 intervals of 2 s without a row
            await app.poll_once()
            return fresh, app.status.text

    fresh, stale = asyncio.run(go())
    assert fresh.startswith("1 row of metrics.jsonl")
    assert stale == "no new row for 60 s, is the trainer running? 1 row"
