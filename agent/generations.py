"""Which checkpoint generations are intact, and resuming from an older one when `latest` rots.

Every generation is verified the same way a resume would read it, without applying anything:
`state.json` parses with the format this build reads, `model.safetensors` loads, and the replay
save (when there is one) passes its header and every column's size and CRC-32
(`replay.persist.verify`).  `--resume-from` names a generation (`gen-000006`, `6`) or
`latest-good` (the newest that verifies); the generations newer than it are moved to
`archive/<timestamp>-unloadable/`, never deleted, and `latest` points at the chosen one.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from agent.checkpoint import (
    PREFIX,
    CheckpointError,
    generation_number,
    latest_checkpoint,
    load_checkpoint,
    point_latest,
)
from agent.checkpoint import list_generations as generations
from agent.rundir import RunPaths, new_archive_folder
from replay import ReplayFormatError, persist
from replay.durable import fsync_path

LATEST_GOOD = "latest-good"
"""`--resume-from` value: the newest generation that verifies."""


def problem_with(generation: Path) -> str | None:
    """None if `generation` would load, else what is wrong with it (reads everything)."""
    try:
        load_checkpoint(generation)
        if (generation / "replay").exists():
            persist.verify(generation / "replay")
    except (CheckpointError, ReplayFormatError) as err:
        return str(err)
    return None


def verified(checkpoints: Path) -> list[tuple[Path, str | None]]:
    """Every generation, newest first, with what is wrong with it (None: intact)."""
    return [(g, problem_with(g)) for g in reversed(generations(checkpoints))]


def describe(checkpoints: Path, report: list[tuple[Path, str | None]] | None = None) -> str:
    """One line per generation, newest first: its name, whether `latest` names it, and whether
    it verifies (or why not)."""
    try:
        latest = latest_checkpoint(checkpoints)
    except CheckpointError:
        latest = None
    lines = []
    for generation, problem in verified(checkpoints) if report is None else report:
        tag = " (latest)" if latest is not None and generation.name == latest.name else ""
        lines.append(f"  {generation.name}{tag}: " + ("intact" if problem is None
                                                       else f"unloadable: {problem}"))
    return "\n".join(lines) if lines else "  (no generations)"


def choose(checkpoints: Path, name: str) -> Path:
    """The generation `--resume-from` names, verified; CheckpointError (listing every
    generation) if it does not exist or does not verify."""
    if name == LATEST_GOOD:
        for generation in reversed(generations(checkpoints)):
            if problem_with(generation) is None:
                return generation
        raise CheckpointError(f"no generation in {checkpoints} verifies:\n{describe(checkpoints)}")
    match = re.fullmatch(rf"(?:{PREFIX})?(\d+)", name)
    wanted = int(match.group(1)) if match else None
    for generation in generations(checkpoints):
        if generation_number(generation) == wanted:
            problem = problem_with(generation)
            if problem is None:
                return generation
            raise CheckpointError(f"{generation.name} does not verify ({problem}); the "
                                  f"generations:\n{describe(checkpoints)}")
    raise CheckpointError(f"--resume-from {name}: no such generation in {checkpoints}; "
                          f"the generations:\n{describe(checkpoints)}")


def set_aside_newer(paths: RunPaths, chosen: Path) -> Path | None:
    """Move the generations newer than `chosen` into a new archive folder and point `latest`
    at `chosen`; returns the folder (None when there was nothing newer)."""
    number = generation_number(chosen)
    newer = [g for g in generations(paths.checkpoints) if generation_number(g) > number]
    if not newer:
        point_latest(paths.checkpoints, chosen)
        return None
    folder = new_archive_folder(paths, "unloadable")
    for generation in newer:
        os.rename(generation, folder / generation.name)
    fsync_path(folder)
    point_latest(paths.checkpoints, chosen)
    return folder


def to_resume(paths: RunPaths, resume_from: str) -> Path | None:
    """The generation a resume loads: `latest` (None for a run that never saved), or the
    verified one `resume_from` names.  Changes nothing: see `settle`."""
    if not resume_from:
        return latest_checkpoint(paths.checkpoints)
    return choose(paths.checkpoints, resume_from)


def settle(paths: RunPaths, chosen: Path, log) -> None:
    """After a resume from `chosen` loaded: the newer generations go to the archive, `latest`
    names `chosen`, and `log(level, message)` (the run's events) says where they went."""
    folder = set_aside_newer(paths, chosen)
    if folder is not None:
        log("warning", f"resumed from {chosen.name}: the newer generations are kept in {folder}")


def unloadable_message(checkpoints: Path, error: str) -> str:
    """What to say when `latest` does not load: the error, every generation and whether it
    verifies, and the way out."""
    report = verified(checkpoints)
    way_out = (f"resume from an intact one with --resume-from {LATEST_GOOD} (or a name above); "
               f"the newer ones are then moved to archive/, not deleted"
               if any(problem is None for _, problem in report) else
               "none of them verifies")
    return f"{error}\nthe generations in {checkpoints}:\n{describe(checkpoints, report)}\n{way_out}"
