"""The reward pipeline (reference §4.1) with hand-computed numbers: score deltas and their
filter, the death edge, the superzap penalty, the lane-safety shaping on closed and open tubes,
and the clip."""

from __future__ import annotations

import numpy as np
import pytest

from envs.tempest.reward import RewardParams, compute_rewards, new_memo, remember
from envs.tempest.state import (
    ALIVE,
    DEATH_GRABBED,
    FLIPPER,
    FUSEBALL,
    MODE_DROP,
    MODE_PAUSE,
    MODE_PLAY,
    RIM,
    GameState,
    allocate,
)

SHAPING_ONLY = RewardParams(objective_scale=0.0, subjective_scale=1.0, clip=0.0)
"""The reward is the subjective term in its own units (+-2 per lane)."""
NO_SHAPING = RewardParams(subjective_scale=0.0)
DEFAULTS = RewardParams()


def game(lane: int = 5, is_open: int = 0) -> GameState:
    st = allocate(1)
    st.mode[0], st.player_y[0], st.lives[0], st.wave[0] = MODE_PLAY, RIM, 3, 1
    st.is_open[0], st.tube[0] = is_open, 7 if is_open else 0
    st.player_pos[0] = lane << 4
    st.score[0] = 5000
    return st


def step(before: GameState, change, params: RewardParams = DEFAULTS) -> tuple[float, float]:
    """remember(before), apply `change` (the step), compute: (reward, points)."""
    memo = new_memo(1)
    remember(before, memo)
    change(before)
    reward, points = np.zeros(1, np.float32), np.zeros(1, np.float32)
    compute_rewards(before, memo, params, reward, points)
    return float(reward[0]), float(points[0])


def add_score(points: int):
    def change(st: GameState) -> None:
        st.score[0] += points
    return change


def nothing(st: GameState) -> None:
    pass


def enemy(st: GameState, slot: int, lane: int, y: int, **fields: int) -> None:
    st.en_type[0, slot], st.en_lane[0, slot], st.en_y[0, slot] = FLIPPER, lane, y
    for name, value in fields.items():
        getattr(st, name)[0, slot] = value


# -- objective -------------------------------------------------------------------------------------

def test_a_flipper_kill_is_worth_1_5():
    assert step(game(), add_score(150), NO_SHAPING) == (pytest.approx(1.5), 150.0)


def test_a_flipper_kill_with_default_shaping_adds_the_static_safe_bonus():
    # all 5 lanes safe, not moving: 2 * 2.5 * 0.5 = +2.5 subjective, * 0.005
    assert step(game(), add_score(150))[0] == pytest.approx(1.5 + 0.0125)


def test_the_death_edge_costs_10_and_nothing_else():
    def die(st: GameState) -> None:
        st.death_cause[0] = DEATH_GRABBED
        st.score[0] += 150  # a kill on the death frame does not count
    assert step(game(), die) == (pytest.approx(-10.0), 150.0)
    assert step(game(), die, RewardParams(death_penalty=3000.0, clip=0.0))[0] == \
        pytest.approx(-30.0)
    assert step(game(), die, RewardParams(death_penalty=3000.0))[0] == pytest.approx(-10.0)


def test_frames_after_the_death_edge_are_not_charged_again():
    st = game()
    st.death_cause[0] = DEATH_GRABBED
    assert step(st, nothing) == (0.0, 0.0)


@pytest.mark.parametrize(("delta", "reward"), [(6000, 0.0), (1000, 0.0), (999, 9.99), (1, 0.01),
                                                (-5000, 0.0)])
def test_score_deltas_outside_0_to_1000_are_filtered(delta, reward):
    assert step(game(), add_score(delta), NO_SHAPING) == (pytest.approx(reward), float(delta))


def zap(pending: int, at_start: int):
    def change(st: GameState) -> None:
        st.zap_uses[0] += 1
        st.pending[0], st.pending_at_start[0] = pending, at_start
    return change


def test_an_early_zap_costs_its_share_of_the_queue():
    assert step(game(), zap(15, 20), NO_SHAPING)[0] == pytest.approx(-7.5)
    assert step(game(), zap(20, 20), NO_SHAPING)[0] == pytest.approx(-10.0)


def test_a_zap_with_an_empty_queue_is_free():
    assert step(game(), zap(0, 20), NO_SHAPING)[0] == 0.0
    assert step(game(), zap(0, 0), NO_SHAPING)[0] == 0.0


def test_no_zap_no_penalty():
    st = game()
    st.zap_uses[0], st.pending[0], st.pending_at_start[0] = 1, 15, 20
    assert step(st, nothing, NO_SHAPING)[0] == 0.0


def test_the_zap_penalty_adds_to_the_points_of_the_frame():
    def zap_and_kill(st: GameState) -> None:
        zap(10, 20)(st)
        st.score[0] += 150
    assert step(game(), zap_and_kill, NO_SHAPING)[0] == pytest.approx(1.5 - 5.0)


# -- lane-safety shaping ---------------------------------------------------------------------------

