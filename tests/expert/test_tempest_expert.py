"""The scripted Tempest expert on hand-built game states, rule by rule (reference
tempest-mechanics.md §3.1-3.2); the attract-mode AI's tests are in test_attract_expert.py."""

from __future__ import annotations

import numpy as np
import pytest

from envs.tempest import state as S
from envs.tempest.actions import ACTION_SETS, SPINNER_LEVELS
from expert.tempest import (
    TempestExpert,
    action_lookup,
    tempest_decisions,
)
from expert.tempest_rules import SUPERZAP_COOLDOWN, seed_streams, spinner_for
from tests.expert.games import JOINT, P, decide, enemy, game, shot, target


# --- step 1: the zoom ----------------------------------------------------------------------------
def test_zoom_picks_the_nearest_lane_without_a_spike_ties_to_the_lower_lane():
    st = game(mode=S.MODE_DROP)
    st.spike[0, :] = 0x80
    st.spike[0, [3, 7]] = 0  # both 2 lanes away
    assert target(st) == 3
    st.spike[0, 3] = 0x80
    st.spike[0, 9] = 0  # lane 7 (2 away) beats lane 9 (4 away)
    assert target(st) == 7


def test_zoom_stays_in_a_clear_lane_and_measures_distance_around_a_closed_tube():
    st = game(mode=S.MODE_DROP)
    st.spike[0, :] = 0x80
    st.spike[0, [2, P]] = 0
    assert target(st) == P
    st = game(lane=0, mode=S.MODE_DROP)
    st.spike[0, :] = 0x80
    st.spike[0, [3, 15]] = 0  # lane 15 is one lane from lane 0
    assert target(st) == 15


def test_zoom_without_a_clear_lane_takes_the_lowest_spike_nearest_first():
    st = game(mode=S.MODE_DROP)
    st.spike[0, :] = 0x80
    st.spike[0, [1, 9]] = 0xE0  # shortest spikes (height 0x1F), 4 lanes away each
    assert target(st) == 1
    st.spike[0, 2] = 0xE0  # 3 away: nearer
    assert target(st) == 2
    st.spike[0, 12] = 0xF0  # shorter still, wherever it is
    assert target(st) == 12


def test_zoom_on_an_open_tube_never_picks_lane_15():
    st = game(lane=14, mode=S.MODE_DROP, is_open=1)
    st.spike[0, :] = 0x80
    st.spike[0, 15] = 0  # does not exist on an open tube
    st.spike[0, 0] = 0xC0
    assert target(st) == 0


def test_zoom_steers_and_fires_but_never_zaps():
    st = game(mode=S.MODE_DROP, pending=0)
    enemy(st, 0, S.FLIPPER, 0x10, 12)  # a rim enemy left behind, nothing pending
    st.spike[0, :] = 0x80
    st.spike[0, P + 2] = 0
    out = decide(st, fire_prob=1.0)
    assert (out.target[0], out.spinner[0], out.fire[0], out.zap[0]) == (P + 2, -12, 1, 0)


# --- step 2: rim and near-rim threats ------------------------------------------------------------
@pytest.mark.parametrize(("lane", "expected"), [(P, P - 1), (P + 1, P - 1), (P - 1, P + 1)])
def test_a_near_flipper_in_or_beside_the_lane_is_fled(lane, expected):
    st = game()
    enemy(st, 0, S.FLIPPER, 0x40, lane)
    out = decide(st)
    assert out.target[0] == expected and out.zap[0] == 0


def test_threat_depth_window_is_0_to_0x60():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x61, P)  # too deep: hunted instead, so the target is its lane
    assert target(st) == P
    enemy(st, 0, S.FLIPPER, 0x60, P)
    assert target(st) == P - 1


def test_a_flipper_two_lanes_away_is_hunted_not_fled():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x40, P + 2)
    assert target(st) == P + 2


def test_a_pulsar_is_ignored_while_enemies_are_pending_and_fled_once_none_are():
    st = game(pending=3)
    enemy(st, 0, S.PULSAR, 0x30, P)
    out = decide(st)
    assert (out.target[0], out.zap[0]) == (P, 0)  # ignored, and pulsars are never hunted
    st.pending[0] = 0
    out = decide(st)
    assert (out.target[0], out.zap[0]) == (P - 1, 0)  # fled; the flee returns before the zap


