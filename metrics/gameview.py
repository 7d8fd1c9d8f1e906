"""game.json: a snapshot of game 0 that the trainer publishes and the dashboard draws (`g`).

Why a file and not a pipe: the dashboard follows a run directory, attached or not (`watch`), and
must never hold the trainer back.  The trainer overwrites one small JSON object a few times a
second; it is written to a dot-temp file in the same directory and moved into place with
`os.replace`, so a reader sees the old snapshot or the new one, never half of one.  It is
ephemeral (no fsync): a crash loses a picture, nothing else.  Runs whose env has no game state
(ALE) never write it.

The snapshot (version 1)::

    {"version": 1, "frame": int, "wave": int, "score": int, "lives": int,
     "mode": "play" | "drop" | "other",
     "tube": {"x": [16 ints 0..255], "y": [16 ints 0..255], "open": bool},
     "player": {"lane": float, "depth": int, "alive": bool},
     "enemies": [{"type": "flipper" | "pulsar" | "tanker" | "spiker" | "fuseball",
                  "lane": float, "depth": int}, ...],
     "shots": [{"lane": int, "depth": int}, ...], "enemy_shots": [...the same...],
     "spikes": [16 ints, 0 = none]}

* `tube.x/y`: the tube's 16 points (the arcade's LINE_X/LINE_Y, a 0..255 plane, y up); lane k
  lies between point k and point k+1 (mod 16); an open tube has no lane 15.
* Lanes are lane-centre coordinates in [0, 16): an integer is the middle of that lane, k - 0.5
  the line (spoke) on its low side; 15.5 is the line at point 0.  A flipping enemy is fractional
  (part way from its old lane to its new one), a fuseball rides a line (x.5).
* Depths are integer depth units (the 8.8 values' high byte), 0x10 = rim .. 0xF0 = far end.
* Spikes are the integer tip depth per lane (0x20..0xF1; 0xF1 is a fresh base), 0 = no spike.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from metrics.runfiles import GAME_VIEW_FILE

GAME_VIEW_VERSION = 1
MODES = ("play", "drop", "other")
ENEMY_TYPE_NAMES = ("flipper", "pulsar", "tanker", "spiker", "fuseball")
TUBE_POINTS = 16
RIM_DEPTH, FAR_DEPTH = 0x10, 0xF0
"""Integer depths of the rim and of the far end (envs.tempest.state's: envs may not be imported
here; tests/agent/test_gameview.py holds the two equal)."""
CENTRE = 0x80
"""The tube's vanishing point in the 0..255 plane of the tube points."""
FAR_SCALE = 0.2
"""The far end is the rim's shape scaled by this toward CENTRE (as envs.tempest.render draws)."""


def game_view_path(run_dir: str | os.PathLike[str]) -> Path:
    return Path(run_dir) / GAME_VIEW_FILE


