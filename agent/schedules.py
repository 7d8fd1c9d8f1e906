"""Schedules of the training loop as pure functions of the frame count, plus learner pacing.

Pure functions of `frame` (not counters decremented per call) so that a schedule is exact after a
resume and cannot run at a different speed than configured (the system this replaces decremented
its epsilon pulse once per 8 frames and so ran it 8x too long).
"""

from __future__ import annotations

from dataclasses import dataclass


def linear(start: float, end: float, duration: int, frame: int) -> float:
    """start at frame 0, end from frame `duration` on, a straight line between."""
    if duration <= 0 or frame >= duration:
        return end
    return start + (end - start) * max(frame, 0) / duration


def epsilon_at(frame: int, start: float, end: float, decay_frames: int) -> float:
    """The exploration rate at `frame`."""
    return linear(start, end, decay_frames, frame)


def beta_at(frame: int, start: float, end: float, frames: int) -> float:
    """The importance-sampling exponent at `frame` (annealed towards 1 as in the PER paper)."""
    return linear(start, end, frames, frame)


@dataclass
class LearnerPacer:
    """How many learner steps are owed so that samples per new frame stays at `replay_ratio`.

    Each learner step consumes `batch_size` samples; after `learning_starts` frames, every new
    frame earns `replay_ratio` samples.  Fractions carry over, so the long-run ratio is exact.
    """

    replay_ratio: float
    batch_size: int
    learning_starts: int
    credit: float = 0.0
    last_frame: int = 0

    def owed(self, frame: int) -> int:
        """Learner steps due now that the loop has reached `frame`; consumes the credit."""
        counted_from = max(self.last_frame, self.learning_starts)
        if frame > counted_from:
            self.credit += (frame - counted_from) * self.replay_ratio / self.batch_size
        self.last_frame = max(self.last_frame, frame)
        steps = int(self.credit)
        self.credit -= steps
        return steps

    def state(self) -> dict:
        """JSON-able state, so a resumed run owes exactly what the uninterrupted one would."""
        return {"credit": self.credit, "last_frame": self.last_frame}

    def load_state(self, state: dict) -> None:
        self.credit, self.last_frame = float(state["credit"]), int(state["last_frame"])