def test_an_enemy_shot_coming_down_the_lane_is_fled_by_its_true_depth():
    st = game()
    shot(st, 0, 0x50 << 8, P)
    assert target(st) == P - 1
    shot(st, 0, (0x60 << 8) + 0x80, P)  # 0x60.5: just outside the window (Lua fix 3)
    assert target(st) == P
    shot(st, 0, 0x60 << 8, P + 1)
    assert target(st) == P - 1


def test_other_enemy_types_are_no_rim_threat():
    st = game()
    enemy(st, 0, S.TANKER, 0x40, P + 1)
    assert target(st) == P + 1  # hunted, not fled


def test_flee_at_an_open_tube_edge_goes_the_other_way():
    st = game(lane=0, is_open=1)
    enemy(st, 0, S.FLIPPER, 0x40, 0)  # P-1 would be lane -1
    assert target(st) == 1
    st = game(lane=14, is_open=1)
    enemy(st, 0, S.FLIPPER, 0x40, 13)  # P+1 would be lane 15, which an open tube lacks
    assert target(st) == 13
    st = game(lane=0)  # a closed tube wraps instead
    enemy(st, 0, S.FLIPPER, 0x40, 0)
    assert target(st) == 15


def test_rim_flippers_count_by_their_fractional_position_mid_flip():
    st = game()
    # flipping toward lower lanes from lane P+2 (pivot line P+2): at 3/4 it is 1.25 lanes away
    enemy(st, 0, S.FLIPPER, 0x10, P + 2, flipping=1, step=6, steps=8)
    assert target(st) == P + 2  # not fled (hunted)
    enemy(st, 0, S.FLIPPER, 0x10, P + 2, flipping=1, step=8, steps=8)  # 1.0 away
    assert target(st) == P - 1
    # flipping toward higher lanes from lane P-2 (pivot line P-1): at 1/2 it is at -1.5
    enemy(st, 0, S.FLIPPER, 0x10, P - 1, flipping=1, step=4, steps=8, toward_higher=1)
    assert target(st) == P - 1  # hunted: its pivot line
    enemy(st, 0, S.FLIPPER, 0x10, P - 1, flipping=1, step=7, steps=8, toward_higher=1)
    assert target(st) == P - 1  # -1.125: still hunted
    enemy(st, 0, S.FLIPPER, 0x10, P - 1, flipping=1, step=8, steps=8, toward_higher=1)
    assert target(st) == P + 1  # -1.0: fled


def test_rim_fraction_across_the_wrap_and_only_at_the_rim():
    st = game(lane=0)
    # from lane 15 toward higher lanes: pivot line 0; a quarter through it is at -0.75
    enemy(st, 0, S.FLIPPER, 0x10, 0, flipping=1, step=2, steps=8, toward_higher=1)
    assert target(st) == 1
    st = game()
    # the same geometry below the rim uses the integer pivot line: rel +2 -> not a threat
    enemy(st, 0, S.FLIPPER, 0x11, P + 2, flipping=1, step=8, steps=8)
    assert target(st) == P + 2


def test_the_nearest_threat_wins_and_the_first_slot_breaks_ties():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x40, P + 1)
    shot(st, 3, 0x30 << 8, P)  # rel 0 beats rel +1; rel >= 0 -> P-1
    assert target(st) == P - 1
    st = game()
    enemy(st, 0, S.FLIPPER, 0x40, P - 1)
    enemy(st, 1, S.FLIPPER, 0x40, P + 1)
    assert target(st) == P + 1  # slot 0 (rel -1) was seen first


# --- step 3: not in play -------------------------------------------------------------------------
def test_outside_play_it_stays_put_but_still_flees():
    st = game(mode=S.MODE_PAUSE, pending=0)
    enemy(st, 0, S.FLIPPER, 0x80, P + 3)
    out = decide(st)
    assert (out.target[0], out.spinner[0], out.zap[0]) == (P, 0, 0)
    enemy(st, 1, S.FLIPPER, 0x40, P)
    assert target(st) == P - 1


