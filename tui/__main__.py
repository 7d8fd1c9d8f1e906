"""`python -m tui RUN_DIR [--hz N] [--headless] [--size COLSxROWS]`: the dashboard attached to a
run directory.

`--headless` runs the whole app (polling, models, layout, every widget and chart rendered at
`--size`) with Textual's headless driver, which only skips writing the frames to a terminal:
`tempest-dqn bench tui` measures the dashboard's cost to training that way, without a terminal.
"""

from __future__ import annotations

import argparse
import json
import re

from tui.app import DashboardApp
from tui.priority import yield_cpu_to_training

HEADLESS_SIZE = (160, 48)
"""Large enough for the widest layout (-w150, -h40): every tile and chart does real work."""


def terminal_size(text: str) -> tuple[int, int]:
    """`COLSxROWS` (e.g. 160x48) -> (cols, rows)."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX]\s*(\d+)\s*", text)
    if match is None or min(int(match[1]), int(match[2])) < 1:
        raise argparse.ArgumentTypeError(f"expected COLSxROWS such as 160x48, got {text!r}")
    return int(match[1]), int(match[2])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tui", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("run_dir", help="the run directory (holds metrics.jsonl)")
    parser.add_argument("--hz", type=float, default=4.0, help="polls per second (default 4)")
    parser.add_argument("--headless", action="store_true",
                        help="no terminal output: the full app, drawn off screen (benchmarks)")
    parser.add_argument("--size", type=terminal_size, default=None, metavar="COLSxROWS",
                        help="screen size (default: the terminal's; 160x48 with --headless)")
    parser.add_argument("--report", metavar="FILE", default=None,
                        help="on exit, write when each poll was shown (JSON; benchmarks)")
    args = parser.parse_args(argv)
    yield_cpu_to_training()
    size = args.size or (HEADLESS_SIZE if args.headless else None)
    app = DashboardApp(args.run_dir, refresh_hz=args.hz)
    app.run(headless=args.headless, size=size)
    if args.report:
        with open(args.report, "w", encoding="utf-8") as report:
            json.dump({"poll_times": list(app.poll_times)}, report)


if __name__ == "__main__":
    main()
