"""Training curves of a run as one PNG: `python -m agent.plot RUN_DIR OUT.png [--expert SCORE]`.

Drawn with Pillow (a dependency already) rather than matplotlib, so a fresh install can make the
README's figure: four panels over frames (returns, evaluation score, loss, Q range / expert
share), each series a polyline, nulls skipped.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

from PIL import Image, ImageDraw

from metrics import read_rows

PANEL_W, PANEL_H, MARGIN = 560, 230, 46
COLORS = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189))
PANELS = (
    ("returns per episode (mean over the interval / DQN1M)", ("return_mean", "dqn_return_1m")),
    ("greedy evaluation: score per episode (no expert)", ("eval_score",)),
    ("TD loss", ("loss",)),
    ("Q min / mean / max and expert share", ("q_min", "q_mean", "q_max", "expert_ratio")),
)


def _series(rows: list[dict], key: str) -> list[tuple[float, float]]:
    return [(row["frame"], float(row[key])) for row in rows
            if isinstance(row.get(key), int | float) and math.isfinite(row[key])]


def _panel(draw: ImageDraw.ImageDraw, top: int, title: str, lines: dict[str, list],
           hline: float | None, max_frame: float) -> None:
    values = [v for pts in lines.values() for _, v in pts] + ([hline] if hline else [])
    draw.text((MARGIN, top + 4), title, fill=(0, 0, 0))
    x0, y0, x1, y1 = MARGIN, top + 20, PANEL_W - 10, top + PANEL_H - 22
    draw.rectangle((x0, y0, x1, y1), outline=(120, 120, 120))
    if not values:
        draw.text((x0 + 8, y0 + 8), "no data yet", fill=(120, 120, 120))
        return
    low, high = min(values), max(values)
    high = high if high > low else low + 1.0

    def to_xy(frame: float, value: float) -> tuple[float, float]:
        return (x0 + (x1 - x0) * frame / max(max_frame, 1.0),
                y1 - (y1 - y0) * (value - low) / (high - low))

    draw.text((4, y0), f"{high:.3g}", fill=(80, 80, 80))
    draw.text((4, y1 - 10), f"{low:.3g}", fill=(80, 80, 80))
    if hline is not None:
        y = to_xy(0, hline)[1]
        draw.line((x0, y, x1, y), fill=(0, 0, 0), width=1)
        draw.text((x1 - 120, y - 12), f"expert {hline:.0f}", fill=(0, 0, 0))
    for i, (key, pts) in enumerate(lines.items()):
        color = COLORS[i % len(COLORS)]
        if len(pts) > 1:
            draw.line([to_xy(f, v) for f, v in pts], fill=color, width=2)
        elif pts:
            x, y = to_xy(*pts[0])
            draw.ellipse((x - 2, y - 2, x + 2, y + 2), fill=color)
        draw.text((x0 + 8 + 110 * i, y1 + 6), key, fill=color)


def plot_rows(rows: list[dict], out: Path, expert_score: float | None = None) -> None:
    """Writes the four panels of `rows` (metrics.jsonl rows) to `out` as a PNG."""
    max_frame = max((row["frame"] for row in rows), default=1)
    image = Image.new("RGB", (PANEL_W, PANEL_H * len(PANELS) + 16), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    for i, (title, keys) in enumerate(PANELS):
        lines = {key: _series(rows, key) for key in keys}
        hline = expert_score if "eval_score" in keys else None
        _panel(draw, i * PANEL_H, title, lines, hline, max_frame)
    draw.text((MARGIN, PANEL_H * len(PANELS)), f"frames (0 .. {max_frame:,})", fill=(0, 0, 0))
    image.save(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m agent.plot", description=__doc__)
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--expert", type=float, help="draw the expert's mean score as a line")
    args = parser.parse_args(argv)
    source = args.run_dir / "metrics.jsonl" if args.run_dir.is_dir() else args.run_dir
    try:
        rows = read_rows(source, strict=False)
    except (OSError, ValueError) as err:
        print(f"plot: {err}", file=sys.stderr)
        return 2
    plot_rows(rows, args.out, args.expert)
    return 0


if __name__ == "__main__":
    sys.exit(main())
