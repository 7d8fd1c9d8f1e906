"""The dashboard's keys: one table for the bindings, the footer, the help screen and the tests.

Keys are those of the terminal app this product replaces (tempest_ai, main.py): q s t o e p, 7 8 9
for the expert ratio, 4 5 6 for ε, L/l for the learning rate.  Like there, `t`, `o` and `e` are
toggles: `t` sends the opposite of the state shown; `o` / `e` force the expert off / on, and a
second press hands the choice back to the curriculum schedule.  Every command goes through the run's
control channel (metrics.control), so the dashboard works the same attached to another process.
"""

from __future__ import annotations

from typing import NamedTuple

KEY_NAMES = {"question_mark": "?", "left_square_bracket": "[", "right_square_bracket": "]"}
"""How the help screen writes the keys whose Textual names are words."""


class Key(NamedTuple):
    key: str
    """Textual key name."""
    action: str
    """Textual action string run by the app."""
    label: str
    """Short name for the footer."""
    help: str
    """What it does, for the help screen."""
    group: str = ""
    """Keys side by side in KEYS with the same group share one help line ("7 8 9  expert
    ratio: down / schedule / up"), so the help fits an 80x24 terminal."""


KEYS: tuple[Key, ...] = (
    Key("q", "save_and_quit", "quit", "save and quit: checkpoint, stop training, close"),
    Key("s", "send('save')", "save", "save a checkpoint now"),
    Key("t", "toggle_training", "pause", "pause / resume (the opposite of the state shown)"),
    Key("o", "toggle_expert('off')", "xprt off", "expert off (network drives); again: schedule"),
    Key("e", "toggle_expert('on')", "xprt only", "expert only (expert drives); again: schedule"),
    Key("7", "send('expert_ratio', 'down')", "xprt-", "down", "expert ratio"),
    Key("8", "send('expert', 'auto')", "xprt sched", "back to the schedule", "expert ratio"),
    Key("9", "send('expert_ratio', 'up')", "xprt+", "up", "expert ratio"),
    Key("4", "send('epsilon', 'down')", "ε-", "down", "epsilon"),
    Key("5", "send('epsilon', 'auto')", "ε sched", "back to the schedule", "epsilon"),
    Key("6", "send('epsilon', 'up')", "ε+", "up", "epsilon"),
    Key("p", "send('greedy')", "greedy", "greedy acting on/off (ε = 0)"),
    Key("i", "send('imitation', 'toggle')", "imitate", "imitation term off; again: its schedule"),
    Key("w", "send('curriculum', 'toggle')", "waves pin",
        "start-wave frontier pinned; again: the evaluations move it"),
    Key("left_square_bracket", "send('curriculum', 'down')", "wave-", "down",
        "frontier one skill step (pins it)"),
    Key("right_square_bracket", "send('curriculum', 'up')", "wave+", "up",
        "frontier one skill step (pins it)"),
    Key("L", "send('lr', 'x2')", "lr×2", "×2", "learning rate"),
    Key("l", "send('lr', 'half')", "lr÷2", "÷2", "learning rate"),
    Key("c", "next_chart", "chart", "next chart (when only one fits)"),
    Key("d", "toggle_panel('doctor')", "doctor", "doctor's findings and the event log"),
    Key("g", "toggle_panel('game')", "game", "game view"),
    Key("question_mark", "help", "help", "this help"),
)  # fmt: skip
"""Every key, in help-screen order."""


def help_rows() -> list[tuple[str, str]]:
    """(keys, what they do) per help line: a group's keys share one line."""
    rows: list[tuple[str, str]] = []
    for k in KEYS:
        name = KEY_NAMES.get(k.key, k.key)
        if k.group and rows and rows[-1][1].startswith(f"{k.group}: "):
            keys, text = rows[-1]
            rows[-1] = (f"{keys} {name}", f"{text} / {k.help}")
        else:
            rows.append((name, f"{k.group}: {k.help}" if k.group else k.help))
    return rows

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
