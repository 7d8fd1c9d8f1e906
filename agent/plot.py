"""`tempest-dqn plot RUN_DIR [RUN_DIR ...] --out FILE.png`: the curves of one or more runs on one
figure, drawn with matplotlib, so runs can be compared side by side (also `python -m agent.plot`).

Six panels: the greedy evaluation score over frames and over minutes of training, with the
expert's score by the same protocol as a dashed line; the network's own returns (DQN1M); the
TD loss and the imitation term's margin loss on a log axis; the Q range; the imitation weight
and the agreement with the expert.  Each run keeps its colour in every panel.

A resumed run's `metrics.jsonl` holds its sessions one after the other: `t` starts again at 0,
and the rows written after the last checkpoint of a stopped session are followed by rows that
go back to that checkpoint's frame.  `timeline` stitches them: minutes add up over the sessions
(the time those lost rows took was spent), and the rows whose frames a later session redid are
dropped from the frame axis.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from metrics import read_rows
from metrics.runfiles import METRICS_FILE

FIGURE_INCHES = (13.0, 12.0)
DPI = 100
EXPERT_STYLE = dict(color="black", linestyle="--", linewidth=1.2)


@dataclass
class Run:
    """One run's rows on the stitched timeline: `minutes` beside each row."""

    label: str
    rows: list[dict]
    minutes: list[float]

    def points(self, key: str, x: str = "frames") -> tuple[list[float], list[float]]:
        """(x, value) of the rows where `key` is a finite number; x in M frames or minutes."""
        xs, ys = [], []
        for row, minute in zip(self.rows, self.minutes, strict=True):
            value = row.get(key)
            if isinstance(value, int | float) and math.isfinite(value):
                xs.append(row["frame"] / 1e6 if x == "frames" else minute)
                ys.append(float(value))
        return xs, ys

    def expert_score(self) -> float | None:
        """The expert's score the run measured (its latest `expert_eval_score`), if any."""
        scores = self.points("expert_eval_score")[1]
        return scores[-1] if scores else None


def timeline(rows: Sequence[dict]) -> tuple[list[dict], list[float]]:
    """The rows of a resumed run's sessions stitched: (rows kept, minutes of training).

    A session starts where `t` falls back; its offset is the sum of the earlier sessions' last
    `t`.  Rows at or past a frame a later session starts from were redone after a restore and
    are dropped (the later session's rows stand for those frames).
    """
    minutes: list[float] = []
    offset, previous = 0.0, None
    for row in rows:
        t = float(row.get("t") or 0.0)
        if previous is not None and t < previous:
            offset += previous
        minutes.append((offset + t) / 60.0)
        previous = t
    kept: list[int] = []
    for index, row in enumerate(rows):
        while kept and rows[kept[-1]]["frame"] > row["frame"]:
            kept.pop()
        kept.append(index)
    return [rows[i] for i in kept], [minutes[i] for i in kept]


def load_run(path: Path, label: str | None = None) -> Run:
    """A run directory (or a metrics.jsonl) as a `Run`.

    Raises:
        ValueError: no metrics file, a file that does not parse, or no rows.
    """
    source = path / METRICS_FILE if path.is_dir() else path
    if not source.is_file():
        raise ValueError(f"no metrics at {source}: give a run directory (runs/<name>) or its "
                         "metrics.jsonl")
    rows = read_rows(source, strict=False)
    if not rows:
        raise ValueError(f"{source} holds no rows yet")
    kept, minutes = timeline(rows)
    name = label or (path.name if path.is_dir() else path.parent.name)
    return Run(name, kept, minutes)


def _expert_lines(axes, runs: Sequence[Run], given: float | None) -> None:
    """One dashed line per distinct expert score (the runs' own measures, or `given`)."""
    scores = sorted({s for s in (r.expert_score() for r in runs) if s is not None})
    if given is not None:
        scores = [given]
    for score in scores:
        axes.axhline(score, **EXPERT_STYLE, label=f"expert (same protocol): {score:,.4g}")


def _panel(axes, runs: Sequence[Run], colors, key: str, x: str = "frames", what: str = "",
           **style) -> None:
    """One line per run of `key`; `what` names the series in the legend when a panel has
    two."""
    for run, color in zip(runs, colors, strict=True):
        xs, ys = run.points(key, x)
        if xs:
            label = f"{run.label}: {what}" if what else run.label
            axes.plot(xs, ys, color=color, label=label, **style)


