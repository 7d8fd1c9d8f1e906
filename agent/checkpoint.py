"""Checkpoints: atomic, fsynced generations of everything a run needs to resume exactly.

    checkpoints/
      gen-000007/         one generation
        model.safetensors   every tensor: networks, optimiser state (safetensors: data, no code)
        state.json          counters, schedules, RNG states, metric windows, format version
        replay/             the replay buffer (replay.persist: .npy columns + JSON header)
      latest -> gen-000007  a symlink, replaced atomically

A generation is written into a hidden temporary directory, fsynced, and renamed into place; only
then does `latest` move.  An old generation is dropped the same way backwards: renamed out of
the numbered names first, then deleted.  A crash at any moment (kill -9 included: a test kills a
real run twenty times) leaves every numbered generation complete and `latest` pointing at one;
the hidden leftovers of a save or a drop cut short are removed by the next save.  Loading never
unpickles: tensors come from safetensors, everything else from JSON and `.npy` files read with
allow_pickle=False.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import TYPE_CHECKING

from agent.rundir import write_atomic
from metrics.events import pid_alive
from replay.durable import fsync_path, write_synced

if TYPE_CHECKING:
    import torch

    from replay import ReplayBuffer

FORMAT_VERSION = 1
LATEST = "latest"
PREFIX = "gen-"
WRITING, DROPPING = ".tmp-", ".drop-"
"""Markers of hidden work in progress: `.gen-000007.tmp-PID` being written, `.gen-000004.drop-PID`
being deleted."""


class CheckpointError(Exception):
    """A checkpoint that cannot be loaded; the message names the file and what is wrong."""


def save_checkpoint(checkpoints: Path, tensors: dict[str, torch.Tensor], state: dict,
                    replay: ReplayBuffer | None, keep: int,
                    pinned: frozenset[str] = frozenset()) -> Path:
    """Write a new generation, point `latest` at it, and drop generations beyond `keep`
    (never those named in `pinned`: guard mode's rollback targets).

    Returns:
        The new generation's directory.
    """
    from safetensors.torch import save

    checkpoints.mkdir(parents=True, exist_ok=True)
    remove_leftovers(checkpoints)
    generation = checkpoints / f"{PREFIX}{_next_number(checkpoints):06d}"
    tmp = checkpoints / f".{generation.name}{WRITING}{os.getpid()}"
    tmp.mkdir()
    try:
        # serialised here and written by Python, so a full disk is an OSError like every other
        # write's (safetensors' own save_file reports it as a SafetensorError)
        model = save({k: v.detach().contiguous().cpu() for k, v in tensors.items()})
        write_synced(tmp / "model.safetensors", model)
        record = {"format_version": FORMAT_VERSION, "written_at": time.time(), **state}
        write_atomic(tmp / "state.json", (json.dumps(record, indent=1) + "\n").encode())
        if replay is not None:
            replay.save(tmp / "replay")
        fsync_path(tmp)
        os.rename(tmp, generation)
        fsync_path(checkpoints)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    point_latest(checkpoints, generation)
    _drop_old_generations(checkpoints, keep, pinned)
    return generation


def latest_checkpoint(checkpoints: Path) -> Path | None:
    """The generation `latest` points at, or None for a run that has never saved."""
    link = checkpoints / LATEST
    if not link.is_symlink() and not link.exists():
        return None
    target = checkpoints / os.readlink(link) if link.is_symlink() else link
    if not target.is_dir():
        raise CheckpointError(f"{link} points at {target}, which does not exist; restore it, or "
                              f"start over with --fresh (the run is archived, not deleted)")
    return target


def load_checkpoint(generation: Path) -> tuple[dict[str, torch.Tensor], dict]:
    """Read a generation's tensors and state; raises CheckpointError naming the bad file.

    The replay is loaded separately (`ReplayBuffer.load(generation / "replay")`), after the model
    has been checked, so that nothing is applied until everything has been read.
    """
    from safetensors import SafetensorError
    from safetensors.torch import load_file

    state_file, model_file = generation / "state.json", generation / "model.safetensors"
    try:
        state = json.loads(state_file.read_text())
    except FileNotFoundError:
        raise CheckpointError(f"{state_file} is missing: the checkpoint is incomplete") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CheckpointError(f"{state_file} is not valid JSON ({err}): corrupt") from None
    if not isinstance(state, dict) or state.get("format_version") != FORMAT_VERSION:
        raise CheckpointError(f"{state_file}: format_version {state.get('format_version')!r} "
                              f"is not {FORMAT_VERSION}, the one this build reads")
    try:
        tensors = load_file(str(model_file))
    except FileNotFoundError:
        raise CheckpointError(f"{model_file} is missing: the checkpoint is incomplete") from None
    except (SafetensorError, OSError, ValueError) as err:
        raise CheckpointError(f"{model_file} cannot be read ({err}): corrupt or truncated"
                              ) from None
    return tensors, state


def generation_number(generation: Path) -> int:
    """7 for gen-000007."""
    return int(generation.name[len(PREFIX):])


def generation_frame(generation: Path) -> int | None:
    """The frame a checkpoint generation was saved at (its state.json), None if unreadable."""
    try:
        state = json.loads((generation / "state.json").read_text())
        return int(state["counters"]["frame"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def list_generations(checkpoints: Path) -> list[Path]:
    """The run's generations (complete, numbered directories), oldest first."""
    found = [p for p in checkpoints.glob(f"{PREFIX}*")
             if p.name[len(PREFIX):].isdigit() and p.is_dir()]
    return sorted(found, key=generation_number)


def _next_number(checkpoints: Path) -> int:
    return max(map(generation_number, list_generations(checkpoints)), default=0) + 1


def point_latest(checkpoints: Path, generation: Path) -> None:
    """Point `latest` at `generation`: a new symlink renamed over the old one (atomic)."""
    tmp = checkpoints / f".{LATEST}{WRITING}{os.getpid()}"
    if tmp.is_symlink() or tmp.exists():
        tmp.unlink()
    os.symlink(generation.name, tmp)
    os.replace(tmp, checkpoints / LATEST)
    fsync_path(checkpoints)


def _drop_old_generations(checkpoints: Path, keep: int,
                          pinned: frozenset[str] = frozenset()) -> None:
    """Keep the newest `keep` generations besides the pinned ones (and never the one `latest`
    names)."""
    generations = [p for p in list_generations(checkpoints) if p.name not in pinned]
    current = latest_checkpoint(checkpoints)
    for old in generations[: max(len(generations) - max(keep, 1), 0)]:
        if current is None or old.resolve() != current.resolve():
            doomed = checkpoints / f".{old.name}{DROPPING}{os.getpid()}"
            os.rename(old, doomed)  # out of the numbered names at once: never half a generation
            shutil.rmtree(doomed)


def remove_leftovers(checkpoints: Path) -> list[str]:
    """Removes the hidden leftovers of saves and drops that a crash cut short (`.gen-*.tmp-PID`,
    `.gen-*.drop-PID`, `.latest.tmp-PID`) unless their process still runs (another trainer on
    the same run directory is not ours to clean up after); returns their names."""
    removed = []
    for entry in checkpoints.iterdir():
        pid = _leftover_pid(entry.name)
        if pid is None or (pid != os.getpid() and pid_alive(pid)):
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed.append(entry.name)
    return removed


def _leftover_pid(name: str) -> int | None:
    """The process id in a hidden work-in-progress name, None for any other name."""
    if not name.startswith("."):
        return None
    for marker in (WRITING, DROPPING):
        head, found, pid = name.rpartition(marker)
        if found and head and pid.isdigit():
            return int(pid)
    return None
