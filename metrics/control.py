"""The control channel: commands from the dashboard (or any process) to the trainer, as files.

Why files in `run_dir/control/`: the dashboard may run in another terminal or attach to a headless
job (`tempest-dqn watch`), so there is no shared memory or socket to rely on; a directory works for
any writer, survives either side restarting and needs no server.

One command = one small JSON file `{"version": 1, "command": NAME, "args": {...}, "sent_at": UNIX,
"pid": PID}`.  It is written under a dot-name, fsynced and renamed, so the trainer never sees half a
file.  The final name is `<monotonic-ns, 20 digits>-<pid>-<seq>.json`: CLOCK_MONOTONIC is shared by
all processes of a machine, so names sort by sending time, and pid/seq keep them unique.
The trainer polls `CommandInbox`, which consumes the files in name order (deleting each) and turns
what does not parse or names an unknown command into a `BadCommand` to log and ignore.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from metrics.runfiles import CONTROL_DIR

FORMAT_VERSION = 1
MAX_FILE_BYTES = 64 * 1024

COMMANDS: dict[str, dict[str, tuple[str, ...]]] = {
    "pause": {},
    "resume": {},
    "save": {},
    "expert": {"value": ("on", "off", "auto")},
    "expert_ratio": {"value": ("up", "down")},
    "epsilon": {"value": ("up", "down", "auto")},
    "greedy": {},
    "lr": {"value": ("x2", "half")},
    "imitation": {"value": ("off", "auto", "toggle")},
    "curriculum": {"value": ("pin", "auto", "toggle", "up", "down")},
    "quit": {},
}
"""command name -> {argument: accepted values}; every listed argument is required.

pause/resume: stop/continue acting and learning; save: checkpoint now; expert: force the expert
curriculum on or off, or back to its schedule; expert_ratio: step the ratio up or down; epsilon:
step ε up or down, or back to its schedule; greedy: toggle ε = 0 acting; lr: double or halve
the learning rate; imitation: switch the imitation term off, back to its schedule, or between
the two; curriculum: pin the start-wave frontier where it is, hand it back to the evaluations,
toggle between the two, or move it one skill step up or down (which pins it); quit: checkpoint
and stop.
"""

_NAME = re.compile(r"^\d{20}-\d+-\d+\.json$")
_sequence = itertools.count()


@dataclass(frozen=True)
class Command:
    """A valid command, as the trainer acts on it."""

    name: str
    args: dict[str, str] = field(default_factory=dict)
    sent_at: float | None = None
    file: str = ""


@dataclass(frozen=True)
class BadCommand:
    """A control file that could not be used; the trainer logs `reason` and ignores it."""

    file: str
    reason: str
    text: str = ""


def command_problem(name: object, args: object) -> str | None:
    """Why (name, args) is not a valid command, or None."""
    if not isinstance(name, str) or name not in COMMANDS:
        return f"unknown command {name!r}; known: {', '.join(COMMANDS)}"
    if not isinstance(args, dict):
        return f"{name}: args must be an object, got {type(args).__name__}"
    spec = COMMANDS[name]
    unknown = sorted(set(args) - set(spec))
    if unknown:
        return f"{name}: unknown argument(s) {unknown}; accepted: {sorted(spec) or 'none'}"
    for arg, choices in spec.items():
        if arg not in args:
            return f"{name}: missing argument {arg!r} (one of {', '.join(choices)})"
        if args[arg] not in choices:
            return f"{name}: {arg}={args[arg]!r} is not one of {', '.join(choices)}"
    return None


def control_dir(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / CONTROL_DIR


def send_command(run_dir: str | os.PathLike[str], name: str, **args: str) -> Path:
    """Writes one command atomically into `run_dir/control/`; returns the file's path.

    Raises:
        ValueError: unknown command or bad argument (nothing is written).
        FileNotFoundError: `run_dir` does not exist (a typo must not create a stray run).
    """
    problem = command_problem(name, args)
    if problem:
        raise ValueError(problem)
    if not Path(run_dir).is_dir():
        raise FileNotFoundError(f"run directory not found: {run_dir}")
    folder = control_dir(run_dir)
    folder.mkdir(exist_ok=True)
    pid, seq = os.getpid(), next(_sequence)
    payload = {"version": FORMAT_VERSION, "command": name, "args": args,
               "sent_at": time.time(), "pid": pid}  # fmt: skip
    temp = folder / f".tmp-{pid}-{seq}.json"
    with open(temp, "w", encoding="utf-8") as file:
        json.dump(payload, file)
        file.flush()
        os.fsync(file.fileno())
    final = folder / f"{time.monotonic_ns():020d}-{pid}-{seq}.json"
    os.replace(temp, final)
    return final


def parse_command(text: str, file: str = "") -> Command | BadCommand:
    """The command in one control file's text, or a BadCommand saying why not."""
    try:
        payload = json.loads(text)
    except json.JSONDecodeError as exc:
        return BadCommand(file, f"not JSON ({exc})", text[:200])
    if not isinstance(payload, dict):
        return BadCommand(file, f"not a JSON object but {type(payload).__name__}", text[:200])
    if payload.get("version", FORMAT_VERSION) != FORMAT_VERSION:
        return BadCommand(file, f"unsupported version {payload.get('version')!r}", text[:200])
    name, args = payload.get("command"), payload.get("args", {})
    problem = command_problem(name, args)
    if problem:
        return BadCommand(file, problem, text[:200])
    sent_at = payload.get("sent_at")
    sent_at = float(sent_at) if isinstance(sent_at, int | float) else None
    return Command(name, dict(args), sent_at, file)


