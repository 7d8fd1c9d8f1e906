"""The dashboard's keys: one table for the bindings, the footer, the help screen and the tests.

Keys are those of the terminal app this product replaces (tempest_ai, main.py): q s t o e p, 7 8 9
for the expert ratio, 4 5 6 for ε, L/l for the learning rate.  Like there, `t`, `o` and `e` are
toggles: `t` sends the opposite of the state shown; `o` / `e` force the expert off / on, and a
second press hands the choice back to the curriculum schedule.  Every command goes through the run's
control channel (metrics.control), so the dashboard works the same attached to another process.
"""

from __future__ import annotations

from typing import NamedTuple


class Key(NamedTuple):
    key: str
    """Textual key name."""
    action: str
    """Textual action string run by the app."""
    label: str
    """Short name for the footer."""
    help: str
    """One line for the help screen."""


KEYS: tuple[Key, ...] = (
    Key("q", "save_and_quit", "quit", "save and quit: checkpoint, stop training, close"),
    Key("s", "send('save')", "save", "save a checkpoint now"),
    Key("t", "toggle_training", "pause", "pause / resume (the opposite of the state shown)"),
    Key("o", "toggle_expert('off')", "xprt off", "expert off (network drives); again: schedule"),
    Key("e", "toggle_expert('on')", "xprt only", "expert only (expert drives); again: schedule"),
    Key("7", "send('expert_ratio', 'down')", "xprt-", "expert ratio down"),
    Key("8", "send('expert', 'auto')", "xprt sched", "expert ratio back to the schedule"),
    Key("9", "send('expert_ratio', 'up')", "xprt+", "expert ratio up"),
    Key("4", "send('epsilon', 'down')", "ε-", "epsilon down"),
    Key("5", "send('epsilon', 'auto')", "ε sched", "epsilon back to the schedule"),
    Key("6", "send('epsilon', 'up')", "ε+", "epsilon up"),
    Key("p", "send('greedy')", "greedy", "greedy acting on/off (ε = 0)"),
    Key("i", "send('imitation', 'toggle')", "imitate", "imitation term off; again: its schedule"),
    Key("L", "send('lr', 'x2')", "lr×2", "learning rate ×2"),
    Key("l", "send('lr', 'half')", "lr÷2", "learning rate ÷2"),
    Key("c", "next_chart", "chart", "next chart (when only one fits)"),
    Key("d", "toggle_panel('doctor')", "doctor", "doctor's findings and the event log"),
    Key("g", "toggle_panel('game')", "game", "game view"),
    Key("question_mark", "help", "help", "this help"),
)  # fmt: skip
"""Every key, in help-screen order."""

EXPERT_DRIVER = {"off": "expert off", "on": "expert only"}
"""The driver a row shows while `expert off` / `expert on` is in force."""


def training_command(state: str) -> str:
    """`t`: resume when the run is shown paused (or being paused), pause otherwise."""
    return "resume" if state in ("paused", "pausing…") else "pause"


def expert_command(mode: str, driver: str) -> dict[str, str]:
    """`o` / `e`: force the expert `mode`, or back to the schedule when it is already in force."""
    return {"value": "auto" if driver == EXPERT_DRIVER[mode] else mode}


def command_label(name: str, args: dict[str, str]) -> str:
    """A command as a user reads it: "expert off", "epsilon schedule", "lr x2"."""
    value = args.get("value")
    if value is None:
        return name
    return f"{name.replace('_', ' ')} {'schedule' if value == 'auto' else value}"
