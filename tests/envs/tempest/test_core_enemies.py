"""Enemy behaviour of the rules core: flip timing, the rim (crouch, grab, pincer), the
collision rules of §1.4, tankers, spikers, fuseballs (reference §1.4, §1.7)."""

from __future__ import annotations

import math

import pytest

from envs.tempest.core_cam import CAM_FUSEBALL, CAM_PULSAR, CAM_SPIKER, CAM_TOPPER, LABELS
from envs.tempest.skill import CAM_MOVJMP, CAM_NOJUMP, CARGO_FLIPPERS, SKILL
from envs.tempest.state import (
    DEATH_GRABBED,
    FLIPPER,
    FUSEBALL,
    NO_ENEMY,
    PULSAR,
    SPIKER,
    TANKER,
)
from envs.tempest.tables import FLIP_STEPS
from tests.envs.tempest.test_core import put_enemy, put_rim_chaser, quiet_game, step

MOVJMP_FLIP = LABELS["movjmp_flip"] - 1
"""The START_FLIP of MOVJMP (flip in place, no climbing while flipping)."""


def _frames_to_land(s, slot: int, limit: int = 40) -> int:
    for frame in range(1, limit):
        step(s)
        if s.en_flipping[0, slot] == 0:
            return frame
    raise AssertionError("no landing")


# -- flips in the tube -----------------------------------------------------------------------------

@pytest.mark.parametrize(("wave", "lane", "direction", "steps"), [
    (1, 5, 0, 7),     # circle: 7 everywhere
    (1, 0, 1, 7),
    (2, 0, 1, 8),     # square: 8 on a side (lanes 0-1)
    (2, 2, 0, 4),     # square: 4 at a corner (lanes 1-2)
    (2, 2, 1, 8),
    (13, 0, 1, 12),   # star: 12 and 2 alternating (tube 14)
    (13, 1, 1, 2),
    (12, 3, 0, 16),   # heart (tube 12): the 16-step cusp between lanes 2 and 3
])
def test_a_flip_in_the_tube_takes_flip_steps_frames(wave, lane, direction, steps):
    s = quiet_game(wave, lane=8 if lane > 12 or lane < 4 else 15)
    tube = SKILL.tube[wave]
    pair = lane - 1 if direction == 0 else lane
    assert FLIP_STEPS[tube, pair] == steps
    put_enemy(s, 6, FLIPPER, lane, 0x80, CAM_MOVJMP)
    s.en_cam_pc[0, 6] = MOVJMP_FLIP
    s.en_dir[0, 6] = direction
    step(s)  # START_FLIP, then the frame ends
    assert s.en_flipping[0, 6] == 1 and s.en_flip_steps[0, 6] == steps
    assert s.en_lane[0, 6] == (lane + direction) % 16  # the pivot line
    assert _frames_to_land(s, 6) == steps  # one jump-angle step per frame
    assert s.en_lane[0, 6] == (lane - 1 if direction == 0 else lane + 1) % 16
    assert s.en_y[0, 6] == 0x8000 - SKILL.flipper_speed[wave]  # MOVJMP climbs on landing


@pytest.mark.parametrize(("wave", "lane", "direction"), [(1, 5, 0), (2, 2, 1), (13, 0, 1),
                                                         (33, 4, 1), (44, 3, 0)])
def test_a_rim_flip_takes_ceil_steps_over_top_flip_rate_frames(wave, lane, direction):
    s = quiet_game(wave, lane=10)
    put_rim_chaser(s, 6, FLIPPER, lane, dir=direction)
    step(s, 4)  # 4 crouching frames with a grab check each
    assert s.en_flipping[0, 6] == 0
    step(s)  # START_FLIP
    assert s.en_flipping[0, 6] == 1
    steps = s.en_flip_steps[0, 6]
    rate = SKILL.top_flip_rate[wave]
    assert _frames_to_land(s, 6) == math.ceil(steps / rate)
    assert s.en_y[0, 6] == 0x1000


# -- the rim ---------------------------------------------------------------------------------------

def test_a_crouched_rim_flipper_cannot_be_shot_and_grabs():
    s = quiet_game(1, lane=5)
    put_rim_chaser(s, 6, FLIPPER, 5)
    step(s, fire=1)
    assert s.en_type[0, 6] == FLIPPER and s.score[0] == 0  # the shot passed
    assert s.shot_y[0, 7] == 0x1900  # fired at 0x10, moved +9
    assert s.death_cause[0] == DEATH_GRABBED  # then the crouching flipper grabbed


