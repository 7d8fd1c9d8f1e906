"""The replay engine: numpy + numba only, no torch.

`ReplayBuffer` stores the transitions of N vectorised environments in per-environment rings,
rebuilds frame stacks and n-step returns at sample time, samples uniformly or in proportion to
priority, and saves and loads itself atomically.  `Batch` is what `sample()` returns.
"""

from replay.buffer import ReplayBuffer
from replay.types import NO_EXPERT_ACTION, Batch, ReplayFormatError, Source, storage_rows

__all__ = ["NO_EXPERT_ACTION", "Batch", "ReplayBuffer", "ReplayFormatError", "Source",
           "storage_rows"]
