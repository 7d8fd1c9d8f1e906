"""The run directory (DESIGN.md §4.2): where a run's files live (their names:
`metrics.runfiles`), and archiving on `--fresh`.

Nothing a user trained is deleted here: a fresh start moves the previous run state into
`archive/<timestamp>/` (a rename, so it is instant and atomic per entry).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

import config
from metrics.runfiles import (
    ARCHIVE_DIR,
    CHECKPOINTS_DIR,
    CONFIG_FILE,
    CONTROL_DIR,
    EVENTS_FILE,
    METRICS_FILE,
)
from replay.durable import fsync_path, write_synced

PRODUCT = "tempest-dqn"
ARCHIVED = (CONFIG_FILE, METRICS_FILE, EVENTS_FILE, CHECKPOINTS_DIR, CONTROL_DIR)
"""Entries of a run directory that make up its state, moved aside together by --fresh."""


class RunDirError(Exception):
    """The run directory cannot be used (missing parent, not writable, not a directory)."""


@dataclass(frozen=True)
class RunPaths:
    """The files and folders of one run."""

    root: Path

    @property
    def config(self) -> Path:
        return self.root / CONFIG_FILE

    @property
    def metrics(self) -> Path:
        return self.root / METRICS_FILE

    @property
    def events(self) -> Path:
        return self.root / EVENTS_FILE

    @property
    def control(self) -> Path:
        return self.root / CONTROL_DIR

    @property
    def checkpoints(self) -> Path:
        return self.root / CHECKPOINTS_DIR

    @property
    def archive(self) -> Path:
        return self.root / ARCHIVE_DIR


def run_name(cfg: config.Config) -> str:
    """The run's name: `run.name`, or one derived from the env id so the same command resumes."""
    if cfg.run.name:
        return cfg.run.name
    return cfg.env.id.replace("/", "-").lower()


def product_version() -> str:
    try:
        from importlib.metadata import version

        return version(PRODUCT)
    except Exception:  # noqa: BLE001 - running from a source tree that is not installed
        return "unknown"


def open_run_dir(cfg: config.Config) -> RunPaths:
    """Create (or reopen) the run directory and record the configuration in it.

    With `run.force_fresh_model`, the previous run state is archived first.

    Raises:
        RunDirError: the directory cannot be created or written; the message says which path
            and why.
    """
    paths = RunPaths(Path(cfg.run.run_dir) / run_name(cfg))
    _make_writable_dir(paths.root)
    if cfg.run.force_fresh_model:
        archive_previous(paths)
    paths.control.mkdir(exist_ok=True)
    paths.checkpoints.mkdir(exist_ok=True)
    record = {"product": PRODUCT, "version": product_version(), "config": config.to_dict(cfg)}
    write_atomic(paths.config, (json.dumps(record, indent=2) + "\n").encode())
    return paths


def _make_writable_dir(path: Path) -> None:
    if path.exists() and not path.is_dir():
        raise RunDirError(f"{path} exists and is not a directory; choose another --run-dir or "
                          f"--run.name")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunDirError(f"cannot create the run directory {path}: {err.strerror}; choose a "
                          f"writable --run-dir") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise RunDirError(f"the run directory {path} is not writable; choose a writable "
                          f"--run-dir or fix its permissions")


def archive_previous(paths: RunPaths) -> Path | None:
    """Move the previous run state into archive/<timestamp>/; returns that folder, or None."""
    present = [name for name in ARCHIVED if (paths.root / name).exists()]
    if not present:
        return None
    target = new_archive_folder(paths)
    for name in present:
        os.rename(paths.root / name, target / name)
    fsync_path(target)
    fsync_path(paths.root)
    return target


def write_atomic(path: Path, data: bytes) -> None:
    """Write `path` so that readers see the old content or the new one, never a mixture."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    write_synced(tmp, data)
    os.replace(tmp, path)
    fsync_path(path.parent)


def new_archive_folder(paths: RunPaths, label: str = "") -> Path:
    """A new, empty archive/<timestamp>[-label] folder (suffixed when two come in one second)."""
    stamp = time.strftime("%Y%m%d-%H%M%S") + (f"-{label}" if label else "")
    target, suffix = paths.archive / stamp, 1
    while target.exists():
        target = paths.archive / f"{stamp}-{suffix}"
        suffix += 1
    target.mkdir(parents=True)
    return target