def move_to(lane: int):
    def change(st: GameState) -> None:
        st.player_pos[0] = lane << 4
    return change


def test_shaping_with_no_threats_static_and_moving():
    assert step(game(lane=5), nothing, SHAPING_ONLY)[0] == pytest.approx(2.5)
    assert step(game(lane=5), move_to(6), SHAPING_ONLY)[0] == pytest.approx(5.0)


def test_a_threat_in_the_own_lane():
    st = game(lane=5)
    enemy(st, 0, 5, 0x4000)
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(-1.0 + 1.5)


@pytest.mark.parametrize(("threat_lane", "static", "moving"), [
    (1, 2.25 - 0.25, 4.0),   # +2 across the wrap (player in 15)
    (14, 2.0 - 0.5, 3.0),    # -1
    (0, 2.0 - 0.5, 3.0),     # +1 across the wrap
    (3, 2.5, 5.0),           # 4 lanes away: not looked at
])
def test_threats_at_offsets_on_a_closed_tube(threat_lane, static, moving):
    st = game(lane=15)
    st.eshot_y[0, 2], st.eshot_lane[0, 2] = 0x6000, threat_lane
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(static)
    st = game(lane=14)  # moves into 15 this frame
    st.eshot_y[0, 2], st.eshot_lane[0, 2] = 0x6000, threat_lane
    assert step(st, move_to(15), SHAPING_ONLY)[0] == pytest.approx(moving)


def test_the_danger_depth_boundary_is_inclusive_on_the_integer_depth():
    st = game(lane=5)
    enemy(st, 0, 5, 0x80FF)  # integer depth 0x80: threatens
    enemy(st, 1, 6, 0x8100)  # 0x81: does not
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(-1.0 + 1.5)
    st.en_y[0, 0] = 0x8100
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(2.5)
    wider = SHAPING_ONLY._replace(danger_depth=0x81)
    assert step(st, nothing, wider)[0] == pytest.approx(2.5 - 2.0 - 1.0)


def test_a_flipping_enemy_threatens_both_lanes_it_straddles():
    st = game(lane=4)
    enemy(st, 0, 5, 0x5000, en_flipping=1, en_flip_steps=8)  # pivot line 5: lanes 4 and 5
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(-1.0 - 0.5 + 0.5 + 0.5)


def test_a_crossing_fuseball_threatens_its_lane_only():
    st = game(lane=4)
    enemy(st, 0, 5, 0x5000, en_flipping=1, en_flip_steps=7)
    st.en_type[0, 0] = FUSEBALL
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(1.0 - 0.5 + 0.5 + 0.5)


@pytest.mark.parametrize(("lane", "threat_lane", "expected"), [
    (0, None, 1.75),       # lanes -1, -2 skipped
    (0, 1, 1.0 - 0.5 + 0.25),
    (14, None, 1.75),      # lanes 15, 16 do not exist
    (14, 13, 1.0 - 0.5 + 0.25),
    (1, None, 2.25),       # only -2 is skipped
])
def test_off_edge_lanes_are_skipped_on_open_tubes(lane, threat_lane, expected):
    st = game(lane=lane, is_open=1)
    if threat_lane is not None:
        enemy(st, 3, threat_lane, 0x2000)
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(expected)


def test_shaping_applies_in_play_and_drop_only_and_while_alive():
    st = game()
    st.mode[0] = MODE_DROP
    assert step(st, nothing, SHAPING_ONLY)[0] == pytest.approx(2.5)
    st.mode[0] = MODE_PAUSE
    assert step(st, nothing, SHAPING_ONLY)[0] == 0.0
    st.mode[0], st.death_cause[0] = MODE_PLAY, DEATH_GRABBED
    assert step(st, nothing, SHAPING_ONLY)[0] == 0.0
    st.death_cause[0] = ALIVE
    assert step(st, nothing, SHAPING_ONLY._replace(subjective_scale=0.0))[0] == 0.0


# -- clip and many games ---------------------------------------------------------------------------

def test_the_final_reward_is_clipped():
    loud = RewardParams(objective_scale=0.0, subjective_scale=10.0, clip=10.0)
    assert step(game(lane=5), move_to(6), loud)[0] == pytest.approx(10.0)  # 50 before the clip
    assert step(game(lane=5), move_to(6), loud._replace(clip=0.0))[0] == pytest.approx(50.0)
    assert step(game(), add_score(999), RewardParams(clip=2.0))[0] == pytest.approx(2.0)


def test_games_are_independent():
    st = allocate(3)
    st.mode[:], st.player_pos[:] = MODE_PLAY, 5 << 4
    memo = new_memo(3)
    remember(st, memo)
    st.score[1] += 150
    st.death_cause[2] = DEATH_GRABBED
    reward, points = np.zeros(3, np.float32), np.zeros(3, np.float32)
    compute_rewards(st, memo, NO_SHAPING, reward, points)
    assert reward.tolist() == pytest.approx([0.0, 1.5, -10.0])
    assert points.tolist() == [0.0, 150.0, 0.0]