class CommandInbox:
    """The trainer's side: `poll()` consumes pending command files, oldest first.

    Files are deleted once read.  Names starting with a dot (a writer's temporary file) and files
    not ending in .json are left alone; other .json names are consumed in name order, those not
    in the writer's naming scheme included (a hand-written file is still a command).
    """

    def __init__(self, run_dir: str | os.PathLike[str]) -> None:
        self.folder = control_dir(run_dir)
        self._stuck: set[str] = set()  # read but not deletable: reported once, then skipped

    def pending(self) -> list[Path]:
        """Command files waiting, in the order they will be consumed."""
        if not self.folder.is_dir():
            return []
        return sorted(
            (p for p in self.folder.iterdir() if p.suffix == ".json" and p.name[0] != "."),
            key=lambda p: (not _NAME.match(p.name), p.name),
        )

    def poll(self) -> list[Command | BadCommand]:
        """Reads, deletes and returns every pending command (BadCommand for unusable files)."""
        found: list[Command | BadCommand] = []
        for path in self.pending():
            if path.name in self._stuck:
                continue
            try:
                with open(path, "rb") as file:
                    data = file.read(MAX_FILE_BYTES + 1)
                path.unlink()
            except FileNotFoundError:  # taken by another reader between listing and opening
                continue
            except OSError as exc:
                self._stuck.add(path.name)
                found.append(BadCommand(path.name, f"cannot read or delete: {exc}"))
                continue
            found.append(self._decode(path.name, data))
        return found

    @staticmethod
    def _decode(name: str, data: bytes) -> Command | BadCommand:
        if len(data) > MAX_FILE_BYTES:
            return BadCommand(name, f"larger than {MAX_FILE_BYTES} bytes")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            return BadCommand(name, f"not UTF-8 text ({exc})")
        return parse_command(text, name)

    def discard_pending(self) -> int:
        """Deletes waiting commands without acting on them (stale ones at trainer start)."""
        return len(self.poll())


def describe(command: Command | BadCommand) -> dict[str, Any]:
    """Fields for an events.jsonl "command" event."""
    if isinstance(command, BadCommand):
        return {"command": None, "file": command.file, "rejected": command.reason}
    return {"command": command.name, "args": command.args, "file": command.file}
