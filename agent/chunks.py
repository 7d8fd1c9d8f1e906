"""Chunks of transitions: what an acting process ships to the learner's replay.

An acting process (a Ray actor, agent/acting_process.py) runs the same `agent.actor.Actor` as an
in-process run, with a `ChunkRecorder` where the replay would be: every `add` the actor makes is
kept as the replay would have been given it, in compact columns, and `take()` hands the steps
gathered so far over as one `Chunk`.  On the learner, `write_chunk` makes the same adds on the
replay, the actor's env ids moved to its own streams, so the replay holds exactly what an
in-process actor with the same seed would have stored (tests/agent/test_chunks.py).

What crosses the wire per transition is what a replay row keeps (`replay.storage_rows`: the
newest frame of a stack, or the feature vector) plus 14 bytes of action, reward, flags, source,
label and stream; the next observation only where an episode ended (the only place the replay
reads it).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from agent.actor import Episode
from replay import ReplayBuffer, storage_rows

_COLUMNS = ("action", "reward", "terminated", "truncated", "source", "expert_action",
            "continues", "env_ids")
_DTYPES = {"action": np.int16, "reward": np.float32, "terminated": np.bool_,
           "truncated": np.bool_, "source": np.uint8, "expert_action": np.int16,
           "continues": np.bool_, "env_ids": np.int16}
"""Compact column types: an action or env id fits 16 bits (ALE's 18 actions, Tempest's 44)."""


@dataclass
class Chunk:
    """Consecutive vector steps of one acting process, ready for the replay."""

    step_sizes: np.ndarray
    """(T,) rows each step added (the envs that stored a transition that step)."""
    obs: np.ndarray
    """(R, F) storage rows of the observations the actions were taken in."""
    next_obs: np.ndarray
    """(E, F) storage rows of the final observations, one per row whose episode ended."""
    columns: dict[str, np.ndarray]
    """(R,) each: action, reward, terminated, truncated, source, expert_action, continues,
    env_ids (the acting process's own env index)."""
    frames: int = 0
    """Emulator frames the steps took (all envs)."""
    episodes: list[Episode] = field(default_factory=list)
    """Games that ended in these steps; `end_frame` counts the acting process's frames."""
    has_expert: bool = False
    """Whether the envs label their states with the expert's action."""
    version: int = -1
    """The weights version the steps were acted with (-1: the initial, untrained weights)."""
    actor: int = 0
    """Which acting process took the steps."""
    pid: int = 0
    """The process that took them: a new pid means Ray restarted it (its envs started over)."""
    epsilon: float = 0.0
    expert_ratio: float = 0.0
    """The exploration the steps were taken with (after any per-actor ladder)."""
    game_view: dict | None = None
    """Env 0's game for the dashboard's game view (Tempest, acting process 0 only)."""

    @property
    def transitions(self) -> int:
        return int(self.step_sizes.sum())

    @property
    def nbytes(self) -> int:
        """Bytes of array payload: what one chunk puts on the wire, less Ray's framing."""
        arrays = [self.step_sizes, self.obs, self.next_obs, *self.columns.values()]
        return sum(a.nbytes for a in arrays)


def _ended(terminated, truncated, continues) -> np.ndarray:
    """Rows whose episode ends there: the replay stores their next observation (a life lost
    with the game going on continues the stream, and its next observation comes next step)."""
    return (np.asarray(terminated, bool) | np.asarray(truncated, bool)) & ~np.asarray(
        continues, bool)


class ChunkRecorder:
    """Stands in for the replay in an acting process: keeps each `add` for the next chunk.

    Args:
        num_envs: the acting process's envs (the default `env_ids` of an add).
        stacked: observations are (k, H, W) frame stacks (only the newest frame is kept).
    """

    def __init__(self, num_envs: int, stacked: bool):
        self.num_envs, self.stacked = num_envs, stacked
        self._all_envs = np.arange(num_envs)
        self._steps: list[tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]] = []

    def add(self, obs, action, reward, terminated, truncated, next_obs, source,
            expert_action=None, env_ids=None, continues=None) -> None:
        """`ReplayBuffer.add`'s signature: one step of the envs `env_ids` (default all)."""
        env_ids = self._all_envs if env_ids is None else np.asarray(env_ids)
        count = env_ids.shape[0]
        if expert_action is None:
            expert_action = np.full(count, -1)
        if continues is None:
            continues = np.zeros(count, bool)
        values = (action, reward, terminated, truncated, source, expert_action, continues,
                  env_ids)
        columns = {name: np.asarray(v).astype(_DTYPES[name], copy=False)
                   for name, v in zip(_COLUMNS, values, strict=True)}
        ended = _ended(terminated, truncated, continues)
        rows = storage_rows(np.asarray(obs), self.stacked).reshape(count, -1)
        final = storage_rows(np.asarray(next_obs)[ended], self.stacked).reshape(
            int(ended.sum()), rows.shape[1])
        self._steps.append((rows.copy(), final.copy(), columns))

    def take(self) -> Chunk:
        """The steps recorded since the last `take`, as one chunk (metadata left for the
        caller); the recorder starts empty again."""
        steps, self._steps = self._steps, []
        if not steps:
            empty = np.zeros((0, 0), np.float32)
            return Chunk(np.zeros(0, np.int32), empty, empty,
                         {name: np.zeros(0, _DTYPES[name]) for name in _COLUMNS})
        sizes = np.array([rows.shape[0] for rows, _, _ in steps], np.int32)
        obs = np.concatenate([rows for rows, _, _ in steps])
        next_obs = np.concatenate([final for _, final, _ in steps])
        columns = {name: np.concatenate([c[name] for _, _, c in steps]) for name in _COLUMNS}
        return Chunk(sizes, obs, next_obs, columns)


def write_chunk(replay: ReplayBuffer, chunk: Chunk, first_stream: int) -> None:
    """The chunk's adds, in order, into `replay`; the acting process's env e writes stream
    `first_stream + e`."""
    c = chunk.columns
    ended = _ended(c["terminated"], c["truncated"], c["continues"])
    next_rows = np.zeros_like(chunk.obs)  # read by the replay only where an episode ended
    next_rows[ended] = chunk.next_obs
    streams = c["env_ids"].astype(np.int64) + first_stream
    row = 0
    for size in chunk.step_sizes.tolist():
        rows = slice(row, row + size)
        replay.add_rows(chunk.obs[rows], c["action"][rows], c["reward"][rows],
                        c["terminated"][rows], c["truncated"][rows], next_rows[rows],
                        c["source"][rows], c["expert_action"][rows], streams[rows],
                        c["continues"][rows])
        row += size