@pytest.mark.parametrize(("player_lane", "killed"), [(5, True), (6, True), (7, False), (4, False)])
def test_a_flipping_rim_flipper_is_hit_from_both_lanes_it_straddles(player_lane, killed):
    s = quiet_game(1, lane=player_lane)
    # a rim flipper flipping from lane 5 toward lane 6: pivot line 6 (INVAL1), 2 of its 7
    # circle steps done (start angle LINANG[5] + 8 = 2, counting down)
    put_rim_chaser(s, 6, FLIPPER, 6, dir=1, flipping=1, flip_steps=7, flip_step=2,
                   flip_angle=0)
    s.en_cam_pc[0, 6] = LABELS["topper_frame"]
    step(s, fire=1)
    assert (s.en_type[0, 6] == NO_ENEMY) == killed
    assert s.score[0] == (150 if killed else 0)


def test_the_grab_check_runs_on_the_landing_frame():
    s = quiet_game(1, lane=4)
    put_rim_chaser(s, 6, FLIPPER, 5, dir=0)  # will flip from lane 5 into the player's lane 4
    step(s, 5)  # crouch 4 frames, start the flip
    for _ in range(3):  # circle: 7 steps at 2 per frame -> lands on the 4th frame
        step(s)
        assert s.death_cause[0] == 0
    step(s)
    assert s.en_lane[0, 6] == 4 and s.death_cause[0] == DEATH_GRABBED


def test_reaching_the_rim_aims_at_the_player_and_starts_crouching():
    s = quiet_game(1, lane=10)
    put_enemy(s, 6, FLIPPER, 3, 0x11, CAM_NOJUMP)
    step(s)
    assert s.en_y[0, 6] == 0x1000 and s.en_chaser[0, 6] == 1
    assert s.en_cam[0, 6] == CAM_TOPPER
    assert s.en_dir[0, 6] == 1  # player at lane 10: toward higher lanes
    assert s.en_cam_loop[0, 6] == 4  # TOPPER already ran this frame (SET 4, grab check)


def test_pincer_quirk_turns_a_pulsar_reaching_the_rim_into_a_flipper():
    s = quiet_game(17, lane=12)
    s.pending[0] = s.pend_timer[0, 0] = 0  # pulsars stick to the rim only when none pending
    put_rim_chaser(s, 6, FLIPPER, 2, dir=1)
    put_enemy(s, 5, PULSAR, 8, 0x11, CAM_PULSAR, "pulsar_move", cam_loop=10)
    s.pulse_phase[0] = -40
    step(s)
    assert s.en_y[0, 5] == 0x1000 and s.en_chaser[0, 5] == 1
    assert s.en_type[0, 5] == FLIPPER  # type bits cleared by the pincer rule
    assert s.en_dir[0, 5] == 0  # opposite to the other chaser's direction


def test_a_pulsar_bounces_at_the_rim_while_enemies_are_pending():
    s = quiet_game(17, lane=12)
    put_enemy(s, 5, PULSAR, 8, 0x11, CAM_PULSAR, "pulsar_move", cam_loop=10)
    s.pulse_phase[0] = -40
    step(s)
    assert s.en_y[0, 5] == 0x1000 and s.en_away[0, 5] == 1 and s.en_chaser[0, 5] == 0
    step(s)
    assert s.en_y[0, 5] == 0x1000 + 352  # back down at 1.375 per frame


# -- tankers ---------------------------------------------------------------------------------------

def test_a_tanker_splits_on_its_own_near_the_rim_for_no_points():
    s = quiet_game(5, lane=12)
    put_enemy(s, 6, TANKER, 4, 0x20, CAM_NOJUMP, can_fire=1, cargo=CARGO_FLIPPERS)
    step(s)
    assert s.score[0] == 0 and s.kills[0].sum() == 0
    children = sorted((s.en_lane[0, e], s.en_dir[0, e], s.en_cam[0, e])
                      for e in range(7) if s.en_type[0, e] == FLIPPER)
    assert children == [(3, 0, CAM_NOJUMP), (5, 1, CAM_NOJUMP)]  # L-1 CW, L+1 CCW, no flips
    assert s.explosions[0] == 0


