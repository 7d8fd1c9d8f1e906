"""`tempest-dqn bench attach`: how long the dashboard takes to attach to a month-long run.

A run writes a metrics row every 2 s: a month is 1.3 million rows, about a GB.  The dashboard's
first poll reads what it keeps of that file (tui.source.RunSource -> tui.model.History).  Two
contenders on one generated run directory of 1M rows (quick: 20,000), in this one process:

* **row by row**: every row parsed, validated and added to a History (what attaching did before
  metrics.skim, and still does for files under tui.source.SKIM_BYTES);
* **skimmed**: line boundaries found with numpy, only the kept rows parsed (metrics.skim).

Both must keep the same rows (checked: chart rows, recent rows, last evaluation).  The rows are
real rows' shape (IntervalAccumulator.row with every §5 key), an evaluation every 150 rows.
Target: skimmed attach under 10 s at 1M rows.  JSON on stdout, markdown on stderr.
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from agent.bench import harness
from metrics.schema import IntervalAccumulator
from tui import model
from tui.source import RunSource

SIZES = {False: dict(rows=1_000_000), True: dict(rows=20_000)}
EVAL_EVERY = 150
TARGET_S = 10.0


def generate(run_dir: Path, rows: int) -> int:
    """metrics.jsonl with `rows` rows of a Tempest run's shape; returns its size in bytes."""
    run_dir.mkdir(parents=True, exist_ok=True)
    base = IntervalAccumulator().row(
        0.0, epsilon=0.01, expert_ratio=0.0, lr=1e-4, learner_steps=0, target_age=0,
        replay_size=2_000_000, nonfinite_steps=0) | {
        "state": "training", "driver": "schedule", "device": "cpu", "fps": 7000.0,
        "loss": 0.001, "q_min": -15.0, "q_max": 15.0, "dqn_return_1m": 5000.0,
        "dqn_return_5m": 5000.0, "dqn5m_slope": 0.1, "agreement": 0.6,
        "imitation_weight": 0.0}
    with open(run_dir / "metrics.jsonl", "w", encoding="utf-8") as file:
        for i in range(rows):
            row = base | {"t": 2.0 * i, "frame": 14_000 * i, "learner_steps": 55 * i,
                          "episodes": 20 * i}
            if i % EVAL_EVERY == EVAL_EVERY - 1:
                row |= {"eval_score": 9000.0 + i % 1000, "eval_return": 900.0}
            file.write(json.dumps(row, separators=(",", ":")) + "\n")
    return (run_dir / "metrics.jsonl").stat().st_size


def attach(run_dir: Path, skim: bool) -> tuple[float, model.History]:
    """Seconds for a dashboard's first poll and what its History then holds."""
    started = time.perf_counter()
    keep = (model.RECENT_ROWS, model.WHOLE_RUN_POINTS) if skim else None
    poll = RunSource(run_dir, keep=keep).poll()
    history = model.History()
    if poll.skim is not None:
        history.seed(poll.skim)
    history.add(poll.rows)
    return time.perf_counter() - started, history


def main(quick: bool = False) -> int:
    started, size = time.perf_counter(), SIZES[bool(quick)]
    with tempfile.TemporaryDirectory(prefix="bench-attach-") as work_dir:
        generate(Path(work_dir) / "warm-up", 1000)
        attach(Path(work_dir) / "warm-up", skim=False)  # first-use costs paid outside the timing
        run_dir = Path(work_dir) / "run"
        nbytes = generate(run_dir, size["rows"])
        skimmed_s, skimmed = attach(run_dir, skim=True)
        every_s, every = attach(run_dir, skim=False)
    same = (skimmed.chart_rows() == every.chart_rows() and skimmed.last_eval == every.last_eval
            and list(skimmed.recent) == list(every.recent) and skimmed.count == every.count)
    case = dict(name=f"attach to {size['rows']:,} rows ({nbytes / 1e6:.0f} MB)",
                rows=size["rows"], bytes=nbytes, row_by_row_s=round(every_s, 2),
                skimmed_s=round(skimmed_s, 2), speedup=round(every_s / skimmed_s, 1),
                same_rows_kept=same,
                targets=[harness.target("skimmed attach, s", skimmed_s, TARGET_S,
                                        at_least=False),
                         harness.target("same rows kept (1 = yes)", float(same), 1.0)])
    notes = ["one attach each, skimmed first (the file is then in the page cache for both), "
             "after a warm-up attach to a small run (imports and first-use costs)",
             "a poll plus History: what the dashboard does before its first screen"]
    return harness.publish("attach", quick, size, [case], notes, started, _render)


def _render(report: dict) -> str:
    case = report["cases"][0]
    lines = [f"## bench attach: {case['name']}", "",
             "| contender | attach s |", "| --- | ---: |",
             f"| row by row | {case['row_by_row_s']} |", f"| skimmed | {case['skimmed_s']} |",
             f"\nskimmed is {case['speedup']}x faster; same rows kept: {case['same_rows_kept']}"]
    return "\n".join(lines + harness.targets_markdown(report))
