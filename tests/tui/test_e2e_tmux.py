"""End to end in a real terminal: `tempest-dqn train` with its dashboard, inside tmux.

Why: the other dashboard tests drive the Textual app headless with hand-made rows.  Only a real
pty shows that the trainer and its dashboard share one terminal properly: the numbers on the
screen are those of metrics.jsonl, keys reach the trainer through control/ and come back as
events, `q` stops it with a checkpoint and gives the terminal back (main screen, not the
dashboard's alternate one), and `watch` reopens the finished run and closes without sending
anything.

The screen names the row it shows: the status line counts the rows read ("N rows of
metrics.jsonl"), so the header and tiles must show exactly row N, and N may trail the file by a
few rows (the dashboard polls 4 times a second and the trainer writes every 0.5 s).

Needs tmux (`make test` installs it when it can); skipped with the reason when it is missing.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from tui import format as fmt

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
WIDTH, HEIGHT = 120, 40
"""At least 120x40: boxed tiles (value, then trend), the four charts, a six-line event strip."""
LAG_ROWS = 4
"""How many rows the screen may trail metrics.jsonl (polls at 4 Hz, rows every 0.5 s)."""
STARTUP_S = 60.0
"""Imports, numba's cache and the first rows on a loaded 2-core machine."""
STEP_S = 20.0
"""Any later step: a command acknowledged, a row shown, the trainer saving and exiting."""

TILE_LABELS = {"epsilon": "ε", "expert": "expert", "loss": "loss", "replay": "replay",
               "steps": "steps/s"}  # fmt: skip
"""Tiles of the two left columns: notifications (bottom right) never cover them."""
HEADER = re.compile(
    r"frame (?P<frames>\S+) · (?P<fps>\S+) fps · (?P<elapsed>\S+) │ (?P<state>\S+) · "
    r"driver: (?P<driver>.+?)\s*$"
)
ROW_COUNT = re.compile(r"(\d[\d,]*) rows? (?:of metrics\.jsonl|$)")
"""The status line: "40 rows of metrics.jsonl in …", or "… is the trainer running? 40 rows", or
"run stopped at frame … · 40 rows of metrics.jsonl"."""

T = TypeVar("T")


# ---- tmux --------------------------------------------------------------------------------------


class Tmux:
    """A private tmux server (its own socket): parallel runs cannot meet, teardown kills it all.

    Its config keeps a pane on screen after its process ends (remain-on-exit), so the last
    screen can still be read, and hides the status bar: the pane is the whole WIDTHxHEIGHT
    window.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.socket = f"tempest-e2e-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.conf = workdir / "tmux.conf"
        self.conf.write_text("set -g remain-on-exit on\nset -g status off\n")
        self.env = {k: v for k, v in os.environ.items() if k not in ("TMUX", "TMUX_PANE")}
        self.env["TERM"] = "xterm-256color"

    def __call__(self, *args: str) -> str:
        done = subprocess.run(["tmux", "-L", self.socket, "-f", str(self.conf), *args],
                              capture_output=True, text=True, env=self.env, timeout=30)  # fmt: skip
        if done.returncode != 0:
            raise AssertionError(f"tmux {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def start(self, session: str, command: list[str]) -> None:
        """Runs `command` in a new session; its exit status goes to exit_status(session).

        Why a file: tmux 3.3 marks a pane dead when its pty closes and sometimes leaves the
        exited process unreaped for many seconds, with no #{pane_dead_status} meanwhile."""
        line = shlex.join(["env", "TERM=xterm-256color", *command])
        done = shlex.quote(str(self.status_file(session)))
        shell = f"{line}; echo $? > {done}.tmp; mv {done}.tmp {done}"
        self("new-session", "-d", "-s", session, "-x", str(WIDTH), "-y", str(HEIGHT),
             "-c", str(REPO), shell)  # fmt: skip

    def status_file(self, session: str) -> Path:
        return self.workdir / f"{session}.exit-status"

    def exit_status(self, session: str) -> int | None:
        """The command's exit status (128 + N when signal N killed it); None while it runs."""
        try:
            return int(self.status_file(session).read_text())
        except FileNotFoundError:
            return None

    def screen(self, session: str) -> str:
        return self("capture-pane", "-p", "-t", session)

    def history(self, session: str) -> str:
        """Everything the pane's main screen printed, scrollback included, wrapped lines joined."""
        return self("capture-pane", "-p", "-J", "-S", "-", "-t", session)

    def pane(self, session: str, field: str) -> str:
        return self("display-message", "-p", "-t", session, f"#{{{field}}}").strip()

    def keys(self, session: str, *keys: str) -> None:
        self("send-keys", "-t", session, *keys)

    def kill(self) -> None:
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True,
                       env=self.env, timeout=30)  # fmt: skip