def _q_range(axes, runs: Sequence[Run], colors) -> None:
    for run, color in zip(runs, colors, strict=True):
        low, high = run.points("q_min"), run.points("q_max")
        xs = sorted(set(low[0]) & set(high[0]))
        if xs:
            lo, hi = dict(zip(*low, strict=True)), dict(zip(*high, strict=True))
            axes.fill_between(xs, [lo[x] for x in xs], [hi[x] for x in xs], color=color,
                              alpha=0.15, linewidth=0)
        mean_x, mean_y = run.points("q_mean")
        if mean_x:
            axes.plot(mean_x, mean_y, color=color, label=f"{run.label}: mean (band: min…max)")


def draw(runs: Sequence[Run], expert: float | None = None, title: str | None = None):
    """The figure (a matplotlib `Figure`) of `runs`; nothing is written."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_INCHES, dpi=DPI, layout="constrained")
    grid = figure.subplots(3, 2)
    colors = [f"C{i % 10}" for i in range(len(runs))]
    panels = (
        (grid[0, 0], "greedy evaluation (no expert): score", "frames"),
        (grid[0, 1], "greedy evaluation (no expert): score", "minutes"),
    )
    for axes, name, x in panels:
        _panel(axes, runs, colors, "eval_score", x, marker="o", markersize=3)
        _expert_lines(axes, runs, expert)
        axes.set_title(f"{name}, over {'frames' if x == 'frames' else 'training time'}")
    grid[1, 0].set_title("the network's return while training (DQN1M)")
    _panel(grid[1, 0], runs, colors, "dqn_return_1m")
    grid[1, 1].set_title("TD loss (solid) and imitation margin loss (dashed)")
    _panel(grid[1, 1], runs, colors, "loss", what="TD")
    _panel(grid[1, 1], runs, colors, "imitation_loss", what="margin", linestyle="--")
    grid[1, 1].set_yscale("log")
    grid[2, 0].set_title("Q-values of the learner's batches")
    _q_range(grid[2, 0], runs, colors)
    grid[2, 1].set_title("imitation weight λ (solid) and agreement with the expert (dotted)")
    _panel(grid[2, 1], runs, colors, "imitation_weight", what="λ")
    _panel(grid[2, 1], runs, colors, "agreement", what="agreement", linestyle=":")
    for axes in grid.flat:
        axes.set_xlabel("minutes of training" if axes is grid[0, 1] else "frames (millions)")
        axes.grid(True, alpha=0.3)
        axes.set_xlim(left=0)
        if axes.lines:
            axes.legend(fontsize="small")
    if title:
        figure.suptitle(title)
    return figure


def write(figure, out: Path) -> None:
    """Saves `figure` atomically: a temporary file in `out`'s folder, then a rename."""
    temp = out.with_name(f".{out.name}.tmp{os.getpid()}{out.suffix}")
    try:
        figure.savefig(temp)
        os.replace(temp, out)
    finally:
        temp.unlink(missing_ok=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`plot`'s arguments, for this module's parser and the `tempest-dqn` CLI's."""
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run directories (or their metrics.jsonl), one curve each")
    parser.add_argument("--out", type=Path, required=True, metavar="FILE.png",
                        help="the figure (.png, .svg or .pdf)")
    parser.add_argument("--label", action="append", default=[], metavar="NAME",
                        help="a run's name in the legend, once per run in order "
                             "(default: the run directory's name)")
    parser.add_argument("--expert", type=float, metavar="SCORE",
                        help="draw this expert score instead of the one the runs measured")
    parser.add_argument("--title", help="a title above the panels")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m agent.plot",
                                     description=__doc__.split("\n\n")[0])
    add_arguments(parser)
    return parser


def plot(paths: Sequence[Path], out: Path, labels: Sequence[str] = (),
         expert: float | None = None, title: str | None = None) -> None:
    """Reads the runs and writes their figure to `out`.

    Raises:
        ValueError: a run that cannot be read, labels that do not match the runs, or an
            output the figure cannot be written to; nothing is written then.
    """
    if labels and len(labels) != len(paths):
        raise ValueError(f"{len(labels)} --label for {len(paths)} runs: give one per run")
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError(f"--out {out}: use a .png, .svg or .pdf file name")
    if not out.parent.is_dir():
        raise ValueError(f"--out {out}: the folder {out.parent} does not exist")
    runs = [load_run(path, labels[i] if labels else None) for i, path in enumerate(paths)]
    write(draw(runs, expert, title), out)


def run(args: argparse.Namespace) -> str | None:
    """Plots what `add_arguments` parsed; returns why it could not (nothing written), or None."""
    try:
        plot(args.runs, args.out, args.label, args.expert, args.title)
    except (OSError, ValueError) as err:
        return str(err)
    return None


def main(argv: list[str] | None = None) -> int:
    """`python -m agent.plot`; 0 when written, 2 (with a message on stderr) for bad input."""
    problem = run(build_parser().parse_args(argv))
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
