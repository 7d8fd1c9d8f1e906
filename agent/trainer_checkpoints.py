"""The trainer's checkpoint side: resuming a run from a generation, saving one, and the guard's
rollback of the learner.  Kept apart from agent/trainer.py so that it reads as the loop; the
`Trainer` inherits these methods and provides every attribute they use (its replay, learner,
actor, pacer, windows, curriculum, events, ...).
"""

from __future__ import annotations

import contextlib
import dataclasses
from dataclasses import dataclass
from pathlib import Path

import config
from agent import generations
from agent.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from agent.imitation import TeacherScores
from metrics import DqnWindows
from replay import ReplayFormatError


@dataclass
class Counters:
    """Where the run stands; saved with every checkpoint."""

    frame: int = 0
    episodes: int = 0
    schedule_origin: int = 0
    """Frame the epsilon/beta schedules count from (moved by RESET_METRICS)."""


class Checkpointing:
    """`resume`, `save` and `_roll_back_learner` for `agent.trainer.Trainer`."""

    def resume(self) -> bool:
        """Load the latest checkpoint (or `run.resume_from`'s; agent.generations) if there is one;
        False for a fresh run.  A CheckpointError leaves every checkpoint as it was."""
        generation = generations.to_resume(self.paths, self.cfg.run.resume_from)
        if generation is None:
            return False
        try:
            tensors, state = load_checkpoint(generation)
            self.learner.load_state(tensors, state["learner"])
            self.replay.load(generation / "replay")
        except (CheckpointError, ValueError, KeyError, ReplayFormatError) as err:
            raise CheckpointError(generations.unloadable_message(
                self.paths.checkpoints, f"{generation}: {err}")) from None
        if self.cfg.run.resume_from:
            generations.settle(self.paths, generation, self.events.log)
        self._restore(state)
        self.replay.truncate_streams()  # the envs restart: the saved episodes end here
        self.events.log("info", f"resumed from {generation.name} at frame {self.actor.frame}")
        self._note_device_change(state["learner"].get("device"))
        return True

    def _note_device_change(self, trained_on: str | None) -> None:
        """Says (events, and `device_change` for the CLI) when a run continues on another kind
        of device than it trained on: same weights and state, other arithmetic and speed."""
        here = self.learner.device.type
        if trained_on is None or trained_on == here:
            return
        self.device_change = f"trained on {trained_on}, continues on {here}"
        self.events.log("info", f"the checkpoint was {self.device_change}")

    def _restore(self, state: dict) -> None:
        c = state["counters"]
        self.counters = Counters(c["frame"], c["episodes"], c["schedule_origin"])
        self.actor.frame = self.counters.frame
        self.actor.rng.bit_generator.state = state["actor_rng"]
        self.pacer.load_state(state["pacer"])
        self.windows = DqnWindows.from_state(state["windows"])
        self.teacher = TeacherScores.from_state(state.get("imitation"))
        self.curriculum.restore(state.get("curriculum"))
        self.overrides.curriculum_pinned = self.curriculum.state.pinned
        if self.cfg.run.reset_metrics:
            self.counters.schedule_origin = self.counters.frame
            self.windows.reset()
            self.events.log("info", "RESET_METRICS: schedules and metric windows restart here")

    def save(self, reason: str) -> None:
        """A checkpoint of everything, taken between two learner steps, with the step in
        flight booked first (its transitions belong in the saved replay)."""
        self._count(self.actor.flush())
        hold = self.background.step_lock if self.background else contextlib.nullcontext()
        with hold:
            self.feed.book_in_flight(self.acc)  # its counters and priorities are saved too
            tensors, learner_meta = self.learner.state()
            state = {"counters": self.counters.__dict__ | {"frame": self.actor.frame},
                     "actor_rng": self.actor.rng.bit_generator.state,
                     "pacer": self.pacer.state(), "windows": self.windows.state(),
                     "imitation": self.teacher.state(),
                     "curriculum": self.curriculum.state.state(),
                     "learner": learner_meta, "config": config.to_dict(self.cfg)}
            generation = save_checkpoint(self.paths.checkpoints, tensors, state, self.replay,
                                         self.cfg.run.keep_checkpoints, self.duty.pinned())
        self.events.log("checkpoint", f"saved {generation.name} ({reason})",
                        frame=self.actor.frame, path=str(generation))

    def _roll_back_learner(self, generation: Path | None,
                           changes: dict[str, object]) -> config.LearnerConfig:
        """Guard mode: the learner state of `generation` (None: keep the weights) with the
        learner config `changes` applied, taken between two learner steps."""
        loaded = load_checkpoint(generation) if generation is not None else None
        hold = self.background.step_lock if self.background else contextlib.nullcontext()
        with hold:
            self.feed.book_in_flight(self.acc)
            if loaded is not None:
                tensors, state = loaded
                self.learner.load_state(tensors, state["learner"])
            self.learner.cfg = dataclasses.replace(self.learner.cfg, **changes)
            self.cfg = dataclasses.replace(self.cfg, learner=self.learner.cfg)
            if self.acting is not None:
                self.acting.sync(self.learner.online)
        return self.learner.cfg
