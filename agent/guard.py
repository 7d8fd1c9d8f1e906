"""The doctor on duty: every metrics row through `metrics.doctor`, findings to events.jsonl, and
guard mode's rollbacks.

Why here: the doctor (metrics/) only reads rows; acting on what it finds touches the learner and
the checkpoints, which only the application may do.  Guard mode (`--guard`, off by default) is
what the seed reports did by hand hours later: on `q_divergence`, `loss_explosion` or
`nonfinite` it takes the model back to the last checkpoint saved before the onset, applies the
finding's first remedy that can change in a running learner (else halves the learning rate),
logs what it did, and goes on; after `doctor.max_rollbacks` it stops guarding and says so.
A problem that comes back after a rollback goes back to before its first onset (the checkpoints
saved in between hold the same trouble), and in guard mode the trainer saves the weights before
its first learner step, so a divergence right after learning starts has somewhere to go back to.

What a rollback restores: the learner (online and target networks, Adam, learner counters and
its random state).  Frames, episodes, metric windows and the replay go on: the transitions
gathered since are real experience, and the run's clock and counters never run backwards.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import config
from agent.checkpoint import CheckpointError, generation_frame, list_generations
from metrics import EventLog
from metrics.doctor import GUARD_CODES, Doctor, Finding

LIVE_LEARNER_FIELDS = frozenset({"lr", "tau", "max_grad_norm", "hard_update_every",
                                 "td_target_clamp", "huber_delta", "loss"})
"""LearnerConfig fields a running `Learner` reads at every step, so a remedy can change them
live; the rest (batch size, n-step, network shape) size buffers and kernels at start."""


def checkpoint_before(checkpoints: Path, frame: int) -> Path | None:
    """The newest complete generation saved before `frame`, or None."""
    for generation in reversed(list_generations(checkpoints)):
        saved_at = generation_frame(generation)
        if saved_at is not None and saved_at < frame:
            return generation
    return None


def live_changes(remedy: Mapping[str, Any], learner: config.LearnerConfig) -> dict[str, Any]:
    """The part of a finding's remedy a running learner can take ({field: value}); halving the
    learning rate when none of it can."""
    changes = {key.split(".", 1)[1]: value for key, value in remedy.items()
               if key.startswith("learner.") and key.split(".", 1)[1] in LIVE_LEARNER_FIELDS}
    return changes or {"lr": learner.lr / 2}


def describe_changes(before: config.LearnerConfig, changes: Mapping[str, Any]) -> str:
    return ", ".join(f"learner.{key} {getattr(before, key)!r} → {value!r}"
                     for key, value in changes.items())


class DoctorOnDuty:
    """Judges each row the trainer writes; in guard mode asks the trainer to roll back.

    Args:
        cfg: the run's configuration (the doctor section, and the settings advice quotes).
        events: where findings and guard actions are logged.
        checkpoints: the run's checkpoints directory (guard mode looks for generations there).
        restore: loads a generation's learner state into the running learner and applies the
            learner config changes; raises CheckpointError or ValueError when it cannot.
    """

    def __init__(self, cfg: config.Config, events: EventLog, checkpoints: Path,
                 restore: Callable[[Path | None, dict[str, Any]], config.LearnerConfig]):
        self.cfg, self.events, self.checkpoints, self.restore = cfg, events, checkpoints, restore
        self.doctor = Doctor(cfg.doctor, settings=config.to_dict(cfg))
        self.rollbacks = 0
        self.guarding = cfg.doctor.guard
        self.trouble_onset: int | None = None
        """Onset of the first alarm of the current episode of trouble: a problem that comes back
        after a rollback goes back to before it began, not to a checkpoint saved meanwhile
        (after a rollback the doctor starts over, and sees only the new onset)."""
        self.clean_rows = 0
        self.floor: Path | None = None
        """The checkpoint of the weights before the first learner step (the trainer sets it)."""
        self.target: Path | None = None
        """The generation the current episode of trouble rolled back to."""

    def pinned(self) -> frozenset[str]:
        """Generations the checkpoint rotation must keep: the floor, always, and the current
        rollback target while the trouble lasts (a save every few seconds would otherwise
        rotate out the only weights from before the onset)."""
        keep = [self.floor] + ([self.target] if self.trouble_onset is not None else [])
        return frozenset(p.name for p in keep if p is not None)

    def examine(self, row: Mapping[str, Any]) -> list[Finding]:
        """The findings new at `row`, logged; a guard code triggers a rollback."""
        if not self.cfg.doctor.enabled:
            return []
        findings = self.doctor.observe(row)
        for finding in findings:
            fields = finding.to_dict()
            message = fields.pop("message")
            self.events.log("finding", message, **fields)
        alarm = next((f for f in findings if f.code in GUARD_CODES), None)
        if alarm is not None and self.guarding:
            self._roll_back(alarm, row.get("frame"))
        elif self.trouble_onset is not None:
            self.clean_rows += 1
            if self.clean_rows >= 2 * self.cfg.doctor.baseline_rows:
                self.trouble_onset = None  # recovered: the next problem is a new one
        return findings

    def _roll_back(self, finding: Finding, frame: int | None) -> None:
        """Puts the learner back before the trouble's onset with the finding's remedy applied;
        the event names the row's `frame` (where `tempest-dqn doctor` restarts too)."""
        if self.rollbacks >= self.cfg.doctor.max_rollbacks:
            self.guarding = False
            self.events.log("warning", f"guard: gave up after {self.rollbacks} rollbacks; "
                            f"{finding.code} again at frame {finding.frame:,}. Training goes on "
                            "unguarded: read the doctor's advice (tempest-dqn doctor RUN_DIR)",
                            guard="gave_up", code=finding.code, rollbacks=self.rollbacks)
            return
        self.rollbacks += 1
        onset = min(finding.frame, self.trouble_onset or finding.frame)
        self.trouble_onset, self.clean_rows = onset, 0
        generation = checkpoint_before(self.checkpoints, onset)
        self.target = generation
        changes = live_changes(finding.remedy, self.cfg.learner)
        before = self.cfg.learner
        try:
            learner_cfg = self.restore(generation, changes)
        except (CheckpointError, ValueError) as err:
            self.events.log("error", f"guard: rollback {self.rollbacks} failed ({err}); "
                            "training goes on unguarded", guard="failed", code=finding.code)
            self.guarding = False
            return
        self.cfg = dataclasses.replace(self.cfg, learner=learner_cfg)
        self.doctor.restart(config.to_dict(self.cfg))  # fresh baselines, the new settings
        where = (f"rolled back to {generation.name} (frame {generation_frame(generation):,}, "
                 f"before the onset at frame {onset:,})" if generation is not None
                 else f"no checkpoint before frame {onset:,} to roll back to; kept "
                 "the current weights")
        self.events.log("warning", f"guard: {finding.code}: {where}; applied "
                        f"{describe_changes(before, changes)} (rollback {self.rollbacks} of "
                        f"{self.cfg.doctor.max_rollbacks}). Make it permanent with the same "
                        "flags on the next run.", guard="rollback", code=finding.code,
                        generation=generation.name if generation is not None else None,
                        changes={f"learner.{k}": v for k, v in changes.items()},
                        rollbacks=self.rollbacks, frame=frame)
