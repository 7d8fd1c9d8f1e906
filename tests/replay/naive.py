"""A plain-Python reference of the replay semantics, written for clarity, not speed.

Each environment stream is an unbounded list of rows; the last C of them are "alive".  Nothing
here shares code with `replay/`: the tests compare the kernels against these definitions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Row:
    obs: np.ndarray
    action: int
    reward: float
    terminated: bool
    truncated: bool
    first: bool
    final: bool
    source: int
    expert: int


@dataclass
class NaiveReplay:
    num_envs: int
    capacity_per_env: int
    stack: int = 1
    streams: list[list[Row]] = field(default_factory=list)
    starting: list[bool] = field(default_factory=list)

    def __post_init__(self):
        self.streams = [[] for _ in range(self.num_envs)]
        self.starting = [True] * self.num_envs

    def add(self, env, obs, action, reward, terminated, truncated, next_obs, source, expert,
            continues=False):
        rows = self.streams[env]
        rows.append(Row(np.array(obs), int(action), float(reward), bool(terminated),
                        bool(truncated), self.starting[env], False, int(source), int(expert)))
        ended = (terminated or truncated) and not continues
        if ended:
            rows.append(Row(np.array(next_obs), -1, 0.0, False, False, False, True, 255, -1))
        self.starting[env] = bool(ended)

    def truncate_streams(self, env_ids=None):
        for env, rows in enumerate(self.streams):
            if env_ids is not None and env not in env_ids:
                continue
            if not rows or self.starting[env]:
                continue
            last = rows[-1]
            rows[-1] = Row(last.obs, -1, 0.0, False, False, False, True, 255, last.expert)
            if len(rows) > 1 and not rows[-2].final:
                rows[-2].truncated = True
            self.starting[env] = True

    def alive(self, env, n):
        return len(self.streams[env]) - self.capacity_per_env <= n < len(self.streams[env])

    def episode_first(self, env, n):
        while not self.streams[env][n].first and n > 0:
            n -= 1
        return n

    def sampleable(self, env, n):
        rows = self.streams[env]
        if not self.alive(env, n) or rows[n].final or n + 1 >= len(rows):
            return False
        back = min(self.stack - 1, n - self.episode_first(env, n))
        return self.alive(env, n - back)

    def sampleable_rows(self):
        return [(e, n) for e in range(self.num_envs) for n in range(len(self.streams[e]))
                if self.sampleable(e, n)]

    def nstep(self, env, n, n_step, gamma, cut_on_source_change):
        """(return, discount, next row number, horizon, terminated) of the window at row n."""
        rows = self.streams[env]
        total = 0.0
        for j in range(n_step):
            row = rows[n + j]
            total += gamma**j * row.reward
            if row.terminated:
                return total, 0.0, n + j + 1, j + 1, True
            last = (j == n_step - 1 or row.truncated or n + j + 1 == len(rows) - 1
                    or (cut_on_source_change and rows[n + j + 1].source != rows[n].source))
            if last:
                return total, gamma ** (j + 1), n + j + 1, j + 1, False
        raise AssertionError("unreachable")

    def stacked(self, env, n):
        """The k-frame stack ending at row n, zeros before the episode's first frame."""
        rows = self.streams[env]
        first = self.episode_first(env, n)
        frames = []
        for m in range(self.stack - 1, -1, -1):
            idx = n - m
            if idx < first or not self.alive(env, idx):
                frames.append(np.zeros_like(rows[n].obs))
            else:
                frames.append(rows[idx].obs)
        return np.stack(frames)

    def ticket(self, env, n):
        return env + self.num_envs * n

    def slot(self, env, n):
        return env * self.capacity_per_env + n % self.capacity_per_env
