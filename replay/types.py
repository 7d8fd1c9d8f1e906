"""The replay engine's vocabulary: row flags, behaviour sources and the sampled `Batch`.

Kept apart from the kernels so that the learner, the actor and the tests can name these things
without importing numba code.
"""

from __future__ import annotations

from enum import IntEnum
from typing import NamedTuple

import numpy as np

# Row flags, one byte per stored row (bit field, so the n-step walk touches one array).
FLAG_TERMINATED = 1
"""The episode ended on this transition by a terminal state: no bootstrap past it."""
FLAG_TRUNCATED = 2
"""The episode was cut (time limit) on this transition: bootstrap from the final observation."""
FLAG_FIRST = 4
"""This row is the first observation of an episode: frame stacks never reach behind it."""
FLAG_FINAL = 8
"""This row holds only the final observation of an episode (no action, never sampled)."""


class Source(IntEnum):
    """Who chose the action stored in a row (the behaviour policy)."""

    DQN = 0
    """The network's greedy action."""
    RANDOM = 1
    """An epsilon-random action."""
    EXPERT = 2
    """The scripted expert's action."""
    NONE = 255
    """No action: a final-observation row."""


NO_EXPERT_ACTION = -1
"""`expert_action` when no expert label exists for the state."""


class Batch(NamedTuple):
    """One sampled batch: numpy arrays, leading dimension B; the learner converts them.

    The learning target is `reward + discount * max_a Q_target(next_obs, a)`: `discount` already
    holds gamma**horizon, or 0 where the window ended in a terminal state.
    """

    obs: np.ndarray
    """(B, D) feature vectors or (B, k, H, W) frame stacks: the state the action was taken in."""
    action: np.ndarray
    """(B,) int16: the action taken."""
    reward: np.ndarray
    """(B,) float32: the n-step return sum_i gamma**i r_i over the window."""
    discount: np.ndarray
    """(B,) float32: gamma**horizon where the target bootstraps, 0 after a terminal state."""
    next_obs: np.ndarray
    """(B, ...) the observation the target bootstraps from (the window's last observation)."""
    terminated: np.ndarray
    """(B,) bool: the window ended in a terminal state."""
    horizon: np.ndarray
    """(B,) uint8: number of rewards summed, 1 <= horizon <= n."""
    source: np.ndarray
    """(B,) uint8: the `Source` of the first action of the window."""
    expert_action: np.ndarray
    """(B,) int16: the expert's action in `obs`, or -1 when unknown."""
    weights: np.ndarray
    """(B,) float32: importance-sampling weights (all ones for uniform sampling)."""
    indices: np.ndarray
    """(B,) int64 tickets naming the sampled transitions, for `update_priorities`."""


class ReplayFormatError(ValueError):
    """A saved replay that cannot be loaded into this buffer; the message names the field."""


def empty_batch(batch_size: int, obs_shape: tuple[int, ...], obs_dtype: np.dtype) -> Batch:
    """Uninitialised arrays for a batch of `batch_size` observations of `obs_shape`."""
    obs = (batch_size, *obs_shape)
    return Batch(
        obs=np.empty(obs, obs_dtype), action=np.empty(batch_size, np.int16),
        reward=np.empty(batch_size, np.float32), discount=np.empty(batch_size, np.float32),
        next_obs=np.empty(obs, obs_dtype), terminated=np.empty(batch_size, np.bool_),
        horizon=np.empty(batch_size, np.uint8), source=np.empty(batch_size, np.uint8),
        expert_action=np.empty(batch_size, np.int16),
        weights=np.empty(batch_size, np.float32), indices=np.empty(batch_size, np.int64))


def check_batch(out: Batch, batch_size: int, obs_shape: tuple[int, ...], obs_dtype: np.dtype,
                caller: str) -> None:
    """Raises ValueError naming the first array of `out` that is not what `empty_batch` makes
    (arrays written in place must be exactly what the kernels write)."""
    for name, template in zip(Batch._fields, empty_batch(0, obs_shape, obs_dtype), strict=True):
        array, shape = getattr(out, name), (batch_size, *template.shape[1:])
        if array.shape != shape or array.dtype != template.dtype or not array.flags.c_contiguous:
            raise ValueError(f"{caller}: out.{name} must be a C-contiguous {template.dtype} "
                             f"array of shape {shape}; use empty_batch()")


def storage_rows(obs: np.ndarray, stacked: bool) -> np.ndarray:
    """What a replay row keeps of each observation in `obs` (M, *obs_shape): the newest frame
    of a (k, H, W) stack (the others are rebuilt from the stream at sample time), or the whole
    feature vector."""
    return obs[:, -1] if stacked else obs


def storage_view(rows: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """(M, F) rows in the storage dtype, as the kernels see them (float16 travels as raw
    uint16: numba copies bits)."""
    rows = rows.astype(dtype, copy=False)
    return rows.view(np.uint16) if dtype == np.float16 else rows