def write_game_view(run_dir: str | os.PathLike[str], view: dict[str, Any]) -> None:
    """Replaces run_dir/game.json with `view` in one step (temp file + os.replace).

    Raises OSError when the directory cannot be written; the caller decides whether that
    matters (the trainer's publisher ignores it)."""
    path = game_view_path(run_dir)
    temp = path.with_name(f".{GAME_VIEW_FILE}.{os.getpid()}.tmp")
    text = json.dumps(view, separators=(",", ":"))
    try:
        with open(temp, "w", encoding="utf-8") as file:
            file.write(text)
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def read_game_view(run_dir: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The snapshot, or None when there is none or it is unreadable or breaks the contract.

    Never raises: the dashboard calls it from its poll and shows "waiting" on None."""
    try:
        view = json.loads(game_view_path(run_dir).read_bytes())
    except (OSError, ValueError):  # absent, unreadable, not JSON / not UTF-8
        return None
    return view if not validate_game_view(view) else None


def validate_game_view(view: object) -> list[str]:
    """Every way `view` breaks the game.json contract (module docstring); [] if fine."""
    if not isinstance(view, dict):
        return [f"a game view must be a JSON object, got {type(view).__name__}"]
    problems: list[str] = []
    if view.get("version") != GAME_VIEW_VERSION:
        problems.append(f"version must be {GAME_VIEW_VERSION}, got {view.get('version')!r}")
    for key in ("frame", "wave", "score", "lives"):
        problems += _int(view, key, 0, None, key)
    if view.get("mode") not in MODES:
        problems.append(f"mode {view.get('mode')!r} is not one of {', '.join(MODES)}")
    problems += _tube(view.get("tube"))
    problems += _player(view.get("player"))
    problems += _items(view, "enemies", _enemy)
    problems += _items(view, "shots", _shot)
    problems += _items(view, "enemy_shots", _shot)
    problems += _ints16(view.get("spikes"), 0, 255, "spikes")
    return problems


# ---- the pieces -------------------------------------------------------------------------------


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _int(node: dict, key: str, low: int, high: int | None, where: str) -> list[str]:
    value = node.get(key)
    if key not in node:
        return [f"missing required key {where!r}"]
    if not _is_int(value) or value < low or (high is not None and value > high):
        span = f"{low}..{high}" if high is not None else f">= {low}"
        return [f"{where} must be an integer {span}, got {value!r}"]
    return []


def _lane(node: dict, where: str, fractional: bool) -> list[str]:
    value = node.get("lane")
    if fractional:
        if not _is_number(value) or not 0.0 <= value < TUBE_POINTS:
            return [f"{where}.lane must be a number in [0, 16), got {value!r}"]
        return []
    return _int(node, "lane", 0, TUBE_POINTS - 1, f"{where}.lane")


def _depth(node: dict, where: str) -> list[str]:
    return _int(node, "depth", RIM_DEPTH, FAR_DEPTH, f"{where}.depth")


def _ints16(value: object, low: int, high: int, where: str) -> list[str]:
    if not isinstance(value, list) or len(value) != TUBE_POINTS:
        return [f"{where} must be a list of {TUBE_POINTS} integers, got {value!r}"]
    if not all(_is_int(v) and low <= v <= high for v in value):
        return [f"{where} must hold integers {low}..{high}, got {value!r}"]
    return []


def _tube(tube: object) -> list[str]:
    if not isinstance(tube, dict):
        return [f"tube must be an object, got {tube!r}"]
    problems = _ints16(tube.get("x"), 0, 255, "tube.x") + _ints16(tube.get("y"), 0, 255, "tube.y")
    if not isinstance(tube.get("open"), bool):
        problems.append(f"tube.open must be true or false, got {tube.get('open')!r}")
    return problems


def _player(player: object) -> list[str]:
    if not isinstance(player, dict):
        return [f"player must be an object, got {player!r}"]
    problems = _lane(player, "player", fractional=True) + _depth(player, "player")
    if not isinstance(player.get("alive"), bool):
        problems.append(f"player.alive must be true or false, got {player.get('alive')!r}")
    return problems


def _enemy(enemy: dict, where: str) -> list[str]:
    problems = []
    if enemy.get("type") not in ENEMY_TYPE_NAMES:
        problems.append(f"{where}.type {enemy.get('type')!r} is not one of "
                        f"{', '.join(ENEMY_TYPE_NAMES)}")  # fmt: skip
    return problems + _lane(enemy, where, fractional=True) + _depth(enemy, where)


def _shot(shot: dict, where: str) -> list[str]:
    return _lane(shot, where, fractional=False) + _depth(shot, where)


def _items(view: dict, key: str, check) -> list[str]:  # type: ignore[no-untyped-def]
    items = view.get(key)
    if not isinstance(items, list):
        return [f"{key} must be a list, got {items!r}"]
    problems = []
    for i, item in enumerate(items):
        where = f"{key}[{i}]"
        problems += check(item, where) if isinstance(item, dict) else [
            f"{where} must be an object, got {item!r}"]
    return problems
