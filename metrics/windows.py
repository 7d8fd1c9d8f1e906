"""DQN1M, DQN5M and the DQN5M slope (DESIGN.md §5), one value per finished episode.

Why per episode: the system we replace (reference §2.3) averaged per-row interval means weighted
by frames, trimmed its oldest bucket *partially*, and added an extra bucket on every key press, so
the same episodes were counted twice and partial episodes biased the mean.  Here an episode is one
point `(end_frame, dqn_return)`: it is in a window or not, it is counted once, rows can be produced
as often as anyone likes without changing the numbers.

Window edge: the window of W frames at the current frame F is the half-open range (F - W, F].  An
episode that ended exactly at F - W ended *before* the last W frames and is out; one that ended at
F - W + 1 is in.

Storage: two numpy arrays (end frames, values) used as a queue; old episodes are evicted by
advancing a start index, and the arrays are compacted when half of them is dead, so memory is
bounded by the 5M window and appending is amortised O(1).  A summary is O(episodes in the
window) in numpy, computed with centred sums, which stays exact when frame numbers reach 10^9
(running sums of x² would cancel catastrophically).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

SHORT_FRAMES = 1_000_000
LONG_FRAMES = 5_000_000
STATE_VERSION = 1


class DqnWindows:
    """Per-episode DQN returns over the last 1M / 5M frames, their means and the 5M slope.

    The per-episode value is the episode's reward collected on the steps where the network chose
    the action (greedy or ε-random), as opposed to the expert; it is recorded with the global
    frame counter at the episode's end.  End frames must not decrease.
    """

    def __init__(self, short_frames: int = SHORT_FRAMES, long_frames: int = LONG_FRAMES) -> None:
        if not 0 < short_frames <= long_frames:
            raise ValueError(
                f"need 0 < short_frames ({short_frames}) <= long_frames ({long_frames})"
            )
        self.short_frames = int(short_frames)
        self.long_frames = int(long_frames)
        self.reset()

    def reset(self) -> None:
        """Forgets every episode (RESET_METRICS, or a fresh run)."""
        self._frames = np.zeros(1024, dtype=np.int64)
        self._values = np.zeros(1024, dtype=np.float64)
        self._start = 0
        self._end = 0
        self._latest = 0  # newest frame seen (episode end or summary); frames never go back

    def __len__(self) -> int:
        """Episodes retained: those inside the long window at the latest frame seen."""
        return self._end - self._start

    # ------------------------------------------------------------------------------------ adding

    def add(self, end_frame: int, dqn_return: float) -> None:
        """Records one finished episode."""
        end_frame, value = int(end_frame), float(dqn_return)
        if end_frame < self._latest:
            raise ValueError(
                f"episode end frame {end_frame} is before frame {self._latest} already seen; "
                "end frames must not decrease"
            )
        if not math.isfinite(value):
            raise ValueError(f"DQN return must be finite, got {value!r}")
        if self._end == self._frames.size:
            self._make_room()
        self._frames[self._end] = end_frame
        self._values[self._end] = value
        self._end += 1
        self._advance(end_frame)

    def _make_room(self) -> None:
        """Compacts the live part to the front; doubles the arrays when it fills more than half."""
        live = self._end - self._start
        size = self._frames.size * 2 if live * 2 > self._frames.size else self._frames.size
        frames, values = np.zeros(size, np.int64), np.zeros(size, np.float64)
        frames[:live] = self._frames[self._start : self._end]
        values[:live] = self._values[self._start : self._end]
        self._frames, self._values, self._start, self._end = frames, values, 0, live

    def _advance(self, frame: int) -> None:
        """Moves time to `frame` and evicts episodes that left the long window."""
        if frame < self._latest:
            raise ValueError(f"frame {frame} is before frame {self._latest} already seen")
        self._latest = frame
        live = self._frames[self._start : self._end]
        self._start += int(np.searchsorted(live, frame - self.long_frames, side="right"))

    # --------------------------------------------------------------------------------- summaries

    def _window(self, frame: int, width: int) -> tuple[np.ndarray, np.ndarray]:
        live = self._frames[self._start : self._end]
        lo = self._start + int(np.searchsorted(live, frame - width, side="right"))
        return self._frames[lo : self._end], self._values[lo : self._end]

    def mean(self, frame: int, width: int) -> float | None:
        """Mean DQN return of episodes that ended in (frame - width, frame]; None if none."""
        if width > self.long_frames:
            raise ValueError(f"width {width} exceeds the retained window {self.long_frames}")
        self._advance(int(frame))
        _, values = self._window(int(frame), width)
        return float(values.mean()) if values.size else None

    def slope(self, frame: int) -> float | None:
        """Least-squares slope of the long window's values against end frame, per 10^6 frames.

        None with fewer than two episodes or when they all ended on the same frame.
        """
        self._advance(int(frame))
        frames, values = self._window(int(frame), self.long_frames)
        if values.size < 2:
            return None
        x = frames.astype(np.float64) - frames.mean()
        sxx = float(x @ x)
        if sxx == 0.0:
            return None
        return float(x @ (values - values.mean())) / sxx * 1e6

    def summary(self, frame: int) -> dict[str, float | None]:
        """The three row keys at the current global frame: dqn_return_1m/_5m, dqn5m_slope."""
        return {
            "dqn_return_1m": self.mean(frame, self.short_frames),
            "dqn_return_5m": self.mean(frame, self.long_frames),
            "dqn5m_slope": self.slope(frame),
        }

    # ------------------------------------------------------------------------------- checkpoints

    def state(self) -> dict[str, Any]:
        """JSON-able state for checkpoints: the retained episodes and the window sizes."""
        return {
            "version": STATE_VERSION,
            "short_frames": self.short_frames,
            "long_frames": self.long_frames,
            "latest_frame": self._latest,
            "end_frames": self._frames[self._start : self._end].tolist(),
            "values": self._values[self._start : self._end].tolist(),
        }

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> DqnWindows:
        """Rebuilds windows from `state()`; raises ValueError naming what is wrong."""
        if not isinstance(state, dict) or state.get("version") != STATE_VERSION:
            raise ValueError(f"DQN windows state must be a dict with version {STATE_VERSION}")
        missing = {"short_frames", "long_frames", "latest_frame", "end_frames", "values"} - set(
            state
        )
        if missing:
            raise ValueError(f"DQN windows state lacks {sorted(missing)}")
        frames, values = state["end_frames"], state["values"]
        if len(frames) != len(values):
            raise ValueError(f"DQN windows state: {len(frames)} end frames, {len(values)} values")
        windows = cls(state["short_frames"], state["long_frames"])
        ends = np.asarray(frames, dtype=np.int64).reshape(-1)
        vals = np.asarray(values, dtype=np.float64).reshape(-1)
        if np.any(np.diff(ends) < 0) or not np.all(np.isfinite(vals)):
            raise ValueError("DQN windows state: end frames decrease or values are not finite")
        size = max(1024, 2 * ends.size)
        windows._frames, windows._values = np.zeros(size, np.int64), np.zeros(size, np.float64)
        windows._frames[: ends.size], windows._values[: vals.size] = ends, vals
        windows._end = ends.size
        windows._advance(max(int(state["latest_frame"]), int(ends[-1]) if ends.size else 0))
        return windows
