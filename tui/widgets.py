"""The dashboard's widgets: header, tiles, event strip, status line, doctor panel (the game
panel is tui.gameview).

Why they render from their own size: the same widget shows one line at 80x24 and a boxed tile at
160x48, so the layout (dashboard.tcss) only decides sizes and each widget fits what it is given.
Widgets hold already-computed values (tui.model, tui.eventlog) and never read files.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import RenderResult
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Static

from tui import eventlog
from tui import format as fmt
from tui.eventlog import Event
from tui.model import Header, Tile

TONE_STYLE = {"good": "$success", "bad": "$error", "warn": "$warning", "accent": "$accent", "": ""}
STATE_STYLE = {"training": "$success", "paused": "$warning", "pausing…": "$warning",
               "resuming…": "$warning", "evaluating": "$accent", "waiting": "$text-muted",
               "finished": "$text-muted", "stopped": "$warning", "failed": "$error",
               "crashed": "$error", "died": "$error"}


class HeaderBar(Widget):
    """Run, env, device, frames, FPS, elapsed time, state and driver on one line."""

    DEFAULT_CSS = "HeaderBar { height: 1; background: $panel; }"

    def __init__(self, run: str, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.info = Header(run, *([fmt.MISSING] * 5), "waiting", "schedule")

    def show(self, info: Header) -> None:
        if info != self.info:
            self.info = info
            self.refresh()

    def render(self) -> RenderResult:
        h = self.info
        state = (h.state, f"bold {STATE_STYLE.get(h.state, '')}")
        wide = Content.assemble(
            (f" {h.run}", "bold"), f" │ {h.env_id} on {h.device} │ frame {h.frames} · ",
            f"{h.fps} fps · {h.elapsed} │ ", state, f" · driver: {h.driver}",
        )  # fmt: skip
        if wide.cell_length <= self.size.width:
            return wide
        compact = Content.assemble(
            (f" {h.run}", "bold"), " │ ", state, f" · {h.driver} │ {h.frames} fr · ",
            f"{h.fps} fps · {h.elapsed} │ {h.env_id} {h.device}",
        )  # fmt: skip
        return compact.truncate(max(1, self.size.width), ellipsis=True)


class TileView(Widget):
    """One tile.  One line high: "label value trend"; taller (boxed): value and trend lines,
    the label in the border's title and the detail in its subtitle."""

    DEFAULT_CSS = "TileView { height: 1; }"

    def __init__(self, tile: Tile, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.tile = tile
        self._set_borders()

    def show(self, tile: Tile) -> None:
        if tile != self.tile:
            self.tile = tile
            self._set_borders()
            self.refresh()

    def _set_borders(self) -> None:
        self.border_title = self.tile.label
        self.border_subtitle = self.tile.detail

    def render(self) -> RenderResult:
        tile, width = self.tile, self.size.width
        value = (tile.value, f"bold {TONE_STYLE[tile.tone]}")
        if self.size.height <= 1:
            head = Content.assemble((f"{tile.label:<7.7} ", "$text-muted"), value, " ")
            spark = fmt.sparkline(tile.trend, width - head.cell_length)
            return Content.assemble(head, (spark, "$accent")).truncate(width, ellipsis=True)
        line = Content.assemble(value).truncate(width, ellipsis=True)
        spark = Content.styled(fmt.sparkline(tile.trend, width), "$accent")
        return Content("\n").join([line, spark])


class EventStrip(Widget):
    """The newest events, one per line, as many as fit."""

    DEFAULT_CSS = "EventStrip { height: 2; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.events: list[Event] = []

    def show(self, newest_first: list[Event]) -> None:
        self.events = newest_first
        self.refresh()

    def render(self) -> RenderResult:
        if not self.events:
            return Content.styled("no events yet", "$text-muted")
        lines = [_event_line(e, self.size.width) for e in self.events[: max(1, self.size.height)]]
        return Content("\n").join(lines)


def _event_line(event: Event, width: int) -> Content:
    text = Content.styled(eventlog.line(event), TONE_STYLE[eventlog.tone(event)])
    return text.truncate(max(1, width), ellipsis=True)


class StatusLine(Widget):
    """Where the dashboard says what it is reading, or why it has nothing to show.

    A plain widget redrawn only when its text changes: a `Static.update` would reflow the
    whole screen's layout on every poll, the dashboard's largest cost after the charts."""

    DEFAULT_CSS = "StatusLine { height: 1; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.text, self.tone = "", ""

    def show(self, text: str, tone: str) -> None:
        if (text, tone) != (self.text, self.tone):
            self.text, self.tone = text, tone
            self.refresh()

    def render(self) -> RenderResult:
        line = Content.styled(self.text, TONE_STYLE[self.tone])
        return line.truncate(max(1, self.size.width), ellipsis=True)


class DoctorPanel(VerticalScroll):
    """`d`: the doctor's findings with their advice, then the whole event log, newest first."""

    def compose(self):  # type: ignore[no-untyped-def]
        yield Static(id="doctor-text")

    def show(self, events: Sequence[Event]) -> None:
        self.query_one("#doctor-text", Static).update(doctor_content(events))


def doctor_content(events: Sequence[Event]) -> Content:
    """Findings (newest first, each with its advice) then every event, newest first."""
    findings = eventlog.newest_first(events, "finding")
    parts: list[Content | str] = [Content.styled("Doctor findings, newest first", "bold")]
    if not findings:
        parts.append(Content.styled("  no findings from the doctor yet", "$text-muted"))
    for finding in findings:
        parts.append(Content.styled(eventlog.line(finding), TONE_STYLE[eventlog.tone(finding)]))
        if eventlog.advice(finding):
            parts.append(Content.styled(f"         → {eventlog.advice(finding)}", "italic"))
    parts += ["", Content.styled("Events, newest first", "bold")]
    others = eventlog.newest_first(events)
    if not others:
        parts.append(Content.styled("  no events yet", "$text-muted"))
    parts += [Content.styled(eventlog.line(e), TONE_STYLE[eventlog.tone(e)]) for e in others]
    return Content("\n").join(parts)
