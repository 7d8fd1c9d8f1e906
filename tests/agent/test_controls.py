"""`agent.controls.Overrides`: what commands change, and who the dashboard says drives."""

from __future__ import annotations

import pytest

from agent.controls import _HANDLERS, Overrides, apply_commands
from expert import MixerOverride
from metrics.control import COMMANDS, BadCommand, Command


def test_driver_names_whoever_chooses_the_actions() -> None:
    assert Overrides().driver() == "schedule"
    assert Overrides(greedy=True, expert=MixerOverride("on")).driver() == "greedy"
    assert Overrides(expert=MixerOverride("on")).driver() == "expert only"
    assert Overrides(expert=MixerOverride("off")).driver() == "expert off"
    assert Overrides(expert=MixerOverride("auto", 0.3)).driver() == "manual"


def test_epsilon_in_force_follows_greedy_and_the_scale() -> None:
    assert Overrides(greedy=True).epsilon(0.5) == 0.0
    assert Overrides().epsilon(0.5) == 0.5
    assert Overrides(epsilon_scale=4.0).epsilon(0.5) == 1.0


class _Inbox:
    """The commands a dashboard sent, in order (CommandInbox's `poll`)."""

    def __init__(self, *commands) -> None:
        self.commands = list(commands)

    def poll(self):
        pending, self.commands = self.commands, []
        return pending


class _Events:
    def __init__(self) -> None:
        self.logged: list[tuple[str, str, dict]] = []

    def log(self, kind: str, message: str, **fields) -> None:
        self.logged.append((kind, message, fields))


def _send(overrides: Overrides, *commands) -> list[tuple[str, str]]:
    events = _Events()
    apply_commands(_Inbox(*commands), events, overrides)
    return [(kind, message) for kind, message, _ in events.logged]


def test_every_command_changes_what_it_names_and_is_acknowledged() -> None:
    o = Overrides(scheduled_expert_ratio=0.30)
    assert _send(o, Command("pause")) == [("command", "training paused")] and o.paused
    assert _send(o, Command("resume")) == [("command", "training resumed")] and not o.paused
    assert _send(o, Command("save")) == [("command", "checkpoint requested")]
    assert o.save_requested and not o.quit_requested
    assert _send(o, Command("quit")) == [("command", "stopping after a final checkpoint")]
    assert o.quit_requested
    assert _send(o, Command("greedy"), Command("greedy")) == [
        ("command", "greedy acting on"), ("command", "greedy acting off")]
    assert not o.greedy


def test_epsilon_steps_double_or_halve_and_auto_returns_to_the_schedule() -> None:
    o = Overrides()
    _send(o, Command("epsilon", {"value": "up"}), Command("epsilon", {"value": "up"}))
    assert o.epsilon_scale == 4.0 and o.epsilon(0.1) == pytest.approx(0.4)
    assert _send(o, Command("epsilon", {"value": "down"})) == [("command", "epsilon scale 2.0")]
    assert _send(o, Command("epsilon", {"value": "auto"})) == [
        ("command", "epsilon scale auto (schedule)")]
    assert o.epsilon_scale is None and o.epsilon(0.1) == 0.1


def test_lr_doubles_and_halves_the_factor() -> None:
    o = Overrides()
    assert _send(o, Command("lr", {"value": "x2"})) == [("command", "learning-rate factor 2")]
    _send(o, Command("lr", {"value": "x2"}), Command("lr", {"value": "half"}))
    assert o.lr_factor == 2.0


def test_expert_commands_force_it_step_the_ratio_and_return_to_the_schedule() -> None:
    o = Overrides(scheduled_expert_ratio=0.30)
    assert _send(o, Command("expert", {"value": "on"})) == [("command", "expert only")]
    assert o.driver() == "expert only"
    # a step by hand starts from what is in force: 0.30 from the schedule, +0.05
    o = Overrides(scheduled_expert_ratio=0.30)
    assert _send(o, Command("expert_ratio", {"value": "up"})) == [
        ("command", "expert share set to 0.35 by hand")]
    assert o.driver() == "manual" and o.expert.manual == pytest.approx(0.35)
    _send(o, Command("expert_ratio", {"value": "down"}), Command("expert_ratio", {"value": "down"}))
    assert o.expert.manual == pytest.approx(0.25)
    assert _send(o, Command("expert", {"value": "auto"})) == [("command", "expert share: schedule")]
    assert o.driver() == "schedule" and o.expert.manual is None


def test_imitation_off_auto_and_toggle() -> None:
    o = Overrides()
    assert _send(o, Command("imitation", {"value": "off"})) == [("command", "imitation term off")]
    assert o.imitation_weight(0.5) == 0.0
    assert _send(o, Command("imitation", {"value": "toggle"})) == [
        ("command", "imitation term: schedule")]
    assert o.imitation_weight(0.5) == 0.5
    _send(o, Command("imitation", {"value": "toggle"}), Command("imitation", {"value": "auto"}))
    assert not o.imitation_off


def test_curriculum_pin_toggle_auto_and_steps_wait_for_the_trainer() -> None:
    """The commands leave requests (the trainer's curriculum takes them at its next step):
    pin / auto / toggle against the pinned state shown, up and down as counted steps."""
    o = Overrides()
    assert _send(o, Command("curriculum", {"value": "pin"})) == [
        ("command", "curriculum frontier pinned")]
    assert o.curriculum.pin is True and o.curriculum_pinned
    assert _send(o, Command("curriculum", {"value": "toggle"})) == [
        ("command", "curriculum frontier: evaluations")]
    assert o.curriculum.pin is False
    _send(o, Command("curriculum", {"value": "up"}), Command("curriculum", {"value": "up"}),
          Command("curriculum", {"value": "down"}))
    assert o.curriculum.steps == 1
    _send(o, Command("curriculum", {"value": "auto"}))
    assert o.curriculum.pin is False and not o.curriculum_pinned


def test_a_bad_command_is_a_warning_and_changes_nothing() -> None:
    o = Overrides()
    logged = _send(o, BadCommand("c.json", "unknown command 'jump'"), Command("nonsense"))
    assert logged == [("warning", "ignored a control command: unknown command 'jump'"),
                      ("command", "'nonsense' is not a command this trainer knows: ignored")]
    assert o == Overrides()


def test_every_command_the_channel_accepts_has_a_handler() -> None:
    assert set(_HANDLERS) == set(COMMANDS)