@pytest.fixture
def tmux(tmp_path):
    if shutil.which("tmux") is None:
        pytest.skip("tmux is not installed (`make test` installs it with apt-get when it can)")
    server = Tmux(tmp_path)
    try:
        yield server
    finally:
        server.kill()  # SIGHUP to whatever still runs in its panes (trainer and dashboard)


# ---- what the run wrote -------------------------------------------------------------------------


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Complete lines only: the trainer may be writing the last one."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    return [json.loads(line) for line in text.split("\n")[:-1] if line.strip()]


# ---- what the screen shows ----------------------------------------------------------------------


def shown(screen: str) -> dict[str, str] | None:
    """The header's fields, the left tiles' values and the row count; None if any is not there."""
    lines = screen.splitlines()
    header = HEADER.search(lines[0]) if lines else None
    count = [m for line in lines if (m := ROW_COUNT.search(line))]
    if header is None or not count:
        return None
    found = header.groupdict() | {"rows": count[-1].group(1).replace(",", "")}
    for key, label in TILE_LABELS.items():
        value = tile_value(lines, label)
        if value is None:
            return None
        found[key] = value
    found["replay"] = found["replay"].split("/")[0]  # "964/5.00k": the size, then the capacity
    return found


def tile_value(lines: list[str], label: str) -> str | None:
    """The first line inside the box titled `label` (boxed tiles: value, then the trend)."""
    for top, below in zip(lines, lines[1:], strict=False):
        at = top.find(f"╭─ {label} ─")
        if at >= 0:
            return below[at + 1 :].split("│")[0].strip()
    return None


def expected(rows: list[dict[str, Any]], count: int) -> dict[str, str]:
    """What the screen must show when it has read `count` rows: row `count` and its rate."""
    row = rows[count - 1]
    return {
        "frames": fmt.si(row["frame"]), "fps": fmt.integer(row["fps"]),
        "elapsed": fmt.duration(row["t"]), "state": row["state"], "driver": row["driver"],
        "rows": str(count), "epsilon": fmt.number(row["epsilon"]),
        "expert": fmt.percent(row["expert_ratio"]), "loss": fmt.number(row["loss"]),
        "replay": fmt.si(row["replay_size"]), "steps": fmt.number(steps_per_s(rows[:count])),
    }  # fmt: skip


def steps_per_s(rows: list[dict[str, Any]]) -> float | None:
    """The steps/s tile: learner steps over the last 5 intervals (fewer at the start)."""
    if len(rows) < 2:
        return None
    before, after = rows[-min(6, len(rows))], rows[-1]
    elapsed = after["t"] - before["t"]
    return max(0.0, (after["learner_steps"] - before["learner_steps"]) / elapsed)


