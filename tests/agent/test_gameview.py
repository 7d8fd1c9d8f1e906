"""agent.gameview: a GameState built by hand -> the game.json dict; the publisher's throttle."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from agent.gameview import GameViewPublisher, enemy_lane, find_state, tempest_view
from envs.tempest import state as st
from metrics.gameview import read_game_view, validate_game_view
from tests.fakes import ChainVectorEnv

V_TUBE = 7
"""The open "V" tube."""


def _enemy(s: st.GameState, slot: int, kind: int, lane: int, y: int, flipping: int = 0,
           step: int = 0, steps: int = 0, direction: int = 0) -> None:
    s.en_type[0, slot], s.en_lane[0, slot], s.en_y[0, slot] = kind, lane, y
    s.en_flipping[0, slot], s.en_flip_step[0, slot] = flipping, step
    s.en_flip_steps[0, slot], s.en_dir[0, slot] = steps, direction


def hand_state() -> st.GameState:
    s = st.allocate(1)
    s.mode[0], s.frame[0], s.wave[0], s.score[0], s.lives[0] = st.MODE_PLAY, 900, 8, 12_340, 2
    s.tube[0], s.is_open[0] = V_TUBE, 1
    s.player_pos[0], s.player_y[0] = 0x5C, st.RIM  # lane 5, sub-step 12
    _enemy(s, 0, st.FLIPPER, 5, (0x80 << 8) | 0xFF, 1, 2, 8, direction=1)  # pivot 5, upward
    _enemy(s, 1, st.PULSAR, 5, 0x40 << 8, 1, 6, 8, direction=0)  # pivot 5, downward
    _enemy(s, 2, st.FLIPPER, 0, 0x20 << 8, 1, 1, 4, direction=1)  # pivot 0: from lane 15
    _enemy(s, 3, st.FUSEBALL, 3, 0x30 << 8)  # on line 3
    _enemy(s, 4, st.FUSEBALL, 3, 0x31 << 8, 1, 1, 4, direction=0)  # line 3 -> 4, a quarter
    _enemy(s, 5, st.TANKER, 9, st.FAR_END)
    s.en_y[0, 6] = 0x50 << 8  # a stale depth in a free slot: not an enemy
    s.shot_y[0, :2], s.shot_lane[0, :2] = [(0x30 << 8) | 0x80, 0], [5, 5]
    s.eshot_y[0, 3], s.eshot_lane[0, 3] = 0x11 << 8, 12
    s.spike[0, 2], s.spike[0, 14] = 0x60, 0xF1
    return s


def test_the_dict_of_a_hand_built_state() -> None:
    view = tempest_view(hand_state())
    assert validate_game_view(view) == []
    assert {k: view[k] for k in ("version", "frame", "wave", "score", "lives", "mode")} == {
        "version": 1, "frame": 900, "wave": 8, "score": 12_340, "lives": 2, "mode": "play"}
    assert view["tube"]["open"] is True
    assert view["tube"]["x"][:4] == [0x10, 0x1E, 0x2C, 0x3A]
    assert view["tube"]["y"][:4] == [0xF0, 0xD0, 0xB0, 0x90]
    assert view["player"] == {"lane": 5.0, "depth": 0x10, "alive": True}
    assert view["enemies"] == [
        {"type": "flipper", "lane": 4.25, "depth": 0x80},  # lane 4 -> 5, 2/8 of the way
        {"type": "pulsar", "lane": 4.25, "depth": 0x40},  # lane 5 -> 4, 6/8 of the way
        {"type": "flipper", "lane": 15.25, "depth": 0x20},  # lane 15 -> 0 over line 0
        {"type": "fuseball", "lane": 2.5, "depth": 0x30},  # line 3 = lane coordinate 2.5
        {"type": "fuseball", "lane": 2.75, "depth": 0x31},
        {"type": "tanker", "lane": 9.0, "depth": 0xF0},
    ]
    assert view["shots"] == [{"lane": 5, "depth": 0x30}]
    assert view["enemy_shots"] == [{"lane": 12, "depth": 0x11}]
    assert view["spikes"] == [0, 0, 0x60] + [0] * 11 + [0xF1, 0]
    assert all(type(e["depth"]) is int for e in view["enemies"])
    assert json.loads(json.dumps(view)) == view


@pytest.mark.parametrize(("mode", "cause", "lives", "shown", "alive"), [
    (st.MODE_DROP, st.ALIVE, 2, "drop", True),
    (st.MODE_END_OF_LIFE, st.DEATH_SHOT, 2, "other", False),
    (st.MODE_GAME_OVER, st.ALIVE, 0, "other", False),
])  # fmt: skip
def test_mode_and_alive(mode, cause, lives, shown, alive) -> None:
    s = hand_state()
    s.mode[0], s.death_cause[0], s.lives[0] = mode, cause, lives
    view = tempest_view(s)
    assert (view["mode"], view["player"]["alive"]) == (shown, alive)


def test_a_drop_past_the_far_end_is_clamped_and_a_closed_tube_is_closed() -> None:
    s = hand_state()
    s.tube[0], s.is_open[0], s.player_y[0] = 0, 0, (0xF8 << 8)
    view = tempest_view(s)
    assert (view["tube"]["open"], view["player"]["depth"]) == (False, 0xF0)
    assert view["tube"]["x"][:3] == [0xF0, 0xE7, 0xCF]


def test_game_index_selects_the_game() -> None:
    s = st.allocate(2)
    s.wave[:] = [1, 5]
    s.lives[:] = 3
    assert tempest_view(s, 1)["wave"] == 5


@pytest.mark.parametrize(("args", "lane"), [
    ((st.FLIPPER, 7, False, 0, 0, 1), 7.0),
    ((st.FLIPPER, 7, True, 8, 8, 1), 7.0),  # landed: in lane pivot
    ((st.FLIPPER, 7, True, 8, 8, 0), 6.0),  # landed: in lane pivot-1
    ((st.FLIPPER, 0, True, 4, 8, 0), 15.5),  # lane 0 -> 15 on a closed tube
    ((st.FUSEBALL, 0, False, 0, 0, 0), 15.5),  # line 0
    ((st.FUSEBALL, 3, True, 1, 4, 1), 3.25),  # from line 4 back to line 3
])  # fmt: skip
def test_enemy_lane(args, lane) -> None:
    assert enemy_lane(*args) == lane


class _Wrapped:
    """An env wrapper: `unwrapped` reaches the env with the state (ExpertLabels, gymnasium)."""

    def __init__(self, state: st.GameState) -> None:
        self.unwrapped = SimpleNamespace(state=state)


def test_the_publisher_writes_at_most_every_period(tmp_path) -> None:
    ticks = iter([0.0, 0.1, 0.25, 0.3, 0.6])
    publisher = GameViewPublisher(tmp_path, every_s=0.25, clock=lambda: next(ticks),
                                  background=False)  # fmt: skip
    env = _Wrapped(hand_state())
    written = [publisher.maybe_publish(env, frame) for frame in (10, 20, 30, 40, 50)]
    assert written == [True, False, True, False, True]
    assert publisher.published == 3
    assert read_game_view(tmp_path)["frame"] == 50  # the trainer's frame, not the game's


@pytest.mark.parametrize("env", [ChainVectorEnv(2), object(), SimpleNamespace(unwrapped=None)])
def test_an_env_without_a_game_state_is_skipped(tmp_path, env) -> None:
    publisher = GameViewPublisher(tmp_path, every_s=0.0, background=False)
    assert find_state(env) is None
    assert publisher.maybe_publish(env, 100) is False
    assert list(tmp_path.iterdir()) == [] and publisher._thread is None


def test_the_background_writer_writes_the_newest_snapshot_by_close(tmp_path) -> None:
    publisher = GameViewPublisher(tmp_path, every_s=0.0)
    env = _Wrapped(hand_state())
    for frame in (1, 2, 3):
        assert publisher.maybe_publish(env, frame)
    publisher.close()
    assert read_game_view(tmp_path)["frame"] == 3
    assert not publisher.maybe_publish(env, 4)  # closed
    assert [p.name for p in tmp_path.iterdir()] == ["game.json"]


def test_a_failed_write_does_not_stop_training(tmp_path) -> None:
    publisher = GameViewPublisher(tmp_path / "deleted", every_s=0.0, background=False)
    assert publisher.maybe_publish(_Wrapped(hand_state()), 1) is True
    assert not (tmp_path / "deleted").exists()


def test_the_game_view_contract_and_the_simulator_agree_on_the_tube() -> None:
    """metrics.gameview repeats the simulator's depths and projection (metrics may not import
    envs): the dashboard draws what envs.tempest.render draws."""
    from envs.tempest import render
    from metrics import gameview

    assert (gameview.RIM_DEPTH, gameview.FAR_DEPTH) == (st.RIM_DEPTH, st.FAR_DEPTH)
    assert (gameview.CENTRE, gameview.FAR_SCALE) == (render.CENTRE, render.FAR_SCALE)
    assert gameview.TUBE_POINTS == st.LANES
