"""The live training dashboard: follows a run directory and sends keyboard commands to its trainer.

Why pull-based: the app polls the run's files (metrics.jsonl, events.jsonl) a few times a second,
so it works the same in the trainer's own terminal and attached to a headless run
(`tempest-dqn watch`).  Commands go through the control channel (metrics.control); the
trainer's receipt in events.jsonl is shown when it arrives.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Container, Vertical
from textual.widgets import ContentSwitcher, Footer, Static

from metrics.control import send_command
from tui import eventlog, model
from tui.charts import CHARTS, ChartPanel
from tui.eventlog import PendingCommands, Receipt
from tui.gameview import GameView, absent_message
from tui.help import HelpScreen
from tui.keys import KEYS, command_label, expert_command, training_command
from tui.lifecycle import Lifecycle
from tui.source import OK, Poll, RunSource, rows_text, status_line
from tui.widgets import DoctorPanel, EventStrip, HeaderBar, StatusLine, TileView

EVENTS_KEPT = 500
STALE_AFTER_INTERVALS = 5
"""A run is called stale after this many metrics intervals without a new row."""


CHART_REDRAW_S = 5.0
"""Seconds between two redraws of the charts (new rows arrive every metrics.interval_s; the
tiles and header follow every poll).  Four charts cost 50-70 ms of CPU a redraw at 160x48, so
redrawing every 2 s took 0.05 CPU s/s late in a long run against 0.028 now (a Tempest run's
1,820 rows replayed, a row every 2 s)."""


class DashboardApp(App[None]):
    """The dashboard of one run directory.

    Args:
        run_dir: the run directory (it may not exist yet, or be deleted while watched).
        refresh_hz: polls per second (at least 2).
        clock: monotonic seconds, for "no new row for N s"; tests pass a frozen one.
    """

    CSS_PATH = "dashboard.tcss"
    TITLE = "tempest-dqn"
    ENABLE_COMMAND_PALETTE = False  # every action has its key; the footer needs the room
    BINDINGS = [Binding(k.key, k.action, k.label) for k in KEYS]
    HORIZONTAL_BREAKPOINTS = [(0, "-w80"), (120, "-w120"), (150, "-w150")]
    VERTICAL_BREAKPOINTS = [(0, "-h24"), (40, "-h40")]

    def __init__(
        self,
        run_dir: str | Path,
        refresh_hz: float = 4.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__()
        self.run_dir = Path(run_dir)
        self.refresh_hz = max(2.0, refresh_hz)
        self.clock = clock
        self.source = RunSource(self.run_dir, keep=(model.RECENT_ROWS, model.WHOLE_RUN_POINTS))
        self.history = model.History()
        self.events: deque[dict[str, Any]] = deque(maxlen=EVENTS_KEPT)
        self.config: dict[str, Any] | None = None
        self.pending = PendingCommands()
        self.receipts: deque[Receipt] = deque(maxlen=100)
        self.source_state = OK
        self.partial = False
        self.last_problem = ""
        self.last_new_rows_at = clock()
        self.chart_index = 0
        self.state_override = ""
        """"pausing…" / "resuming…" after `t`, then "paused" / "training" once acknowledged."""
        self.lifecycle = Lifecycle()
        """The run's start and end events: whether it runs at all (tui.lifecycle)."""
        self.not_running: str | None = None
        self._override_file = ""
        self._override_since: float | None = None
        self._poll_lock = asyncio.Lock()
        self._charts_stale = False
        self._charts_drawn_at = float("-inf")
        self.poll_times: deque[float] = deque(maxlen=100_000)
        """When each poll was shown (monotonic s): how fresh the screen really was."""

    # ---- layout ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        """The widgets are kept as attributes: the app updates them while another screen (help)
        is on top, where a query would search that screen instead."""
        self.header_bar = HeaderBar(self.header_name(), id="header")
        self.tile_views = {t.key: TileView(t, id=f"tile-{t.key}")
                           for t in model.tiles(self.history, None)}  # fmt: skip
        self.chart_panels = [ChartPanel(spec, id=f"chart-{spec.key}") for spec in CHARTS]
        self.chart_tabs = Static(id="chart-tabs")
        self.main = ContentSwitcher(initial="charts", id="main")
        self.doctor = DoctorPanel(id="doctor")
        self.game_view = GameView(id="game")
        self.event_strip = EventStrip(id="events")
        self.status = StatusLine(id="status")
        yield self.header_bar
        with Container(id="tiles"):
            yield from self.tile_views.values()
        with self.main:
            with Vertical(id="charts"):
                yield self.chart_tabs
                with Container(id="chart-grid"):
                    yield from self.chart_panels
            yield self.doctor
            yield self.game_view
        yield self.event_strip
        yield self.status
        yield Footer(compact=True)

    def on_load(self) -> None:
        """SIGTERM closes the app the way ctrl+q does.

        `tempest-dqn train` terminates its dashboard when training ends (after `q`, too, while the
        dashboard is already closing); Python's default SIGTERM would kill it before Textual gives
        the terminal back, leaving the user's shell on the dashboard's alternate screen in raw
        mode.  Registered at load, before the terminal is switched, so no signal falls between.
        """
        try:
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, self.exit)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread: no signals
            pass

    def on_mount(self) -> None:
        self.event_strip.border_title = "events"
        self.doctor.border_title = "doctor (d: back to the charts)"
        self.game_view.border_title = "game, env 0 (g: back to the charts)"
        self._show_chart_tabs()
        self._show_status()
        self.set_interval(1 / self.refresh_hz, self._tick)
        self.call_later(self._tick)

    # ---- polling -----------------------------------------------------------------------------

    async def _tick(self) -> None:
        if not self._poll_lock.locked():  # a slow disk: skip a beat rather than queue polls
            await self.poll_once()

    async def poll_once(self) -> None:
        """Reads what is new in the run directory and shows it; game.json only while the game
        panel is shown.

        In the event loop, not a worker thread: a poll is a few stats and the new bytes (well
        under a millisecond), and handing it to a thread and back woke the dashboard 25 times a
        second instead of 5, each wake-up a chance to preempt a training thread whose OpenMP
        partner then waits (bench tui).  The price: a read that hangs (a stalled network
        mount) would hang the screen with it."""
        async with self._poll_lock:
            self.apply(self.source.poll(self.main.current == "game"))
            self.poll_times.append(time.monotonic())

    def apply(self, poll: Poll) -> None:
        """Shows one poll's findings."""
        self.source_state, self.partial = poll.state, poll.partial_bytes
        if poll.problems:
            self.last_problem = poll.problems[-1]
        if poll.config is not None:
            self.config = poll.config
        if poll.events:
            self._take_events(poll.events)
        if poll.skim is not None:
            self.history.seed(poll.skim)
        if poll.rows or poll.skim is not None:
            self.history.add(poll.rows)
            self.last_new_rows_at = self.clock()
            self._settle_override(self.history.latest or {})
            self._show_rows()
        elif poll.config is not None or poll.events:
            self._show_header()
        if poll.game_read:
            self._show_game(poll.game)
        self._redraw_charts_when_due()
        self._follow_lifecycle()
        self._show_status()

    def _follow_lifecycle(self) -> None:
        """The header follows the run into "finished", "stopped", "died"... and out again."""
        not_running = self.lifecycle.state(self._stale_seconds() is not None)
        if not_running != self.not_running:
            self.not_running = not_running
            self._show_header()

    def _take_events(self, events: list[dict[str, Any]]) -> None:
        self.events.extend(events)
        self.lifecycle.take(events)
        for receipt in self.pending.settle(events):
            self.receipts.append(receipt)
            verdict = "done" if receipt.accepted else "rejected"
            severity = "information" if receipt.accepted else "error"
            self.notify(f"{receipt.label}: {verdict} — {receipt.message}", title="trainer",
                        severity=severity, markup=False)  # fmt: skip
        for event in events:
            if str(event.get("file")) == self._override_file and self._override_file:
                self._acknowledge_override(event)
        self.event_strip.show(eventlog.newest_first(list(self.events)))
        self.doctor.show(list(self.events))

    def _acknowledge_override(self, event: dict[str, Any]) -> None:
        """The trainer took (or refused) the pause/resume sent with `t`."""
        self._override_file = ""
        if event.get("kind") != "command" or event.get("rejected"):
            self.state_override = ""
            return
        self.state_override = "paused" if self.state_override == "pausing…" else "training"
        t = event.get("t")
        self._override_since = t if isinstance(t, int | float) else None

    def _settle_override(self, row: dict[str, Any]) -> None:
        """A row written after the trainer's receipt shows the real state again."""
        since, t = self._override_since, row.get("t")
        if since is not None and isinstance(t, int | float) and t >= since:
            self.state_override, self._override_since = "", None

    # ---- showing -----------------------------------------------------------------------------

    def _capacity(self) -> int | None:
        capacity = model.config_value(self.config, "replay", "capacity")
        return capacity if isinstance(capacity, int) else None

    def _show_header(self) -> None:
        info = model.header(self.header_name(), self.config, self.history.latest,
                            self.not_running or self.state_override)  # fmt: skip
        self.header_bar.show(info)

    def header_name(self) -> str:
        return self.run_dir.name or str(self.run_dir)

    def _show_rows(self) -> None:
        self._show_header()
        for tile in model.tiles(self.history, self._capacity()):
            self.tile_views[tile.key].show(tile)
        self._charts_stale = True

    def _redraw_charts_when_due(self) -> None:
        """Charts are the dashboard's costliest drawing (plotext, four panels at large sizes):
        they follow new rows at most every CHART_REDRAW_S, which keeps the dashboard's CPU (it
        shares the machine with the trainer) low; tiles and header still follow every poll."""
        now = time.monotonic()
        if self._charts_stale and now - self._charts_drawn_at >= CHART_REDRAW_S:
            rows = self.history.chart_rows()
            for panel in self.chart_panels:
                panel.show(rows)
            self._charts_stale, self._charts_drawn_at = False, now

    def _show_game(self, view: dict[str, Any] | None) -> None:
        env_id = model.config_value(self.config, "env", "id")
        self.game_view.show(view, absent_message(env_id))

    def _show_status(self) -> None:
        text, tone = status_line(self.source_state, self.run_dir, self.history.count,
                                 self.last_problem, self._stale_seconds(), self.partial)
        note = self.lifecycle.note(self._stale_seconds() is not None)
        if note is not None and self.source_state == OK and not self.last_problem:
            text = f"{note[0]} · {rows_text(self.history.count)} of metrics.jsonl"
            tone = note[1]
        self.status.show(text, tone)

    def _stale_seconds(self) -> float | None:
        if not self.history.count:
            return None
        interval = model.config_value(self.config, "metrics", "interval_s")
        interval = interval if isinstance(interval, int | float) and interval > 0 else 2.0
        quiet = self.clock() - self.last_new_rows_at
        return quiet if quiet > max(10.0, STALE_AFTER_INTERVALS * interval) else None

    def _show_chart_tabs(self) -> None:
        for index, panel in enumerate(self.chart_panels):
            panel.set_class(index == self.chart_index, "-current")
        names = [
            f"[b reverse] {spec.title} [/]" if i == self.chart_index else f" {spec.title} "
            for i, spec in enumerate(CHARTS)
        ]
        self.chart_tabs.update(" ".join(names) + "  [dim]c: next chart[/]")

    # ---- commands ----------------------------------------------------------------------------

    async def send(self, name: str, value: str | None = None) -> Path | None:
        """Writes one command into the run's control/ (in a thread: it fsyncs); notifies."""
        args = {} if value is None else {"value": value}
        label = command_label(name, args)
        try:
            path = await asyncio.to_thread(send_command, self.run_dir, name, **args)
        except (OSError, ValueError) as exc:
            self.notify(f"could not send {label}: {exc}", severity="error", markup=False)
            return None
        self.pending.add(path.name, label)
        self.notify(f"sent: {label} (waiting for the trainer)", timeout=3, markup=False)
        return path

    async def action_send(self, name: str, value: str | None = None) -> None:
        await self.send(name, value)

    async def action_toggle_training(self) -> None:
        shown = self.state_override or model.run_state(self.history.latest)
        name = training_command(shown)
        path = await self.send(name)
        if path is not None:
            self.state_override = "resuming…" if name == "resume" else "pausing…"
            self._override_file, self._override_since = path.name, None
            self._show_header()

    async def action_toggle_expert(self, mode: str) -> None:
        args = expert_command(mode, model.run_driver(self.history.latest))
        await self.send("expert", args["value"])

    async def action_save_and_quit(self) -> None:
        """`q`: ask the trainer to checkpoint and stop, then close the dashboard."""
        await self.send("quit")
        self.exit()

    def action_next_chart(self) -> None:
        self.chart_index = (self.chart_index + 1) % len(CHARTS)
        self._show_chart_tabs()

    def action_toggle_panel(self, panel: str) -> None:
        """`d` / `g`: show that panel in place of the charts; the same key again goes back.

        The game panel also takes the tiles' and events' rows on a small terminal (CSS class
        -game), and is filled at once rather than at the next poll."""
        self.main.current = "charts" if self.main.current == panel else panel
        showing_game = self.main.current == "game"
        self.main.screen.set_class(showing_game, "-game")
        if showing_game:
            self.call_later(self._tick)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())
