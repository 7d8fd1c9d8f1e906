"""Whole games as players judge them: per game its score, start and highest wave, waves cleared,
deaths by cause and frames.

Why a wrapper: the evaluation loop (`agent.evaluate.evaluate`) stays one loop for every policy
and protocol, and the numbers come from what the env itself says on each step (`info["wave"]`,
`info["death_cause"]`, `final_score`, `final_frames`), never from a second bookkeeping of the
game.  An env without waves or death causes (ALE) still gets score and frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from envs.tempest.state import DEATH_CAUSES


@dataclass
class GameRecord:
    """One finished game (or one life, under the one-life protocol)."""

    score: float
    frames: int
    """Emulator frames the game lasted (Tempest: one per step; ALE: ALE's frame number, the
    frame skip and the reset no-ops included)."""
    steps: int
    """Agent steps the game lasted."""
    truncated: bool
    """The frame cap ended it, not the game."""
    start_wave: int | None = None
    highest_wave: int | None = None
    deaths: dict[str, int] = field(default_factory=dict)
    """Deaths by cause (Tempest's DEATH_CAUSES names), only the causes that happened."""

    @property
    def waves_cleared(self) -> int | None:
        """Waves passed (the wave number only rises, by one per cleared wave)."""
        if self.start_wave is None or self.highest_wave is None:
            return None
        return self.highest_wave - self.start_wave

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "frames": self.frames, "steps": self.steps,
                "truncated": self.truncated,
                "start_wave": self.start_wave, "highest_wave": self.highest_wave,
                "waves_cleared": self.waves_cleared, "deaths": dict(self.deaths)}


class GameRecorder(VectorWrapper):
    """Records each env's games in the order they end: `records[env_id][k]` is env `env_id`'s
    k-th game, which is how the evaluation names the games it keeps (round k, env id)."""

    def __init__(self, env: VectorEnv):
        super().__init__(env)
        n = env.num_envs
        self.records: list[list[GameRecord]] = [[] for _ in range(n)]
        self._start = np.zeros(n, np.int64)
        self._highest = np.zeros(n, np.int64)
        self._deaths = np.zeros((n, len(DEATH_CAUSES)), np.int64)
        if callable(getattr(env, "step_async", None)):  # keep the env pipelined (agent.actor)
            self.step_async = env.step_async
            self.step_wait = self._recorded_wait

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._begin(np.ones(self.num_envs, bool), info)
        return obs, info

    def step(self, actions: np.ndarray):
        return self._recorded(*self.env.step(actions))

    def _recorded_wait(self):
        return self._recorded(*self.env.step_wait())

    def _recorded(self, obs, reward, terminated, truncated, info):
        reset_N = np.asarray(info.get("reset_step", np.zeros(self.num_envs, bool)), bool)
        if reset_N.any():
            self._begin(reset_N, info)
        live_N = ~reset_N
        if "wave" in info:
            self._highest = np.where(live_N, np.maximum(self._highest, info["wave"]),
                                     self._highest)
        if "death_cause" in info:
            for env_id in np.flatnonzero(live_N & (np.asarray(info["death_cause"]) != 0)):
                self._deaths[env_id, int(info["death_cause"][env_id])] += 1
        ended_N = np.asarray(info.get("episode_end", np.asarray(terminated) | truncated), bool)
        for env_id in np.flatnonzero(ended_N):
            self.records[env_id].append(self._finish(env_id, info, bool(truncated[env_id])))
        return obs, reward, terminated, truncated, info

    def _begin(self, mask: np.ndarray, info: dict[str, Any]) -> None:
        if "wave" in info:
            self._start[mask] = self._highest[mask] = np.asarray(info["wave"])[mask]
        self._deaths[mask] = 0

    def _finish(self, env_id: int, info: dict[str, Any], truncated: bool) -> GameRecord:
        has_waves = "wave" in info
        deaths = {DEATH_CAUSES[c]: int(n) for c, n in enumerate(self._deaths[env_id]) if n}
        return GameRecord(
            score=float(info["final_score"][env_id]),
            frames=int(info.get("final_frames", info["final_length"])[env_id]),
            steps=int(info["final_length"][env_id]),
            truncated=truncated,
            start_wave=int(self._start[env_id]) if has_waves else None,
            highest_wave=int(self._highest[env_id]) if has_waves else None,
            deaths=deaths)


def summarize(games: list[GameRecord]) -> dict[str, Any]:
    """Means over the games and the deaths of all of them, by cause."""
    deaths: dict[str, int] = {}
    for game in games:
        for cause, n in game.deaths.items():
            deaths[cause] = deaths.get(cause, 0) + n
    summary: dict[str, Any] = {
        "games": len(games),
        "mean_score": float(np.mean([g.score for g in games])),
        "mean_frames": float(np.mean([g.frames for g in games])),
        "truncated": sum(g.truncated for g in games),
        "deaths": dict(sorted(deaths.items(), key=lambda kv: -kv[1]))}
    if games and games[0].highest_wave is not None:
        summary["mean_highest_wave"] = float(np.mean([g.highest_wave for g in games]))
        summary["mean_waves_cleared"] = float(np.mean([g.waves_cleared for g in games]))
    return summary


def format_table(games: list[GameRecord], what: str) -> str:
    """A short table for the terminal: one line per game, then the means."""
    waves = bool(games) and games[0].highest_wave is not None
    head = f"{what:>6} {'score':>10} {'frames':>8}" + (
        f" {'start':>5} {'highest':>7} {'cleared':>7}" if waves else "") + "  deaths"
    lines = [head]
    for k, g in enumerate(games, 1):
        line = f"{k:>6} {g.score:>10,.0f} {g.frames:>8,}"
        if waves:
            line += f" {g.start_wave:>5} {g.highest_wave:>7} {g.waves_cleared:>7}"
        causes = ", ".join(f"{c} {n}" for c, n in g.deaths.items())
        lines.append(line + "  " + (causes + (" (frame cap)" if g.truncated else "")).strip())
    s = summarize(games)
    mean = f"{'mean':>6} {s['mean_score']:>10,.0f} {s['mean_frames']:>8,.0f}"
    if waves:
        mean += f" {'':>5} {s['mean_highest_wave']:>7.2f} {s['mean_waves_cleared']:>7.2f}"
    lines.append(mean + "  " + ", ".join(f"{c} {n}" for c, n in s["deaths"].items()))
    return "\n".join(lines)
