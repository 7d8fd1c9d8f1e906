"""The trainer's side of the dashboard's game view: game 0 of the live GameState -> game.json.

Why here and not in envs/: the snapshot is a dashboard contract (metrics.gameview) and envs may
import only config; the agent sees both.  The trainer calls `GameViewPublisher.maybe_publish`
once per loop; it costs a clock read except every `every_s` seconds, when it builds the dict
(plain Python over a few small arrays, tens of microseconds) and replaces game.json.

Geometry follows envs/tempest/render.py (metrics.gameview documents the units):

* A flipping flipper or pulsar pivots on line `en_lane`: toward higher lanes (`en_dir` 1) it
  goes from lane pivot-1 to lane pivot, toward lower lanes from lane pivot to lane pivot-1; its
  lane is the old lane moved by `en_flip_step / en_flip_steps` toward the new one.
* A fuseball rides line `en_lane` (lane coordinate line - 0.5); crossing, it slides to line+1
  (direction 0) or comes from line+1 (direction 1: the line was decremented when it set off).
* The claw is in lane `player_pos >> 4` (CURSL1), as the arcade draws it between CURSL1 and
  CURSL2; the spinner's sub-steps are not shown.
* Depths are the 8.8 values' high byte clamped to 0x10..0xF0 (the drop can pass the far end).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from envs.tempest.state import (
    ALIVE,
    FUSEBALL,
    LANES,
    MODE_DROP,
    MODE_GAME_OVER,
    MODE_PLAY,
    NO_ENEMY,
    TYPE_NAMES,
    GameState,
)
from envs.tempest.tables import LINE_X, LINE_Y
from metrics.gameview import FAR_DEPTH, GAME_VIEW_VERSION, RIM_DEPTH, write_game_view


def _depth(value: int) -> int:
    """8.8 depth -> integer depth units, clamped to the rim .. far end."""
    return min(max(value >> 8, RIM_DEPTH), FAR_DEPTH)


def _mode(mode: int) -> str:
    return "play" if mode == MODE_PLAY else "drop" if mode == MODE_DROP else "other"


def enemy_lane(kind: int, lane: int, flipping: bool, step: int, steps: int,
               direction: int) -> float:
    """The enemy's lane-centre coordinate in [0, 16) (module docstring)."""
    progress = min(max(step / max(steps, 1), 0.0), 1.0) if flipping else 0.0
    if kind == FUSEBALL:
        slide = (progress if direction == 0 else 1.0 - progress) if flipping else 0.0
        position = lane + slide - 0.5
    elif not flipping:
        position = float(lane)
    elif direction == 1:
        position = lane - 1 + progress
    else:
        position = lane - progress
    return position % LANES


def _enemies(s: GameState, g: int) -> list[dict[str, Any]]:
    kinds, depths = s.en_type[g].tolist(), s.en_y[g].tolist()
    lanes, flipping = s.en_lane[g].tolist(), s.en_flipping[g].tolist()
    steps, totals, dirs = (s.en_flip_step[g].tolist(), s.en_flip_steps[g].tolist(),
                           s.en_dir[g].tolist())  # fmt: skip
    return [
        {"type": TYPE_NAMES[kind],
         "lane": enemy_lane(kind, lanes[e], flipping[e] != 0, steps[e], totals[e], dirs[e]),
         "depth": _depth(depths[e])}
        for e, kind in enumerate(kinds)
        if kind != NO_ENEMY and 0 <= kind < len(TYPE_NAMES) and depths[e] > 0
    ]  # fmt: skip


def _shots(depths: list[int], lanes: list[int]) -> list[dict[str, int]]:
    return [{"lane": lane % LANES, "depth": _depth(depth)}
            for depth, lane in zip(depths, lanes, strict=True) if depth > 0]  # fmt: skip


