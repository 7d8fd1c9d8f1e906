"""`python -m tui RUN_DIR [--hz N]`: the dashboard attached to a run directory."""

from __future__ import annotations

import argparse

from tui.app import DashboardApp


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m tui", description=__doc__)
    parser.add_argument("run_dir", help="the run directory (holds metrics.jsonl)")
    parser.add_argument("--hz", type=float, default=4.0, help="polls per second (default 4)")
    args = parser.parse_args(argv)
    DashboardApp(args.run_dir, refresh_hz=args.hz).run()


if __name__ == "__main__":
    main()
