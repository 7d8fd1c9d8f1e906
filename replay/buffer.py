"""`ReplayBuffer`: per-environment ring storage, n-step sampling, uniform or prioritised draws.

The buffer is the only stateful piece of the replay engine; the work happens in `replay.kernels`
and `replay.sumtree`.  One lock guards every public method, so the actor thread may `add` while
the learner thread samples; the kernels release the GIL, so the actor's Python keeps running
while a large batch is gathered.

    >>> buf = ReplayBuffer(capacity=1000, num_envs=2, obs_shape=(3,), n_step=2, gamma=0.5)
    >>> obs = np.zeros((2, 3), np.float32)
    >>> for _ in range(3):
    ...     buf.add(obs, np.zeros(2), np.ones(2), np.zeros(2, bool), np.zeros(2, bool), obs,
    ...             np.zeros(2))
    >>> batch = buf.sample(2, u=np.array([0.0, 0.2]))  # rows 0 and 1 of the first stream
    >>> batch.reward.tolist(), batch.discount.tolist()  # row 2 is the newest: no window past it
    ([1.5, 1.0], [0.25, 0.5])
    >>> batch.obs.shape
    (2, 3)
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from replay import kernels
from replay.parts import Parts
from replay.snapshot import Snapshots
from replay.sumtree import SumTree
from replay.types import (
    NO_EXPERT_ACTION,
    Batch,
    check_batch,
    empty_batch,
    storage_rows,
    storage_view,
)

if TYPE_CHECKING:
    from config import ReplayConfig

_MAX_REDRAWS = 1000


class ReplayBuffer(Snapshots):
    """Transitions of N vectorised environments, sampled with n-step returns.

    Args:
        capacity: total rows over all streams; each of the `num_envs` streams gets
            `capacity // num_envs` (episode ends take one extra row for the final observation).
        num_envs: number of environment streams writing interleaved steps.
        obs_shape: `(D,)` for feature vectors, `(k, H, W)` for stacks of k uint8 frames (only the
            newest frame of each step is stored; stacks are rebuilt at sample time).
        obs_dtype: storage dtype of feature vectors: float32, or float16 to halve the memory.
        prioritized: proportional prioritised replay (sum tree) instead of uniform sampling.
        alpha: priority exponent; stored leaves are (|td| + priority_eps) ** alpha.
        priority_eps: keeps every transition's priority above zero.
        n_step: the longest return window.
        gamma: the discount inside the window; the batch's `discount` is gamma**horizon.
        cut_on_source_change: end a window where the behaviour source (network, random, expert)
            changes, so a return never mixes what different policies did.
        seed: seeds the generator that draws samples when the caller gives no random numbers.
        sample_threads: threads that assemble a large batch (its draws, windows and gathers) in
            parts; results are identical for any count.
    """

    def __init__(self, capacity: int, num_envs: int, obs_shape: tuple[int, ...], *,
                 obs_dtype: np.dtype | str = np.float32, prioritized: bool = False,
                 alpha: float = 0.6, priority_eps: float = 1e-6, n_step: int = 1,
                 gamma: float = 0.99, cut_on_source_change: bool = True, seed: int = 0,
                 sample_threads: int = 1):
        self.num_envs, self.obs_shape = int(num_envs), tuple(int(d) for d in obs_shape)
        self.capacity_per_env = int(capacity) // max(self.num_envs, 1)
        self.frames = len(self.obs_shape) == 3
        self.stack = self.obs_shape[0] if self.frames else 1
        self.obs_dtype = np.dtype(np.uint8 if self.frames else obs_dtype)
        self.prioritized, self.alpha = bool(prioritized), float(alpha)
        self.priority_eps = float(priority_eps)
        self.n_step, self.gamma = int(n_step), float(gamma)
        self.cut_on_source_change = bool(cut_on_source_change)
        self.sample_threads = int(sample_threads)
        self._check_arguments()
        self._allocate()
        per_sample = 2 * self.stack * self.obs_SF.shape[1] * self.obs_dtype.itemsize
        self._parts = Parts(self.sample_threads, per_sample)
        self.max_priority = 1.0
        self.rng = np.random.default_rng(seed)
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, cfg: ReplayConfig, num_envs: int, obs_shape: tuple[int, ...],
                    gamma: float) -> ReplayBuffer:
        """The buffer `config.ReplayConfig` describes, for `num_envs` streams of `obs_shape`."""
        return cls(cfg.capacity, num_envs, obs_shape, obs_dtype=cfg.obs_dtype,
                   prioritized=cfg.prioritized, alpha=cfg.alpha, priority_eps=cfg.priority_eps,
                   n_step=cfg.n_step, gamma=gamma, cut_on_source_change=cfg.cut_on_source_change,
                   seed=cfg.seed, sample_threads=cfg.sample_threads)

    def _check_arguments(self) -> None:
        if self.num_envs < 1:
            raise ValueError(f"num_envs must be at least 1, got {self.num_envs}")
        if self.n_step < 1:
            raise ValueError(f"n_step must be at least 1, got {self.n_step}")
        if not 0.0 < self.gamma <= 1.0:
            raise ValueError(f"gamma must be in (0, 1], got {self.gamma}")
        least = max(self.n_step, self.stack) + 2
        if self.capacity_per_env < least:
            raise ValueError(f"capacity // num_envs = {self.capacity_per_env} rows per stream; "
                             f"need at least {least} (n_step={self.n_step}, stack={self.stack})")
        if self.sample_threads < 1:
            raise ValueError(f"sample_threads must be at least 1, got {self.sample_threads}")
        vector_dtypes = (np.dtype(np.float32), np.dtype(np.float16))
        if not self.frames and self.obs_dtype not in vector_dtypes:
            raise ValueError(f"obs_dtype must be float32 or float16, got {self.obs_dtype}")

    def _allocate(self) -> None:
        slots = self.num_envs * self.capacity_per_env
        row = int(np.prod(self.obs_shape[1:] if self.frames else self.obs_shape))
        self.obs_SF = np.zeros((slots, row), self.obs_dtype)
        self.action_S = np.zeros(slots, np.int16)
        self.reward_S = np.zeros(slots, np.float32)
        self.flags_S = np.zeros(slots, np.uint8)
        self.source_S = np.zeros(slots, np.uint8)
        self.expert_S = np.full(slots, NO_EXPERT_ACTION, np.int16)
        self.sampleable_S = np.zeros(slots, np.uint8)
        self.write_count_N = np.zeros(self.num_envs, np.int64)
        self.episode_start_N = np.ones(self.num_envs, np.uint8)
        self.tree = SumTree(slots) if self.prioritized else None
        self._all_envs = np.arange(self.num_envs, dtype=np.int64)
        self._no_expert = np.full(self.num_envs, NO_EXPERT_ACTION, np.int16)
        self._no_continue = np.zeros(self.num_envs, np.bool_)

    # -- sizes ---------------------------------------------------------------------------------

    def __len__(self) -> int:
        """Rows stored (transitions plus the final-observation rows of finished episodes)."""
        return int(np.minimum(self.write_count_N, self.capacity_per_env).sum())

    @property
    def capacity(self) -> int:
        """Rows the buffer can hold over all streams."""
        return self.num_envs * self.capacity_per_env

    @property
    def nbytes(self) -> int:
        """Bytes held by the storage columns and the priority trees."""
        arrays = [self.obs_SF, self.action_S, self.reward_S, self.flags_S, self.source_S,
                  self.expert_S, self.sampleable_S]
        if self.tree is not None:
            arrays += [self.tree.sum_T, self.tree.min_T]
        return sum(a.nbytes for a in arrays)

    def prefault(self) -> None:
        """Touch every page of the storage now, so the memory is really there.

        numpy maps large zero arrays lazily: without this, filling the buffer the first time
        pays a page fault per new page inside the actor's hot path (a 7 KB ALE frame every step),
        and a machine without the memory for the buffer fails hours later, not at start-up.
        """
        with self._lock:
            for column in (self.obs_SF, self.action_S, self.reward_S, self.flags_S,
                           self.source_S, self.sampleable_S):
                column.fill(0)

    # -- writing -------------------------------------------------------------------------------

    def add(self, obs, action, reward, terminated, truncated, next_obs, source,
            expert_action=None, env_ids=None, continues=None) -> None:
        """Store one step of the environments `env_ids` (default: all, in order).

        Args:
            obs: (M, *obs_shape) the observations the actions were taken in.
            action, reward, terminated, truncated: (M,) the step's outcome.
            next_obs: (M, *obs_shape) the observations after the step; stored only where the
                episode ended (the final observation), since otherwise the next `add` brings it.
            source: (M,) `Source` of each action.
            expert_action: (M,) the expert's action in `obs`, -1 (or None) when unknown.
            env_ids: (M,) which streams these rows belong to.  Leave out an environment on the
                step right after its autoreset: that step is not a transition.
            continues: (M,) True where a terminal transition is followed by more of the same
                stream without a reset (a life lost, the game goes on): the next `add` brings
                the next observation and frame stacks run on across the boundary.
        """
        env_ids = self._env_ids(env_ids)
        count = env_ids.shape[0]
        self._write(self._rows(obs, count), self._rows(next_obs, count), env_ids,
                    (action, reward, terminated, truncated, source, expert_action, continues))

    def add_rows(self, obs_rows, action, reward, terminated, truncated, next_rows, source,
                 expert_action, env_ids, continues) -> None:
        """`add` for observations already reduced to what a row stores (`storage_rows`): the
        newest frame of a stack, or the feature vector.  Ray actors ship these, so a frame
        stack crosses the network once per frame instead of once per stacked copy."""
        env_ids = self._env_ids(env_ids)
        shape = (env_ids.shape[0], self.obs_SF.shape[1])
        obs_MF, next_MF = (storage_view(np.asarray(rows).reshape(shape), self.obs_dtype)
                           for rows in (obs_rows, next_rows))
        self._write(obs_MF, next_MF, env_ids,
                    (action, reward, terminated, truncated, source, expert_action, continues))

    def _env_ids(self, env_ids) -> np.ndarray:
        if env_ids is None:
            return self._all_envs
        env_ids = np.asarray(env_ids, np.int64)
        if env_ids.size and (env_ids.min() < 0 or env_ids.max() >= self.num_envs):
            raise ValueError(f"add(): env_ids must lie in [0, {self.num_envs})")
        return env_ids

    def _write(self, obs_MF, next_MF, env_ids, columns) -> None:
        """One step of the streams `env_ids` into the rings and the sum tree."""
        count = env_ids.shape[0]
        action, reward, terminated, truncated, source, expert_action, continues = columns
        if expert_action is None:
            expert_action = self._no_expert[:count]
        if continues is None:
            continues = self._no_continue[:count]
        columns = [np.asarray(x) for x in
                   (action, reward, terminated, truncated, source, expert_action, continues)]
        if any(c.shape != (count,) for c in columns):
            raise ValueError(f"add(): action, reward, terminated, truncated, source, "
                             f"expert_action and continues need shape ({count},): one per env")
        with self._lock:  # numba casts each column to its storage dtype as it writes
            slots_K, valid_K = kernels.write_step(
                self._obs_view(), self.action_S, self.reward_S, self.flags_S, self.source_S,
                self.expert_S, self.sampleable_S, self.write_count_N, self.episode_start_N,
                self.capacity_per_env, self.stack, env_ids, obs_MF, *columns[:4], next_MF,
                *columns[4:])
            if self.tree is not None:
                new_leaf = self.max_priority ** self.alpha
                self.tree.set(slots_K, valid_K * new_leaf)

    def truncate_streams(self, env_ids=None) -> None:
        """End the episodes of the streams `env_ids` (default: every stream) here, as if each
        had been truncated.

        Call it when environments restart without their episodes having ended (a resumed run,
        a manual reset, a Ray actor that died): otherwise the next `add` would join the old
        episode to the new one.  The newest row of a stream (a transition still waiting for its
        next observation) becomes the final observation of its episode, and the row before it
        is marked truncated, so n-step windows stop there and bootstrap from that observation.
        """
        env_ids = self._all_envs if env_ids is None else np.asarray(env_ids, np.int64)
        with self._lock:
            kernels.end_streams(self.action_S, self.flags_S, self.source_S, self.write_count_N,
                                self.episode_start_N, self.capacity_per_env, env_ids)

    def _rows(self, obs, count: int) -> np.ndarray:
        """Observations as (M, F) rows in the storage dtype, as the kernels see them."""
        obs = np.asarray(obs)
        if obs.shape != (count, *self.obs_shape):
            raise ValueError(f"add(): observations must have shape {(count, *self.obs_shape)}, "
                             f"got {obs.shape}")
        rows = storage_rows(obs, bool(self.frames)).reshape(count, self.obs_SF.shape[1])
        return storage_view(rows, self.obs_dtype)

    def _obs_view(self) -> np.ndarray:
        """Storage as the kernels see it: float16 travels as raw uint16 (numba copies bits)."""
        return self.obs_SF.view(np.uint16) if self.obs_dtype == np.float16 else self.obs_SF

    # -- sampling ------------------------------------------------------------------------------

    def sample(self, batch_size: int, *, beta: float = 0.4, u: np.ndarray | None = None,
               out: Batch | None = None) -> Batch:
        """Draw a batch: uniform over sampleable transitions, or proportional to priority.

        Args:
            batch_size: number of transitions B.
            beta: importance-sampling exponent (prioritised replay only).
            u: optional (B,) uniform numbers in [0, 1) from the caller; by default the buffer's
                seeded generator draws them.  Uniform sampling redraws (from the generator) the
                few draws that land on rows that cannot be sampled.
            out: a batch from `empty_batch(B)` (or an earlier sample) to fill in place.  Reusing
                its memory saves the page faults of fresh multi-megabyte arrays on every call,
                and lets a learner sample straight into pinned host memory.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be positive, got {batch_size}")
        if out is not None:
            check_batch(out, batch_size, self.obs_shape, self.obs_dtype, "sample(out=...)")
        if u is not None:
            u = np.asarray(u, np.float64)
            if u.shape != (batch_size,) or not ((u >= 0.0) & (u < 1.0)).all():
                raise ValueError(f"sample(u=...): u must hold {batch_size} numbers in [0, 1)")
        with self._lock:
            u = self.rng.random(batch_size) if u is None else u
            if self.tree is None:
                slots = self._uniform_slots(u)
                return self._assemble(slots, np.ones(batch_size, np.float32), out)
            if self.tree.total <= 0.0:
                raise ValueError(self._empty_message())
            slots = np.empty(batch_size, np.int64)
            weights = np.empty(batch_size, np.float32)
            self._parts.run(batch_size, lambda lo, hi: self.tree.sample(
                u[lo:hi], beta, lo, batch_size, (slots[lo:hi], weights[lo:hi])))
            return self._assemble(slots, weights, out)

    def empty_batch(self, batch_size: int) -> Batch:
        """Arrays shaped for `sample(batch_size, out=...)`."""
        return empty_batch(batch_size, self.obs_shape, self.obs_dtype)

    def _uniform_slots(self, u: np.ndarray) -> np.ndarray:
        slots = kernels.uniform_slots(u, self.write_count_N, self.capacity_per_env)
        for _ in range(_MAX_REDRAWS):
            redraw = np.flatnonzero(self.sampleable_S[slots] == 0)
            if redraw.size == 0:
                return slots
            slots[redraw] = kernels.uniform_slots(self.rng.random(redraw.size),
                                                  self.write_count_N, self.capacity_per_env)
        raise ValueError(self._empty_message())

    def _empty_message(self) -> str:
        return ("the replay buffer holds no transition that can be sampled yet: a transition "
                "needs its next observation; add more steps before sampling")

    def _assemble(self, slots: np.ndarray, weights: np.ndarray, out: Batch | None) -> Batch:
        """The batch of `slots`: n-step windows, observations, labels and tickets."""
        batch = out if out is not None else self.empty_batch(slots.shape[0])
        np.copyto(batch.weights, weights)
        next_slots = np.empty_like(slots)
        self._parts.run(slots.shape[0], lambda lo, hi: self._fill(
            slots[lo:hi], next_slots[lo:hi], Batch(*(column[lo:hi] for column in batch))))
        return batch

    def _fill(self, slots: np.ndarray, next_slots: np.ndarray, part: Batch) -> None:
        kernels.nstep_windows(
            slots, self.reward_S, self.flags_S, self.source_S, self.write_count_N,
            self.capacity_per_env, self.n_step, self.gamma, self.cut_on_source_change,
            part.reward, part.discount, next_slots, part.horizon, part.terminated)
        self._gather(slots, part.obs)
        self._gather(next_slots, part.next_obs)
        np.take(self.action_S, slots, out=part.action)
        np.take(self.source_S, slots, out=part.source)
        np.take(self.expert_S, slots, out=part.expert_action)
        part.indices[:] = kernels.slots_to_tickets(slots, self.write_count_N,
                                                   self.capacity_per_env)

    def _gather(self, slots: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Observations of `slots` into `out`: rows for vectors, rebuilt k-frame stacks."""
        if self.frames:
            flat = out.reshape(slots.shape[0], self.stack, self.obs_SF.shape[1])
            kernels.gather_stacks(self.obs_SF, self.flags_S, self.write_count_N,
                                  self.capacity_per_env, slots, flat)
            return out
        raw = out.view(np.uint16) if self.obs_dtype == np.float16 else out
        kernels.gather_rows(self._obs_view(), slots, raw)
        return out

    # -- priorities ----------------------------------------------------------------------------

    def update_priorities(self, indices: np.ndarray, td_errors: np.ndarray) -> None:
        """Set the priority of sampled transitions to (|td| + eps) ** alpha.

        Tickets of transitions overwritten since they were sampled are ignored, so a slow learner
        never gives a stale priority to a newer transition.  Duplicates: the last one wins.
        """
        if self.tree is None:
            return
        td = np.abs(np.asarray(td_errors, np.float64).reshape(-1))
        indices = np.asarray(indices, np.int64).reshape(-1)
        if td.shape != indices.shape:
            raise ValueError(f"update_priorities(): {indices.size} indices but {td.size} errors")
        if not np.isfinite(td).all():
            raise ValueError("update_priorities(): TD errors must be finite (got NaN or inf)")
        priority = td + self.priority_eps
        with self._lock:
            slots = kernels.tickets_to_slots(indices, self.write_count_N, self.capacity_per_env)
            alive = slots >= 0
            alive[alive] = self.sampleable_S[slots[alive]] == 1
            self.tree.set(slots[alive], priority[alive] ** self.alpha)
            if priority.size:
                self.max_priority = max(self.max_priority, float(priority.max()))
