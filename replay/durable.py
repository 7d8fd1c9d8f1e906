"""Durable file primitives: bytes that reach the disk before a rename makes them visible.

Defined once, here, for everything that saves: the replay's columns (`replay.persist`) and the
run directory's checkpoints and state files (`agent.rundir`, `agent.checkpoint`); the import
rules let the agent use the replay package, not the other way round.
"""

from __future__ import annotations

import os
from pathlib import Path


def write_synced(path: Path, data: bytes) -> None:
    """Write `data` to `path` and fsync it (the caller renames it into place)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def fsync_path(path: Path) -> None:
    """fsync a file (its bytes) or a directory (the renames inside it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
