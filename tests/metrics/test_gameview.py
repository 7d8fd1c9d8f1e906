"""game.json: write_game_view / read_game_view / validate_game_view."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import metrics
from metrics.gameview import read_game_view, validate_game_view, write_game_view

CIRCLE_X = [240, 231, 207, 170, 128, 86, 49, 25, 16, 25, 49, 86, 128, 170, 207, 231]
CIRCLE_Y = [128, 170, 207, 231, 240, 231, 207, 170, 128, 86, 49, 25, 16, 25, 49, 86]


def sample_view(**overrides: Any) -> dict[str, Any]:
    view = {
        "version": 1, "frame": 12_345, "wave": 3, "score": 4_250, "lives": 2, "mode": "play",
        "tube": {"x": CIRCLE_X, "y": CIRCLE_Y, "open": False},
        "player": {"lane": 4.0, "depth": 0x10, "alive": True},
        "enemies": [{"type": "flipper", "lane": 7.25, "depth": 0x80},
                    {"type": "fuseball", "lane": 15.5, "depth": 0xF0}],
        "shots": [{"lane": 4, "depth": 0x30}],
        "enemy_shots": [{"lane": 7, "depth": 0x60}],
        "spikes": [0] * 10 + [0xA0, 0, 0, 0, 0, 0xF1],
    }  # fmt: skip
    view.update(overrides)
    return view


def test_a_snapshot_round_trips(tmp_path: Path) -> None:
    write_game_view(tmp_path, sample_view())
    assert read_game_view(tmp_path) == sample_view()


def test_a_new_snapshot_replaces_the_old_and_leaves_no_temp_file(tmp_path: Path) -> None:
    for frame in (1, 2, 3):
        write_game_view(tmp_path, sample_view(frame=frame))
    assert [p.name for p in tmp_path.iterdir()] == ["game.json"]
    assert read_game_view(tmp_path)["frame"] == 3


def test_a_failed_write_leaves_the_old_snapshot_and_no_temp_file(tmp_path: Path) -> None:
    write_game_view(tmp_path, sample_view(frame=1))
    with pytest.raises(TypeError):
        write_game_view(tmp_path, sample_view(frame={1, 2}))  # a set is not JSON
    assert [p.name for p in tmp_path.iterdir()] == ["game.json"]
    assert read_game_view(tmp_path)["frame"] == 1


def test_writing_into_a_missing_directory_raises_oserror(tmp_path: Path) -> None:
    with pytest.raises(OSError):
        write_game_view(tmp_path / "gone", sample_view())


@pytest.mark.parametrize("content", [
    b"", b'{"version": 1, "frame": 12', b"\xff\xfe not utf-8", b"[1, 2, 3]",
    json.dumps(sample_view(version=2)).encode(),
])  # fmt: skip
def test_a_damaged_or_foreign_file_reads_as_none(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "game.json").write_bytes(content)
    assert read_game_view(tmp_path) is None


def test_no_file_or_no_directory_reads_as_none(tmp_path: Path) -> None:
    assert read_game_view(tmp_path) is None
    assert read_game_view(tmp_path / "missing") is None


def test_the_sample_is_valid_and_the_functions_are_exported() -> None:
    assert validate_game_view(sample_view()) == []
    assert metrics.read_game_view is read_game_view
    assert {"write_game_view", "read_game_view", "validate_game_view"} <= set(metrics.__all__)


def _broken(path: str, value: Any) -> dict[str, Any]:
    """The sample with the value at a dotted path (list indices as numbers) replaced."""
    view = copy.deepcopy(sample_view())
    *parents, last = path.split(".")
    node: Any = view
    for part in parents:
        node = node[int(part)] if part.isdigit() else node[part]
    if last.isdigit():
        node[int(last)] = value
    else:
        node[last] = value
    return view


@pytest.mark.parametrize(("path", "value", "message"), [
    ("version", 2, "version must be 1, got 2"),
    ("score", -1, "score must be an integer >= 0, got -1"),
    ("lives", True, "lives must be an integer >= 0, got True"),
    ("mode", "pause", "mode 'pause' is not one of play, drop, other"),
    ("tube.open", 0, "tube.open must be true or false, got 0"),
    ("tube.x", [1] * 15, "tube.x must be a list of 16 integers, got [1, 1, 1, 1, 1, 1, 1, 1, "
                         "1, 1, 1, 1, 1, 1, 1]"),
    ("spikes", [256] * 16, "spikes must hold integers 0..255, got [256, 256, 256, 256, 256, "
                           "256, 256, 256, 256, 256, 256, 256, 256, 256, 256, 256]"),
    ("player.lane", 16.0, "player.lane must be a number in [0, 16), got 16.0"),
    ("player.depth", 0x0F, "player.depth must be an integer 16..240, got 15"),
    ("player.alive", None, "player.alive must be true or false, got None"),
    ("enemies.0.type", "ghost", "enemies[0].type 'ghost' is not one of flipper, pulsar, tanker, "
                                "spiker, fuseball"),
    ("enemies.1.depth", 0xF1, "enemies[1].depth must be an integer 16..240, got 241"),
    ("shots.0.lane", 4.5, "shots[0].lane must be an integer 0..15, got 4.5"),
    ("enemy_shots.0", 7, "enemy_shots[0] must be an object, got 7"),
    ("shots", None, "shots must be a list, got None"),
])  # fmt: skip
def test_validation_names_each_broken_field(path: str, value: Any, message: str) -> None:
    assert validate_game_view(_broken(path, value)) == [message]


def test_validation_of_a_non_object_and_of_missing_keys() -> None:
    assert validate_game_view([]) == ["a game view must be a JSON object, got list"]
    view = sample_view()
    del view["frame"]
    del view["player"]["depth"]
    assert validate_game_view(view) == ["missing required key 'frame'",
                                        "missing required key 'player.depth'"]
