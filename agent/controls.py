"""What the control channel's commands do to a running trainer (DESIGN.md §3, last arrow).

The dashboard (or any writer) drops commands into `control/`; the trainer polls them between
steps and applies them here.  Each command is acknowledged in `events.jsonl`; a command that does
not parse is logged as a warning and ignored.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from agent.curriculum import CurriculumControl
from expert import MixerOverride
from metrics.control import BadCommand, Command, CommandInbox, describe
from metrics.events import EventLog

EPSILON_STEP = 2.0
"""`epsilon up` multiplies the exploration rate by this, `down` divides by it."""


@dataclass
class Overrides:
    """The live changes a user has made; everything else follows the configured schedules."""

    paused: bool = False
    greedy: bool = False
    epsilon_scale: float | None = None
    save_requested: bool = False
    quit_requested: bool = False
    lr_factor: float = 1.0
    imitation_off: bool = False
    """The imitation term switched off by hand (its schedule resumes when switched back)."""
    expert: MixerOverride = field(default_factory=MixerOverride)
    curriculum: CurriculumControl = field(default_factory=CurriculumControl)
    """Requests for the start-wave curriculum, taken by the trainer at its next step."""
    curriculum_pinned: bool = False
    """Whether the curriculum is pinned (the trainer keeps it current; `toggle` reads it)."""
    scheduled_expert_ratio: float = 0.0
    """What the curriculum schedule says now (the trainer keeps it current)."""

    def driver(self) -> str:
        """Who chooses the actions, for the dashboard: "greedy" (ε = 0), "expert only",
        "expert off", "manual" (a ratio set by hand) or "schedule"."""
        if self.greedy:
            return "greedy"
        if self.expert.mode == "on":
            return "expert only"
        if self.expert.mode == "off":
            return "expert off"
        return "schedule" if self.expert.manual is None else "manual"

    def imitation_weight(self, scheduled: float) -> float:
        """lambda in force: 0 while switched off by hand, else the schedule's."""
        return 0.0 if self.imitation_off else scheduled

    def epsilon(self, scheduled: float) -> float:
        """The exploration rate in force: 0 when greedy, else the schedule times any scale."""
        if self.greedy:
            return 0.0
        if self.epsilon_scale is None:
            return scheduled
        return min(1.0, scheduled * self.epsilon_scale)


def apply_commands(inbox: CommandInbox, events: EventLog, overrides: Overrides) -> None:
    """Apply every pending command in order, acknowledging each in the events log."""
    for command in inbox.poll():
        if isinstance(command, BadCommand):
            events.log("warning", f"ignored a control command: {command.reason}",
                       **describe(command))
            continue
        outcome = _apply(command, overrides)
        events.log("command", outcome, **describe(command))


def _apply(command: Command, o: Overrides) -> str:
    """Apply one command to `o`; return the acknowledgement for the events log."""
    handler = _HANDLERS.get(command.name)
    if handler is None:
        return f"'{command.name}' is not a command this trainer knows: ignored"
    return handler(o, command.args.get("value"))


def _pause(o: Overrides, _value: str | None, paused: bool = True) -> str:
    o.paused = paused
    return "training paused" if paused else "training resumed"


def _save(o: Overrides, _value: str | None) -> str:
    o.save_requested = True
    return "checkpoint requested"


def _quit(o: Overrides, _value: str | None) -> str:
    o.quit_requested = True
    return "stopping after a final checkpoint"


def _greedy(o: Overrides, _value: str | None) -> str:
    o.greedy = not o.greedy
    return f"greedy acting {'on' if o.greedy else 'off'}"


def _epsilon(o: Overrides, value: str | None) -> str:
    if value == "auto":
        o.epsilon_scale = None
    else:
        factor = EPSILON_STEP if value == "up" else 1.0 / EPSILON_STEP
        o.epsilon_scale = (o.epsilon_scale or 1.0) * factor
    return f"epsilon scale {o.epsilon_scale or 'auto (schedule)'}"


def _lr(o: Overrides, value: str | None) -> str:
    o.lr_factor *= 2.0 if value == "x2" else 0.5
    return f"learning-rate factor {o.lr_factor:g}"


def _imitation(o: Overrides, value: str | None) -> str:
    o.imitation_off = not o.imitation_off if value == "toggle" else value == "off"
    return "imitation term off" if o.imitation_off else "imitation term: schedule"


def _curriculum(o: Overrides, value: str | None) -> str:
    if value in ("up", "down"):
        o.curriculum.steps += 1 if value == "up" else -1
        return f"curriculum frontier one skill step {value}, pinned"
    pin = not o.curriculum_pinned if value == "toggle" else value == "pin"
    o.curriculum.pin = o.curriculum_pinned = pin
    return "curriculum frontier pinned" if pin else "curriculum frontier: evaluations"


def _expert(o: Overrides, value: str | None) -> str:
    o.expert.mode, o.expert.manual = value, None
    return {"on": "expert only", "off": "expert off", "auto": "expert share: schedule"}[value]


def _expert_ratio(o: Overrides, value: str | None) -> str:
    ratio = o.expert.nudge(value, o.scheduled_expert_ratio)
    return f"expert share set to {ratio:.2f} by hand"


_HANDLERS: dict[str, Callable[[Overrides, str | None], str]] = {
    "pause": _pause,
    "resume": lambda o, value: _pause(o, value, paused=False),
    "save": _save,
    "quit": _quit,
    "greedy": _greedy,
    "epsilon": _epsilon,
    "lr": _lr,
    "imitation": _imitation,
    "curriculum": _curriculum,
    "expert": _expert,
    "expert_ratio": _expert_ratio,
}
"""What each command of `metrics.control.COMMANDS` does (a test checks both name the same)."""