# --- step 4: fuseball evasion --------------------------------------------------------------------
@pytest.mark.parametrize(("lane", "expected"), [(P, P + 1), (P - 1, P + 1), (P + 1, P - 1)])
def test_a_rising_fuseball_within_one_lane_is_evaded(lane, expected):
    st = game()
    enemy(st, 0, S.FUSEBALL, 0x40, lane)
    assert target(st) == expected


def test_fuseballs_moving_away_or_too_deep_are_hunted_instead():
    st = game()
    enemy(st, 0, S.FUSEBALL, 0x40, P + 1, away=1)
    assert target(st) == P + 1
    enemy(st, 0, S.FUSEBALL, 0x51, P + 1)
    assert target(st) == P + 1
    enemy(st, 0, S.FUSEBALL, 0x50, P + 1)
    assert target(st) == P - 1


def test_fuseball_evasion_at_an_open_edge_goes_the_other_way():
    st = game(lane=14, is_open=1)
    enemy(st, 0, S.FUSEBALL, 0x30, 14)
    assert target(st) == 13


# --- step 5: hunting -----------------------------------------------------------------------------
def test_hunt_order_is_fuseball_flipper_tanker_spiker():
    st = game()
    enemy(st, 0, S.SPIKER, 0x80, P + 1)
    assert target(st) == P + 1
    enemy(st, 1, S.TANKER, 0x80, P + 3)
    assert target(st) == P + 3
    enemy(st, 2, S.FLIPPER, 0x80, P - 4)
    assert target(st) == P - 4
    enemy(st, 3, S.FUSEBALL, 0xA0, P + 6)
    assert target(st) == P + 6


def test_hunt_takes_the_nearest_then_the_shallower():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x70, P + 3)
    enemy(st, 1, S.FLIPPER, 0x90, P - 2)
    assert target(st) == P - 2  # nearer
    enemy(st, 2, S.FLIPPER, 0x80, P + 2)
    assert target(st) == P + 2  # as near, shallower


def test_pulsars_are_never_hunted():
    st = game()
    enemy(st, 0, S.PULSAR, 0x80, P + 3)
    assert target(st) == P
    enemy(st, 1, S.SPIKER, 0xC0, P - 4)
    assert target(st) == P - 4


# --- step 6: the superzap ------------------------------------------------------------------------
def _rim_crowd(count: int, **game_kw) -> S.GameState:
    st = game(**game_kw)
    for slot in range(count):
        enemy(st, slot, S.FLIPPER, 0x10, P + 4 + slot)  # on the rim, out of flee range
    return st


def test_first_zap_needs_three_on_the_rim():
    assert decide(_rim_crowd(2)).zap[0] == 0
    assert decide(_rim_crowd(3)).zap[0] == 1


def test_second_zap_needs_one_on_the_rim_and_there_is_no_third():
    assert decide(_rim_crowd(1, zap_uses=1)).zap[0] == 1
    assert decide(_rim_crowd(0, zap_uses=1)).zap[0] == 0
    assert decide(_rim_crowd(5, zap_uses=2, pending=0)).zap[0] == 0


def test_end_of_wave_cleanup_zaps_only_with_enemies_left():
    st = game(pending=0)
    assert decide(st).zap[0] == 0
    enemy(st, 0, S.SPIKER, 0x90, P + 3)
    assert decide(st).zap[0] == 1


def test_zap_cooldown_is_60_reaches_of_step_6():
    st = _rim_crowd(3)
    cooldown = np.zeros(1, np.int32)
    streams = seed_streams(0, 1)
    zaps = [tempest_decisions(st, cooldown, streams).zap[0] for _ in range(121)]
    assert np.flatnonzero(zaps).tolist() == [0, 60, 120]
    assert SUPERZAP_COOLDOWN == 60


def test_zap_cooldown_only_counts_down_when_step_6_is_reached():
    cooldown = np.array([SUPERZAP_COOLDOWN], np.int32)
    fled = _rim_crowd(3)
    enemy(fled, 6, S.FLIPPER, 0x40, P)  # flee: returns before step 6
    paused = _rim_crowd(3, mode=S.MODE_PAUSE)
    evading = _rim_crowd(3)
    enemy(evading, 6, S.FUSEBALL, 0x40, P)
    for st in (fled, paused, evading):
        decide(st, cooldown=cooldown)
        assert cooldown[0] == SUPERZAP_COOLDOWN
    decide(_rim_crowd(3), cooldown=cooldown)
    assert cooldown[0] == SUPERZAP_COOLDOWN - 1


