"""What the machine offers this process: memory that can still be allocated, and CPUs."""

from __future__ import annotations

import os

import config
from replay import ReplayBuffer


class MemoryBudgetError(Exception):
    """The configured replay does not fit in the machine's memory."""


def memory_available() -> int | None:
    """Bytes the kernel says can be allocated without swapping (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def replay_that_fits(cfg: config.Config, obs_shape: tuple[int, ...]) -> ReplayBuffer:
    """The configured replay buffer, its memory checked against what the machine has (before a
    page is touched), then committed (`prefault`), so a run that cannot fit stops at once with a
    size that would."""
    r = cfg.replay
    replay = ReplayBuffer.from_config(r, config.replay_streams(cfg), obs_shape, cfg.learner.gamma)
    available = memory_available()
    if available is not None and replay.nbytes > 0.9 * available:
        raise MemoryBudgetError(
            f"the replay needs {replay.nbytes / 1e9:.1f} GB ({r.capacity:,} transitions) "
            f"but only {available / 1e9:.1f} GB of memory is available; lower "
            f"--replay.capacity (about {int(r.capacity * 0.8 * available / replay.nbytes):,}"
            f" would fit)")
    replay.prefault()
    return replay


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS tells, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1
