"""Level flow of the rules core: the drop, the superzapper, the five deaths, scoring and bonus
lives, the end of a life (reference §1.5, §1.9, §1.10, §1.11)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.tempest import core
from envs.tempest.core_cam import CAM_FUSEBALL, CAM_PULSAR, CAM_SPIKER
from envs.tempest.skill import CAM_NOJUMP, CARGO_FLIPPERS, SKILL
from envs.tempest.state import (
    ALIVE,
    DEATH_FUSEBALL,
    DEATH_GRABBED,
    DEATH_PULSE,
    DEATH_SHOT,
    DEATH_SPIKE,
    FLIPPER,
    FUSEBALL,
    MODE_DROP,
    MODE_GAME_OVER,
    MODE_PLAY,
    NO_ENEMY,
    PULSAR,
    RIM,
    SPIKER,
    TANKER,
)
from tests.envs.tempest.test_core import put_enemy, put_rim_chaser, quiet_game, step


def _empty_wave(wave: int, lane: int = 15):
    s = quiet_game(wave, lane=lane)
    s.pending[0] = s.pend_timer[0, 0] = 0
    return s


# -- the drop --------------------------------------------------------------------------------------

@pytest.mark.parametrize(("wave", "frames"), [(1, 47), (5, 40), (13, 33), (20, 33)])
def test_drop_length(wave, frames):
    """v0 = 2.0, a = (0x20 + min(4 (wave-1), 0x30)) / 256: wave 1 needs 47 frames to pass 0xF0
    (0x10 + 2n + n(n-1)/16 >= 0xF0), wave 5 40, wave 13 on 33."""
    s = _empty_wave(wave)
    step(s)  # nothing pending, no enemy: the wave ends this frame
    assert s.mode[0] == MODE_DROP and s.drop_speed[0] == 0x200
    count = 0
    while s.mode[0] == MODE_DROP:
        step(s, spin=3)  # steering is allowed in the drop
        count += 1
        assert count < 100
    assert count == frames
    assert s.wave[0] == wave + 1 and s.mode[0] == MODE_PLAY and s.player_y[0] == RIM
    assert s.pending[0] == SKILL.enemies[wave + 1]
    assert (s.spike[0] == SKILL.spike_start[wave + 1]).all()
    assert s.player_pos[0] == 15 * 16 + 8 - 3 * frames  # the position is kept into the new wave


def test_the_wave_ends_only_when_every_enemy_is_on_the_rim_and_explosions_are_over():
    s = _empty_wave(1, lane=10)
    put_rim_chaser(s, 6, FLIPPER, 2)  # rim enemies are left behind
    put_enemy(s, 5, FLIPPER, 5, 0x12, CAM_NOJUMP)
    step(s)  # the climber reaches the rim this frame: the wave ends
    assert s.mode[0] == MODE_DROP
    s = _empty_wave(1, lane=5)
    put_enemy(s, 6, FLIPPER, 5, 0x15, CAM_NOJUMP)
    step(s, fire=1)  # shot at launch: a 6-frame explosion delays the end
    assert s.explosions[0] == 1
    step(s, 4)
    assert s.mode[0] == MODE_PLAY
    step(s)
    assert s.mode[0] == MODE_DROP and s.explosions[0] == 0


def test_fire_in_the_drop_erodes_spikes_and_a_spike_kills():
    s = _empty_wave(4, lane=3)
    s.spike[0, 3] = 0x60
    step(s)
    assert s.mode[0] == MODE_DROP
    step(s, fire=1)
    assert s.shot_y[0].max() > 0
    s = _empty_wave(4, lane=3)
    s.spike[0, 3] = 0x30
    step(s)
    for _ in range(20):
        step(s)
        if s.death_cause[0] != ALIVE:
            break
    assert s.death_cause[0] == DEATH_SPIKE
    assert 0x30 < s.player_y[0] >> 8 < 0x40


# -- the superzapper -------------------------------------------------------------------------------

def _seven_flippers(s) -> None:
    for slot in range(7):
        put_enemy(s, slot, FLIPPER, slot, 0xC0, CAM_NOJUMP)


def test_first_zap_kills_one_enemy_every_2_frames_highest_slot_first():
    s = quiet_game(1, lane=12)
    s.pend_timer[0, 0] = 3  # due in 3 frames, but spawning freezes during the zap
    _seven_flippers(s)
    step(s, zap=1)  # the press: timer 1
    assert s.zap_timer[0] == 1 and s.zap_uses[0] == 1
    kills, countdowns = [], set()
    for _ in range(16):
        live = s.en_type[0] != NO_ENEMY
        step(s)
        countdowns.add(int(s.pend_timer[0, 0]))
        gone = np.flatnonzero(live & (s.en_type[0] == NO_ENEMY))
        if len(gone):
            kills.append((int(s.zap_timer[0]), int(gone[0])))
    assert kills == [(4, 6), (6, 5), (8, 4), (10, 3), (12, 2), (14, 1), (16, 0)]
    assert s.score[0] == 7 * 150 and s.kills[0, FLIPPER] == 7
    assert countdowns == {3}  # frozen from the press frame on (the zap runs before MOVNYM)
    step(s)  # timer 18 finds the tube empty: the zap ends, the countdown resumes
    assert s.zap_timer[0] == 0 and s.pend_timer[0, 0] == 2


def test_first_zap_stops_at_timer_19_and_ends_early_on_an_empty_tube():
    s = quiet_game(1, lane=12)
    put_enemy(s, 6, FLIPPER, 3, 0xC0, CAM_NOJUMP)
    step(s, zap=1)
    timers = []
    for _ in range(5):
        step(s)
        timers.append(int(s.zap_timer[0]))
    assert timers == [2, 3, 4, 5, 0]  # the kill at 4, nothing left at 6 -> stop


def test_second_zap_kills_exactly_one_and_a_third_does_nothing():
    s = quiet_game(1, lane=12)
    s.zap_uses[0] = 1
    _seven_flippers(s)
    step(s, zap=1)
    step(s, 5)
    assert s.zap_timer[0] == 0 and (s.en_type[0] != NO_ENEMY).sum() == 6
    step(s)  # release
    step(s, zap=1)
    step(s, 6)
    assert s.zap_uses[0] == 2 and s.zap_timer[0] == 0 and (s.en_type[0] != NO_ENEMY).sum() == 6


def test_zap_is_edge_triggered():
    s = quiet_game(1, lane=12)
    _seven_flippers(s)
    step(s, 25, zap=1)  # held: one zap only
    assert s.zap_uses[0] == 1


def test_a_zapped_tanker_does_not_split_and_a_zapped_fuseball_scores_150():
    s = quiet_game(5, lane=12)
    put_enemy(s, 6, TANKER, 4, 0xC0, CAM_NOJUMP, can_fire=1, cargo=CARGO_FLIPPERS)
    put_enemy(s, 5, FUSEBALL, 8, 0xC0, CAM_FUSEBALL, "fuse_touch", cam_loop=3)
    step(s, zap=1)
    step(s, 5)
    assert (s.en_type[0] != NO_ENEMY).sum() == 0
    assert s.score[0] == 100 + 150 and s.kills[0, TANKER] == 1 and s.kills[0, FUSEBALL] == 1


# -- deaths ----------------------------------------------------------------------------------------

def test_death_grabbed():
    s = quiet_game(1, lane=6)
    put_rim_chaser(s, 6, FLIPPER, 6)
    step(s)
    assert s.death_cause[0] == DEATH_GRABBED


def test_death_pulse_anywhere_nearer_than_pulpot():
    s = quiet_game(17, lane=6)
    put_enemy(s, 6, PULSAR, 6, 0x90, CAM_PULSAR, "pulsar_move", cam_loop=10)
    s.pulse_phase[0] = 3
    step(s)
    assert s.death_cause[0] == DEATH_PULSE
    s = quiet_game(17, lane=6)
    put_enemy(s, 6, PULSAR, 6, 0xB0, CAM_PULSAR, "pulsar_move", cam_loop=10)  # beyond 0xA0
    s.pulse_phase[0] = 3
    step(s)
    assert s.death_cause[0] == ALIVE


def test_death_fuseball_on_the_rim():
    s = quiet_game(11, lane=6)
    put_enemy(s, 6, FUSEBALL, 6, 0x10, CAM_FUSEBALL, "fuse_touch", cam_loop=3)
    step(s)
    assert s.death_cause[0] == DEATH_FUSEBALL


def test_death_enemy_shot_reaching_the_rim():
    s = quiet_game(1, lane=6)
    s.eshot_y[0, 0] = 0x1200
    s.eshot_lane[0, 0] = 6
    step(s)
    assert s.death_cause[0] == DEATH_SHOT and s.eshot_y[0, 0] == 0


def test_death_spike_in_the_drop():
    s = _empty_wave(5, lane=6)
    s.spike[0, :] = 0
    s.spike[0, 6] = 0x80
    step(s)
    while s.death_cause[0] == ALIVE and s.mode[0] == MODE_DROP:
        step(s)
    assert s.death_cause[0] == DEATH_SPIKE and s.wave[0] == 5


def test_a_dead_game_waits_for_finish_life():
    s = quiet_game(1, lane=6)
    put_rim_chaser(s, 6, FLIPPER, 6)
    step(s)
    frame = s.frame[0]
    step(s, 3)
    assert s.frame[0] == frame


# -- scoring ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("etype", "cam", "points"), [
    (FLIPPER, CAM_NOJUMP, 150), (PULSAR, CAM_PULSAR, 200), (TANKER, CAM_NOJUMP, 100),
    (SPIKER, CAM_SPIKER, 50)])
def test_kill_points_per_type(etype, cam, points):
    s = quiet_game(17, lane=4)
    cargo = CARGO_FLIPPERS if etype == TANKER else 0
    put_enemy(s, 6, etype, 4, 0x14, cam, cargo=cargo)
    step(s, fire=1)
    assert s.score[0] == points and s.kills[0, etype] == 1


def test_shot_fuseball_points_are_250_500_or_750():
    seen = set()
    for seed in range(40):
        s = quiet_game(11, lane=6, seed=seed)
        put_enemy(s, 6, FUSEBALL, 6, 0x14, CAM_FUSEBALL, "fuse_touch", cam_loop=3, flipping=1,
                  flip_angle=3, flip_steps=7)
        step(s, fire=1)
        seen.add(int(s.score[0]))
    assert seen <= {250, 500, 750} and 250 in seen and len(seen) >= 2


def test_spike_contacts_score_one_point_each_and_spend_the_shot():
    s = quiet_game(1, lane=3)
    s.spike[0, 3] = 0x30
    step(s, fire=1)  # 0x10 -> 0x19
    step(s, 2)  # 0x22, 0x2B
    assert s.score[0] == 0
    step(s)  # 0x34 >= 0x30: the tip is pushed to 0x34, +1, the shot slows to +5
    assert s.score[0] == 1 and s.spike[0, 3] == 0x34
    step(s)  # 0x39: second contact, spent
    assert s.score[0] == 2 and s.spike[0, 3] == 0x39 and s.shot_y[0].max() == 0


def test_enemy_shots_can_be_shot_down_for_no_points():
    s = quiet_game(1, lane=6)
    s.eshot_y[0, 1] = 0x2000
    s.eshot_lane[0, 1] = 6
    s.shot_y[0, 0] = 0x1000
    s.shot_lane[0, 0] = 6
    step(s)  # shot 0x19, enemy shot 0x20 - 3.375 = 0x1C: d = 3 < CHACHA 8
    assert s.eshot_y[0, 1] == 0 and s.shot_y[0, 0] == 0 and s.score[0] == 0


def test_bonus_life_every_20000_up_to_6_lives():
    s = quiet_game(1, lane=4)
    s.score[0] = 19_900
    put_enemy(s, 6, FLIPPER, 4, 0x14, CAM_NOJUMP)
    step(s, fire=1)
    assert s.score[0] == 20_050 and s.lives[0] == 4 and s.next_bonus[0] == 40_000
    s = quiet_game(1, lane=4)
    s.score[0], s.next_bonus[0], s.lives[0] = 39_900, 40_000, 6
    put_enemy(s, 6, FLIPPER, 4, 0x14, CAM_NOJUMP)
    step(s, fire=1)
    assert s.lives[0] == 6 and s.next_bonus[0] == 60_000


def _clear_the_wave(s) -> int:
    """Ends the (empty) wave and rides the drop to the next one; the frames it took."""
    step(s)
    assert s.mode[0] == MODE_DROP
    frames = 0
    while s.mode[0] == MODE_DROP:
        step(s)
        frames += 1
        assert frames < 100
    return frames


@pytest.mark.parametrize(("start", "bonus"), [(3, 6_000), (13, 94_000), (81, 898_000)])
def test_the_skill_step_bonus_is_paid_once_when_the_first_wave_is_cleared(start, bonus):
    """BONPTM by choice: wave 3 is choice 1 (6,000), wave 13 choice 6 (94,000), wave 81 the
    last (898,000); owed from the start, paid when the claw passes the far end of the first
    drop, never again."""
    s = _empty_wave(start)
    assert s.start_bonus[0] == bonus and s.score[0] == 0
    _clear_the_wave(s)
    assert s.wave[0] == start + 1 and s.score[0] == bonus and s.start_bonus[0] == 0
    s.pending[0], s.pend_timer[0], s.spike[0] = 0, 0, 0  # the next wave emptied too
    _clear_the_wave(s)
    assert s.wave[0] == start + 2 and s.score[0] == bonus


def test_the_bonus_buys_bonus_lives_like_any_points_up_to_6():
    """Through UPSCOR: 6,000 at wave 3 crosses no 20,000 line; 94,000 at wave 13 crosses four
    (3 + 4 lives, capped at 6), and the next bonus life waits at 100,000."""
    s = _empty_wave(3)
    _clear_the_wave(s)
    assert s.lives[0] == 3 and s.next_bonus[0] == 20_000
    s = _empty_wave(13)
    _clear_the_wave(s)
    assert s.lives[0] == 6 and s.next_bonus[0] == 100_000


@pytest.mark.parametrize("start", [1, 2, 4, 99])
def test_no_bonus_from_wave_1_or_a_wave_the_arcade_does_not_offer(start):
    s = _empty_wave(start)
    assert s.start_bonus[0] == 0
    _clear_the_wave(s)
    assert s.score[0] == 0


def test_a_new_game_owes_its_own_bonus_again():
    s = _empty_wave(13)
    _clear_the_wave(s)
    core.new_games(s, np.ones(1, bool), 5)
    assert s.start_bonus[0] == 16_000 and s.score[0] == 0


# -- the end of a life -----------------------------------------------------------------------------

def test_finish_life_requeues_live_enemies_and_keeps_spikes_and_zaps():
    s = quiet_game(5, lane=6)
    s.spike[0, 2] = 0x90
    s.zap_uses[0] = 1
    put_rim_chaser(s, 6, FLIPPER, 6)
    put_enemy(s, 4, TANKER, 1, 0x80, CAM_NOJUMP, cargo=CARGO_FLIPPERS, can_fire=1)
    put_enemy(s, 2, SPIKER, 9, 0x60, CAM_SPIKER, can_fire=1)
    s.shot_y[0, 3] = 0x5000
    step(s)
    assert s.death_cause[0] == DEATH_GRABBED
    core.finish_life(s, np.ones(1, bool))
    assert s.pending[0] == 1 + 3 and (s.pend_timer[0] > 0).sum() == 4
    assert (s.en_type[0] == NO_ENEMY).all() and s.shot_y[0].max() == 0
    assert s.lives[0] == 2 and s.death_cause[0] == ALIVE and s.mode[0] == MODE_PLAY
    assert s.player_pos[0] == 0xF0 and s.spike[0, 2] == 0x90 and s.zap_uses[0] == 1
    assert s.pulse_phase[0] == -1


def test_finish_life_caps_the_queue_at_63_and_ends_the_game():
    s = quiet_game(5, lane=6)
    s.pending[0] = 62
    s.pend_timer[0, :62] = 0x80
    s.lives[0] = 1
    put_rim_chaser(s, 6, FLIPPER, 6)
    put_enemy(s, 4, FLIPPER, 1, 0x80, CAM_NOJUMP)
    step(s)
    core.finish_life(s, np.ones(1, bool))
    assert s.pending[0] == 63 and s.lives[0] == 0 and s.mode[0] == MODE_GAME_OVER


def test_finish_life_ignores_living_games():
    s = quiet_game(1)
    core.finish_life(s, np.ones(1, bool))
    assert s.lives[0] == 3


def test_a_death_in_the_drop_restarts_the_same_wave():
    s = _empty_wave(5, lane=6)
    s.spike[0, :] = 0
    s.spike[0, 6] = 0x80
    step(s)
    while s.death_cause[0] == ALIVE:
        step(s)
    core.finish_life(s, np.ones(1, bool))
    assert s.mode[0] == MODE_PLAY and s.wave[0] == 5 and s.player_y[0] == RIM
    step(s)  # nothing pending or alive: the wave ends again at once
    assert s.mode[0] == MODE_DROP