def test_a_shot_tanker_splits_into_flippers_with_the_wave_cam():
    s = quiet_game(2, lane=4)
    # at 0x16 the launch test (window 7 at wave 2) hits it before it moves
    put_enemy(s, 6, TANKER, 4, 0x16, CAM_NOJUMP, can_fire=1, cargo=CARGO_FLIPPERS)
    step(s, fire=1)
    assert s.score[0] == 100 and s.kills[0, TANKER] == 1
    flippers = [e for e in range(7) if s.en_type[0, e] == FLIPPER]
    assert len(flippers) == 2
    # born at 0x16 < 0x20: no-flip attributes (NOJUMP) even on a MOVJMP wave
    assert all(s.en_cam[0, e] == CAM_NOJUMP for e in flippers)


def test_split_children_above_0x20_get_the_wave_cam():
    s = quiet_game(2, lane=4)
    put_enemy(s, 6, TANKER, 4, 0x60, CAM_NOJUMP, can_fire=1, cargo=CARGO_FLIPPERS)
    s.shot_y[0, 0] = 0x5A00  # moves to 0x63; the tanker climbs to 0x5E: 5 < window 7
    s.shot_lane[0, 0] = 4
    step(s)
    assert s.kills[0, TANKER] == 1
    flippers = [e for e in range(7) if s.en_type[0, e] == FLIPPER]
    assert sorted(s.en_lane[0, flippers]) == [3, 5]
    assert all(s.en_cam[0, e] == CAM_MOVJMP for e in flippers)


# -- spikers ---------------------------------------------------------------------------------------

def test_a_spiker_grows_its_spike_and_turns_at_0x20():
    s = quiet_game(5, lane=12)
    put_enemy(s, 6, SPIKER, 3, 0x80, CAM_SPIKER, can_fire=1)
    step(s)
    assert s.spike[0, 3] == 0x80 - 2  # 2.0 per frame; the empty lane started at 0xF1
    s.en_y[0, 6] = 0x2100
    step(s)
    assert s.en_y[0, 6] == 0x2000 and s.en_away[0, 6] == 1 and s.spike[0, 3] == 0x1F
    step(s)
    assert s.en_y[0, 6] == 0x2200  # going back down


def test_a_spiker_at_the_bottom_hops_to_the_shortest_spike_and_becomes_a_tanker():
    s = quiet_game(5, lane=12)
    s.pending[0] = s.pend_timer[0, 0] = 0
    s.spike[0, :] = 0x40
    s.spike[0, 9] = 0x90  # the shortest spike (largest LINEY)
    put_enemy(s, 6, SPIKER, 3, 0xEF, CAM_SPIKER, can_fire=1, away=1)
    step(s)
    assert s.en_lane[0, 6] == 9
    assert s.en_type[0, 6] == TANKER and s.en_cargo[0, 6] == CARGO_FLIPPERS
    assert s.en_away[0, 6] == 0
    assert s.en_y[0, 6] == 0xF000 - SKILL.flipper_speed[5]  # climbs at once as a tanker


# -- fuseballs -------------------------------------------------------------------------------------

def test_a_fuseball_is_hit_only_while_crossing():
    s = quiet_game(11, lane=6)
    put_enemy(s, 6, FUSEBALL, 6, 0x14, CAM_FUSEBALL, "fuse_touch", cam_loop=3)
    step(s, fire=1)
    assert s.en_type[0, 6] == FUSEBALL  # riding a line: invulnerable
    s = quiet_game(11, lane=6)
    put_enemy(s, 6, FUSEBALL, 6, 0x14, CAM_FUSEBALL, "fuse_touch", cam_loop=3, flipping=1,
              flip_angle=3, flip_steps=7)
    step(s, fire=1)
    assert s.en_type[0, 6] == NO_ENEMY and s.score[0] in (250, 500, 750)
    assert s.explosions[0] == 1 and s.expl_timer[0].max() == 10  # 11 frames, one gone


def test_a_fuseball_crossing_steps_once_every_4_frames():
    """The crossing loop counts 3 frames then steps, and the frame after a step restarts the
    count without stepping: 4 frames per step, 28 per crossing (the reference's "3 frames per
    step, ~21 frames" misses that frame)."""
    s = quiet_game(11, lane=12)
    put_enemy(s, 6, FUSEBALL, 4, 0x60, CAM_FUSEBALL, "fuse_cross", flipping=1, dir=0,
              flip_angle=1, flip_steps=7)
    angles = []
    for _ in range(28):
        step(s)
        angles.append(int(s.en_flip_angle[0, 6]))
    assert angles[:8] == [1, 1, 1, 2, 2, 2, 2, 3]
    assert s.en_flipping[0, 6] == 0 and s.en_lane[0, 6] == 5  # 7 steps: frames 3, 7, ..., 27