def wait_for(what: str, probe: Callable[[], T | None], timeout: float,
             detail: Callable[[], str]) -> T:  # fmt: skip
    """Polls `probe` until it returns something truthy; fails with `detail()` after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}\n{detail()}")
        time.sleep(0.25)


class Run:
    """One run directory and the tmux session showing it."""

    def __init__(self, tmux: Tmux, session: str, root: Path) -> None:
        self.tmux, self.session, self.root = tmux, session, root

    def rows(self) -> list[dict[str, Any]]:
        return read_jsonl(self.root / "metrics.jsonl")

    def events(self) -> list[dict[str, Any]]:
        return read_jsonl(self.root / "events.jsonl")

    def screen(self) -> str:
        return self.tmux.screen(self.session)

    def detail(self) -> str:
        rows, events = self.rows(), self.events()
        lines = [f"screen of {self.session}:", self.screen(), f"{len(rows)} rows; the last ones:"]
        lines += [json.dumps(expected(rows, n), ensure_ascii=False)
                  for n in range(max(1, len(rows) - LAG_ROWS), len(rows) + 1)]  # fmt: skip
        lines += ["events:", *(json.dumps(e) for e in events[-6:])]
        return "\n".join(lines)

    def wait_for_row_on_screen(self, what: str, row_ok: Callable[[dict], bool] = lambda row: True,
                               lag: int = LAG_ROWS, timeout: float = STEP_S,
                               state: str | None = None) -> int:  # fmt: skip
        """Waits until the screen shows exactly one of the last `lag` rows (one that `row_ok`
        accepts; `state` in the header instead of the row's, for a run that ended); returns
        how many rows the dashboard had read."""

        def probe() -> int | None:
            on_screen = shown(self.screen())  # first the screen, then the file: never behind it
            rows = self.rows()
            if on_screen is None:
                return None
            count = int(on_screen["rows"])
            if not 0 < count <= len(rows) or len(rows) - count >= lag:
                return None
            want = expected(rows, count) | ({"state": state} if state else {})
            if on_screen != want or not row_ok(rows[count - 1]):
                return None
            return count

        return wait_for(what, probe, timeout, self.detail)

    def wait_for_event(self, what: str, match: Callable[[dict], bool]) -> dict[str, Any]:
        def probe() -> dict[str, Any] | None:
            return next((e for e in self.events() if match(e)), None)

        return wait_for(what, probe, STEP_S, self.detail)

    def wait_for_exit(self) -> int:
        """Waits for the command in the pane to end; its exit status."""
        wait_for("the process in the pane to exit",
                 lambda: self.tmux.exit_status(self.session) is not None, STEP_S,
                 self.detail)  # fmt: skip
        return self.tmux.exit_status(self.session)


# ---- the test -----------------------------------------------------------------------------------


def test_train_dashboard_then_watch_in_a_real_terminal(tmux, tmp_path):
    run_dirs = tmp_path / "runs"
    tmux.start("train", [sys.executable, "-m", "agent", "train", "--preset", "smoke",
                         "--frames", "400000", "--run-dir", str(run_dirs),
                         "--metrics.interval-s", "0.5", "--tui.enabled", "true"])  # fmt: skip
    run = Run(tmux, "train", run_dirs / "tempest-v0")  # the default name: the env id, lowered
    assert tmux.pane("train", "pane_width") + "x" + tmux.pane("train", "pane_height") == "120x40"

    # The numbers on screen are those of metrics.jsonl.
    wait_for("5 metrics rows", lambda: len(run.rows()) >= 5, STARTUP_S, run.detail)
    run.wait_for_row_on_screen("the screen to show one of the last rows")
    assert "Tempest-v0 on " in run.screen()

    _greedy_save_and_quit(run)
    _watch_the_finished_run(tmux, run.root)


def _greedy_save_and_quit(run: Run) -> None:
    """`p` `s` `q`: each acknowledged by the trainer in events.jsonl and shown on the screen."""
    run.tmux.keys(run.session, "p")
    greedy = run.wait_for_event("the greedy command's receipt", lambda e: e["kind"] == "command"
                                and e.get("command") == "greedy")  # fmt: skip
    assert greedy["message"] == "greedy acting on"
    run.wait_for_row_on_screen(
        "a greedy row on the screen",
        lambda row: row["driver"] == "greedy" and row["t"] > greedy["t"],
    )
    later = [row for row in run.rows() if row["t"] > greedy["t"]]
    assert later and all(row["driver"] == "greedy" and row["epsilon"] == 0 for row in later)
    assert "driver: greedy" in run.screen().splitlines()[0]
    wait_for("the receipt in the event strip", lambda: "greedy acting on" in run.screen(),
             STEP_S, run.detail)  # fmt: skip

    run.tmux.keys(run.session, "s")
    saved = run.wait_for_event("the requested checkpoint", lambda e: e["kind"] == "checkpoint")
    assert saved["message"].endswith("(requested)")
    assert Path(saved["path"]).is_dir()
    wait_for("the checkpoint in the event strip", lambda: saved["message"] in run.screen(),
             STEP_S, run.detail)  # fmt: skip

    run.tmux.keys(run.session, "q")
    assert run.wait_for_exit() == 0, run.tmux.history(run.session)
    rows, events = run.rows(), run.events()
    ended, last = events[-1], events[-2]
    commands = [e.get("command") for e in events if e["kind"] == "command"]
    assert commands == ["greedy", "save", "quit"]
    assert events[-3]["message"] == "stopping after a final checkpoint"
    assert last["kind"] == "checkpoint" and last["message"].endswith("(quit)")
    assert (ended["run_end"], ended["reason"]) == ("stopped", "quit")
    assert last["frame"] == rows[-1]["frame"]
    assert (run.root / "checkpoints" / "latest").exists()
    assert Path(last["path"]).is_dir()
    assert list((run.root / "control").iterdir()) == []  # every command consumed
    # The dashboard gave the terminal back: the trainer's last words are on the main screen.
    assert run.tmux.pane(run.session, "alternate_on") == "0", run.screen()
    printed = run.tmux.history(run.session)
    assert f"done at frame {rows[-1]['frame']:,}; checkpoint in" in printed, printed


def _watch_the_finished_run(tmux: Tmux, root: Path) -> None:
    """`watch` shows the last row of the ended run; ctrl+q closes it and sends nothing."""
    tmux.start("watch", [sys.executable, "-m", "agent", "watch", str(root)])
    watch = Run(tmux, "watch", root)
    rows, events = watch.rows(), watch.events()
    count = watch.wait_for_row_on_screen("the last row in watch", lag=1, timeout=STARTUP_S,
                                         state="stopped")  # by `q`: it says so
    assert count == len(rows)
    assert f"frame {fmt.si(rows[-1]['frame'])} ·" in watch.screen().splitlines()[0]
    assert "run stopped at frame" in watch.screen()  # the status line, not "is it running?"

    tmux.keys("watch", "C-q")
    assert watch.wait_for_exit() == 0, watch.tmux.history(watch.session)
    assert tmux.pane("watch", "alternate_on") == "0", watch.screen()
    assert list((root / "control").iterdir()) == []
    assert watch.events() == events and watch.rows() == rows
