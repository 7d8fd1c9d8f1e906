"""`tempest-dqn bench soak`: does a long run keep its memory, files and threads flat?

The system this replaces ran multi-day, billion-frame runs; a leak of a few MB an hour, a file
opened per checkpoint or a thread per evaluation only shows after hours.  This bench runs
`tempest-dqn train` (the default preset: the real run a user starts) as a child process for an
hour (quick: two minutes on the smoke preset) and samples, every minute (quick: every 10 s), the
child's resident memory (VmRSS), open file descriptors and threads from /proc, with the frame,
the replay's fill and the sizes of metrics.jsonl and events.jsonl.  The replay is committed
(prefaulted) before the first step, so once it is full anything still growing is the rest of the
process.

Targets (the issue's): after the replay is full, RSS grows by less than 2% per hour (a
least-squares slope over those samples, divided by their mean), and open files and threads
stay within a small band (max - min at most 2: a checkpoint or an evaluation may hold one more
while it runs).  The full soak's run directory is kept (its path is in the report) for
`tempest-dqn eval`, `doctor` and `plot`.  JSON on stdout, markdown on stderr.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from agent.bench import harness
from metrics.sink import read_rows

SIZES = {
    False: dict(preset="tempest", minutes=60.0, every_s=60.0),
    True: dict(preset="smoke", minutes=2.0, every_s=10.0),
}
RSS_GROWTH_PER_HOUR = 0.02
BAND = 2
"""Open files and threads may vary by this much: a checkpoint or an evaluation in flight."""


def sample(pid: int, run_dir: Path, started: float) -> dict:
    """One look at the trainer process and its run directory."""
    status = Path(f"/proc/{pid}/status").read_text()
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    rows = _last_row(run_dir / "metrics.jsonl")
    return dict(minute=round((time.monotonic() - started) / 60, 2),
                rss_mb=round(int(fields["VmRSS"].split()[0]) / 1024, 1),
                fds=len(os.listdir(f"/proc/{pid}/fd")), threads=int(fields["Threads"]),
                frame=rows.get("frame"), replay_size=rows.get("replay_size"),
                metrics_mb=_mb(run_dir / "metrics.jsonl"), events_kb=_kb(run_dir / "events.jsonl"))


def _last_row(path: Path) -> dict:
    try:
        rows = read_rows(path, strict=False, validator=None)
    except OSError:
        return {}
    return rows[-1] if rows else {}


def _mb(path: Path) -> float:
    return round(path.stat().st_size / 1e6, 2) if path.exists() else 0.0


def _kb(path: Path) -> float:
    return round(path.stat().st_size / 1e3, 1) if path.exists() else 0.0


def growth_per_hour(samples: list[dict], key: str) -> float:
    """Least-squares slope of `key` over the samples' minutes, per hour, over their mean."""
    if len(samples) < 2:
        return 0.0
    minutes = np.array([s["minute"] for s in samples], dtype=float)
    values = np.array([s[key] for s in samples], dtype=float)
    slope = np.polyfit(minutes, values, 1)[0] * 60
    return float(slope / values.mean())


def soak(preset: str, minutes: float, every_s: float, work_dir: Path) -> dict:
    """Runs the trainer for `minutes`, sampling every `every_s`; returns the case."""
    command = [sys.executable, "-m", "agent", "train", "--preset", preset, "--no-tui",
               "--run-dir", str(work_dir), "--run.name", "soak", "--frames", "10000000000"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
    started, samples = time.monotonic(), []
    try:
        while time.monotonic() - started < minutes * 60 and child.poll() is None:
            time.sleep(every_s)
            samples.append(sample(child.pid, work_dir / "soak", started))
            print(f"  soak: {samples[-1]}", file=sys.stderr, flush=True)
    finally:
        child.send_signal(signal.SIGINT)
        _, stderr = child.communicate(timeout=600)
    if child.returncode != 0:
        raise RuntimeError(f"the trainer exited {child.returncode}: {stderr[-2000:]}")
    return summarise(samples, preset, minutes)


def summarise(samples: list[dict], preset: str, minutes: float) -> dict:
    """The case: every sample, and the targets over those taken once the replay was full."""
    capacity = max((s["replay_size"] or 0) for s in samples) if samples else 0
    full = [s for s in samples if s["replay_size"] and s["replay_size"] >= capacity]
    rss_growth = growth_per_hour(full, "rss_mb")
    fd_band = max(s["fds"] for s in full) - min(s["fds"] for s in full) if full else 0
    thread_band = (max(s["threads"] for s in full) - min(s["threads"] for s in full)
                   if full else 0)
    return dict(name=f"{preset} for {minutes:g} min", samples=samples,
                full_from_minute=full[0]["minute"] if full else None,
                rss_growth_per_hour=round(rss_growth, 4), fd_band=fd_band,
                thread_band=thread_band,
                targets=[harness.target("RSS growth per hour, replay full", rss_growth,
                                        RSS_GROWTH_PER_HOUR, at_least=False),
                         harness.target("open files, max - min", fd_band, BAND, at_least=False),
                         harness.target("threads, max - min", thread_band, BAND,
                                        at_least=False)])


def render(report: dict) -> str:
    case = report["cases"][0]
    lines = [f"## bench soak: {case['name']}", "",
             "| minute | frame | replay | RSS MB | open files | threads | metrics MB | "
             "events kB |", "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {s['minute']} | {s['frame'] or 0:,} | {s['replay_size'] or 0:,} | "
              f"{s['rss_mb']} | {s['fds']} | {s['threads']} | {s['metrics_mb']} | "
              f"{s['events_kb']} |" for s in case["samples"]]
    lines.append(f"\nreplay full from minute {case['full_from_minute']}; RSS growth after it "
                 f"{100 * case['rss_growth_per_hour']:.2f}% per hour")
    return "\n".join(lines + harness.targets_markdown(report))


def main(quick: bool = False) -> int:
    started, size = time.perf_counter(), SIZES[bool(quick)]
    work_dir = Path(tempfile.mkdtemp(prefix="bench-soak-"))
    case = soak(size["preset"], size["minutes"], size["every_s"], work_dir)
    if quick:
        shutil.rmtree(work_dir)
    else:  # an hour of training: kept for `tempest-dqn eval` / `doctor` / `plot`
        case["run_dir"] = str(work_dir / "soak")
    notes = ["RSS: VmRSS of the trainer process; open files: entries of /proc/PID/fd; threads: "
             "Threads of /proc/PID/status; sampled from outside the process",
             "growth: least-squares slope over the samples taken with the replay full, per "
             "hour, over their mean"]
    return harness.publish("soak", quick, size, [case], notes, started, render)