def tempest_view(state: GameState, index: int = 0) -> dict[str, Any]:
    """Game `index` of `state` as a game.json snapshot (metrics.gameview, version 1)."""
    s, g = state, index
    tube = int(s.tube[g]) % LANES
    mode, lives = int(s.mode[g]), int(s.lives[g])
    alive = int(s.death_cause[g]) == ALIVE and lives > 0 and mode != MODE_GAME_OVER
    return {
        "version": GAME_VIEW_VERSION,
        "frame": int(s.frame[g]),
        "wave": int(s.wave[g]),
        "score": int(s.score[g]),
        "lives": max(lives, 0),
        "mode": _mode(mode),
        "tube": {"x": LINE_X[tube].tolist(), "y": LINE_Y[tube].tolist(),
                 "open": bool(s.is_open[g])},
        "player": {"lane": float((int(s.player_pos[g]) & 0xFF) >> 4),
                   "depth": _depth(int(s.player_y[g])), "alive": alive},
        "enemies": _enemies(s, g),
        "shots": _shots(s.shot_y[g].tolist(), s.shot_lane[g].tolist()),
        "enemy_shots": _shots(s.eshot_y[g].tolist(), s.eshot_lane[g].tolist()),
        "spikes": [min(max(v, 0), 255) for v in s.spike[g].tolist()],
    }  # fmt: skip


def find_state(env: object) -> GameState | None:
    """The live GameState behind `env` (through wrappers), or None (ALE, fakes)."""
    inner = getattr(env, "unwrapped", env)
    state = getattr(inner, "state", None)
    return state if isinstance(state, GameState) else None


class GameViewPublisher:
    """Writes game 0 of the env's GameState to run_dir/game.json at most every `every_s`.

    The snapshot is taken on the caller's thread (the env changes in place on the next step);
    with `background` the file is written by a daemon thread, because on ext4 an `os.replace`
    over an existing file forces the new file's blocks to be allocated (auto_da_alloc), a few
    hundred microseconds the training loop should not wait for.  Only the newest snapshot is
    kept when the writer falls behind.  Never stops training: an env without a GameState is
    skipped (no thread is started), a failed write is dropped (the next one tries again).
    `on_write`, when given, hears of every write: None when it worked, the OSError when not
    (agent.writes tells a failing spell once).
    """

    def __init__(self, run_dir: str | Path, every_s: float = 0.25,
                 clock: Callable[[], float] = time.monotonic, background: bool = True) -> None:
        self.run_dir = Path(run_dir)
        self.every_s = every_s
        self.clock = clock
        self.background = background
        self.last_at: float | None = None
        self.published = 0
        """Snapshots taken so far (handed to the writer when in the background)."""
        self._slot: dict[str, Any] | None = None
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._closed = False
        self._thread: threading.Thread | None = None
        self.on_write: Callable[[OSError | None], None] | None = None

    def maybe_publish(self, env: object, frame: int) -> bool:
        """Publishes when due and the env has a GameState; True if a snapshot was taken.

        `frame` is the trainer's frame counter, shown in the dashboard's caption."""
        if not self._due():
            return False
        state = find_state(env)
        return state is not None and self._publish(tempest_view(state, 0), frame)

    def maybe_publish_view(self, view: dict[str, Any] | None, frame: int) -> bool:
        """`maybe_publish` for a snapshot taken elsewhere (a Ray acting process's env 0)."""
        return view is not None and self._due() and self._publish(dict(view), frame)

    def _due(self) -> bool:
        now = self.clock()
        if self.last_at is not None and now - self.last_at < self.every_s:
            return False
        self.last_at = now
        return True

    def _publish(self, view: dict[str, Any], frame: int) -> bool:
        if self._closed:
            return False
        view["frame"] = int(frame)
        self.published += 1
        if not self.background:
            self._write(view)
            return True
        with self._lock:
            self._slot = view
        self._start()
        self._wake.set()
        return True

    def close(self, timeout: float = 1.0) -> None:
        """Writes the snapshot still waiting, then stops the writer thread."""
        self._closed = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="game-view", daemon=True)
            self._thread.start()

    def _run(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                view, self._slot = self._slot, None
            if view is not None:
                self._write(view)
            if self._closed:
                return

    def _write(self, view: dict[str, Any]) -> None:
        try:
            write_game_view(self.run_dir, view)
        except OSError as err:  # a full disk, a deleted run directory: the next one tries again
            error: OSError | None = err
        else:
            error = None
        if self.on_write is not None:
            self.on_write(error)