def test_reset_forgets_the_cooldown_of_new_episodes_only():
    expert = TempestExpert(2, JOINT)
    st = _rim_crowd(3, n=2)
    for g in (0, 1):
        for slot in range(3):
            enemy(st, slot, S.FLIPPER, 0x10, P + 4 + slot, g=g)
    expert.act(None, {"state": st})
    assert expert.zap_cooldown.tolist() == [60, 60]
    expert.reset(np.array([False, True]))
    assert expert.zap_cooldown.tolist() == [60, 0]


# --- output conversion ---------------------------------------------------------------------------
def test_target_two_lanes_up_is_spinner_minus_12_and_its_joint_action():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x80, P + 2)
    out = decide(st, fire_prob=1.0)
    assert (out.target[0], out.spinner[0], out.fire[0], out.zap[0]) == (P + 2, -12, 1, 0)
    expert = TempestExpert(1, JOINT, fire_prob=1.0)
    assert expert.act(None, {"state": st}).tolist() == [2 * 11 + 10]  # FIRE, SPIN-12
    expert = TempestExpert(1, JOINT, fire_prob=0.0)
    assert expert.act(None, {"state": st}).tolist() == [10]  # NOOP, SPIN-12


def test_lower_targets_spin_plus_12_and_aligned_stays():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x80, P - 3)
    assert TempestExpert(1, JOINT, fire_prob=1.0).act(None, {"state": st}).tolist() == [23]
    enemy(st, 0, S.FLIPPER, 0x80, P)
    assert TempestExpert(1, JOINT, fire_prob=1.0).act(None, {"state": st}).tolist() == [22]


def test_zap_and_fire_map_to_the_fire_zap_actions():
    st = _rim_crowd(3)
    enemy(st, 0, S.FLIPPER, 0x80, P + 2)  # hunted, deep: the other two stay on the rim
    enemy(st, 6, S.FLIPPER, 0x10, P + 8)
    assert TempestExpert(1, JOINT, fire_prob=1.0).act(None, {"state": st}).tolist() == [43]


def test_every_distance_quantises_to_12():
    for rel in range(1, 16):
        assert spinner_for(rel, SPINNER_LEVELS) == -12
        assert spinner_for(-rel, SPINNER_LEVELS) == 12
    assert spinner_for(0, SPINNER_LEVELS) == 0


def test_the_opposite_lane_tie_is_broken_by_the_expert_s_own_rng():
    st = game(lane=0, n=400)
    st.en_type[:, 0], st.en_y[:, 0], st.en_lane[:, 0] = S.FLIPPER, 0x80 << 8, 8
    out = decide(st, seed=3)
    assert set(out.spinner.tolist()) == {-12, 12} and (out.target == 8).all()
    assert 0.4 < (out.spinner == 12).mean() < 0.6
    assert np.array_equal(decide(st, seed=3).spinner, out.spinner)


def test_open_tubes_use_the_direct_difference():
    st = game(lane=0, is_open=1)
    enemy(st, 0, S.FLIPPER, 0x80, 12)
    assert decide(st).spinner[0] == -12  # up through 12 lanes, no wrap


def test_other_action_sets_take_their_nearest_action():
    compact = ACTION_SETS["compact"]
    lookup = action_lookup(compact)
    assert lookup[1, 0, 10] == 9  # (1, 0, -12)
    assert lookup[0, 0, 1] == 1  # (0, 0, +12)
    assert lookup[1, 1, 10] == lookup[0, 1, 0] == 10  # the one zap action
    assert lookup[1, 0, 9] == 9  # -9 -> nearest -12
    st = game()
    enemy(st, 0, S.FLIPPER, 0x80, P + 2)
    assert TempestExpert(1, compact, fire_prob=1.0).act(None, {"state": st}).tolist() == [9]
    with pytest.raises(ValueError, match="action_table"):
        action_lookup(np.zeros((4, 2), np.int32))
