"""The charts over frames: returns, loss, Q-range, gradient norm (textual-plotext).

Why plotext: it draws braille lines with labelled axes in a few milliseconds, which keeps a
2-core machine's training run unbothered; a chart is rebuilt only when new rows arrive or the
terminal is resized.  The x axis is frames in millions, the unit every tile and finding uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from rich.text import Text
from textual.app import RenderResult
from textual_plotext import PlotextPlot

from tui.model import Row, band_points, decimate, series


class Line(NamedTuple):
    key: str
    """Row key plotted (DESIGN.md §5)."""
    label: str
    color: str
    """A plotext colour name."""
    marker: str = "braille"
    """A plotext marker; a bold character for a few points (evaluations), braille for lines."""


class Band(NamedTuple):
    """A filled band between two row keys, drawn under a chart's lines."""

    low: str
    high: str
    label: str
    color: str


class ChartSpec(NamedTuple):
    key: str
    title: str
    lines: tuple[Line, ...]
    band: Band | None = None


CHARTS: tuple[ChartSpec, ...] = (
    ChartSpec("returns", "returns", (
        Line("return_mean", "all", "blue+"),
        Line("dqn_return_1m", "network (DQN1M)", "green+"),
        Line("eval_score", "evaluation", "orange+", marker="◆"),
    )),
    ChartSpec("loss", "loss", (Line("loss", "TD loss", "red+"),)),
    ChartSpec("q_range", "Q-range", (
        Line("q_max", "max", "cyan+"),
        Line("q_mean", "mean", "white"),
        Line("q_min", "min", "cyan+"),
    ), band=Band("q_min", "q_max", "min…max", "blue")),
    ChartSpec("grad", "gradient norm", (
        Line("grad_norm", "mean", "magenta+"),
        Line("grad_norm_max", "max", "yellow+"),
    )),
)  # fmt: skip
"""Every chart, in tab order."""


class ChartPanel(PlotextPlot):
    """One chart; `show(rows)` replaces its data."""

    def __init__(self, spec: ChartSpec, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.spec = spec
        self.points = 0
        self._draw([])

    def show(self, rows: Sequence[Row]) -> None:
        self._draw(rows)
        self.refresh()

    def _draw(self, rows: Sequence[Row]) -> None:
        plt = self.plt
        plt.clear_data()
        plt.clear_figure()
        self.points = 0
        if self.spec.band is not None:
            self._draw_band(rows, self.spec.band)
        cells = self.size.width or 80  # up to 4 points a cell: its 2 braille dot columns' worth
        for line in self.spec.lines:
            xs, ys = decimate(*series(rows, line.key), columns=cells)
            if not xs:
                continue
            self.points += len(xs)
            scattered = line.marker != "braille" or len(xs) == 1
            draw = plt.scatter if scattered else plt.plot
            draw(xs, ys, label=line.label, color=line.color, marker=line.marker)
        plt.title(self.spec.title if self.points else f"{self.spec.title}: no data yet")
        plt.xlabel("frames (M)")

    def _draw_band(self, rows: Sequence[Row], band: Band) -> None:
        """The band as shaded cells from low to high in every column, under the lines (plotext
        fills only down to an axis, not between two curves); one point per cell, the size of
        the "░" marker."""
        width, height = self.size.width or 80, self.size.height or 20
        xs, ys = band_points(rows, band.low, band.high, columns=width, cells=height)
        if xs:
            self.plt.scatter(xs, ys, label=band.label, color=band.color, marker="░")

    def render(self) -> RenderResult:
        """The plot; a chart that plotext cannot draw says why instead of stopping the app."""
        try:
            return super().render()
        except Exception as exc:  # noqa: BLE001 - a plotting bug must not end the dashboard
            return Text(f"{self.spec.title}: cannot draw ({type(exc).__name__}: {exc})")
