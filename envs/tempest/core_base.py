"""Shared pieces of the rules core: the constant tables every kernel reads, and small helpers
(the player's lane and liveness, deaths, points and bonus lives, explosions, counts).

The tables travel as one `Rules` argument rather than as numba globals, so a change to
`skill.py`, `tables.py` or the cam programs can never be hidden by numba's on-disk cache.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from envs.tempest import core_cache  # noqa: F401  (registers the cache stamp first)
from envs.tempest.core_cam import CAM_ARG, CAM_ENTRY, CAM_OP
from envs.tempest.skill import SKILL
from envs.tempest.state import ALIVE, ENEMY_SHOTS, ENEMY_SLOTS, EXPLOSION_SLOTS, NO_ENEMY
from envs.tempest.tables import (
    BONUS_LIFE_EVERY,
    FLIP_STEPS,
    FUSE_POINTS,
    KILL_POINTS,
    LINE_ANGLE,
    MAX_LIVES,
)

CHANCE = np.array([0x00, 0xE0, 0xF0, 0xFA, 0xFF], np.int32)
"""An enemy fires when rand8 >= CHANCE[enemy shots up] (FIREIC)."""
KILL_EXPLOSION_FRAMES = 6
"""An enemy or enemy-shot explosion: progress +3 per frame up to 0x10 -> 6 frames (PROEXP)."""
FUSE_EXPLOSION_FRAMES = 11
"""A shot fuseball's bigger explosion: +3 per frame up to 0x20 -> 11 frames."""
FUSE_ZAP_POINTS = 150
MAX_PENDING = 63
ACTIVE_CAP = ENEMY_SLOTS
"""The pending countdowns freeze while this many enemies are active (WINVMX + 1)."""


class Rules(NamedTuple):
    """Everything constant the rules read: the per-wave skill rows (`skill.WaveSkill`, indexed
    by `state.skill_wave`) and the fixed tables."""

    enemies: np.ndarray
    spike_start: np.ndarray
    flipper_speed: np.ndarray
    spiker_speed: np.ndarray
    fuse_speed: np.ndarray
    eshot_speed: np.ndarray
    max_eshots: np.ndarray
    fire_holdoff: np.ndarray
    type_min: np.ndarray
    type_max: np.ndarray
    flipper_cam: np.ndarray
    top_flip_rate: np.ndarray
    pulsar_chase_delay: np.ndarray
    pulsar_potent: np.ndarray
    pulse_step: np.ndarray
    fuse_chase: np.ndarray
    fuse_freq: np.ndarray
    pulsars_fire: np.ndarray
    tanker_cargo: np.ndarray
    drop_accel: np.ndarray
    tube: np.ndarray
    is_open: np.ndarray
    line_angle: np.ndarray
    flip_steps: np.ndarray
    kill_points: np.ndarray
    fuse_points: np.ndarray
    chance: np.ndarray
    cam_op: np.ndarray
    cam_arg: np.ndarray
    cam_entry: np.ndarray


RULES = Rules(*SKILL, line_angle=LINE_ANGLE, flip_steps=FLIP_STEPS, kill_points=KILL_POINTS,
              fuse_points=FUSE_POINTS, chance=CHANCE, cam_op=CAM_OP, cam_arg=CAM_ARG,
              cam_entry=CAM_ENTRY)
assert Rules._fields[:len(SKILL._fields)] == SKILL._fields


# -- the player ------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def player_lane(s, g: int) -> int:
    """CURSL1: the player's lane."""
    return s.player_pos[g] >> 4


@numba.njit(cache=True, _nrt=False)
def player_depth(s, g: int) -> int:
    """CURSY: the player's integer depth (0x10 while playing, deeper in the drop)."""
    return s.player_y[g] >> 8


@numba.njit(cache=True, _nrt=False)
def is_alive(s, g: int) -> bool:
    return s.death_cause[g] == ALIVE


@numba.njit(cache=True, _nrt=False)
def kill_player(s, g: int, cause: int) -> None:
    """Records a death; the first cause of a frame is the one kept."""
    if s.death_cause[g] == ALIVE:
        s.death_cause[g] = cause


@numba.njit(cache=True, _nrt=False)
def add_points(s, g: int, points: int) -> None:
    """UPSCOR: adds points; every BONUS_LIFE_EVERY points gives a life, up to MAX_LIVES."""
    s.score[g] += points
    while s.score[g] >= s.next_bonus[g]:
        s.next_bonus[g] += BONUS_LIFE_EVERY
        if s.lives[g] < MAX_LIVES:
            s.lives[g] += 1


# -- explosions ------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def start_explosion(s, g: int, frames: int) -> None:
    """Takes a free explosion slot (the highest); with all 8 busy, the one nearest its end is
    restarted (the arcade reuses the most advanced one)."""
    best = -1
    for i in range(EXPLOSION_SLOTS - 1, -1, -1):
        if s.expl_timer[g, i] == 0:
            best = i
            break
        if best < 0 or s.expl_timer[g, i] < s.expl_timer[g, best]:
            best = i
    if s.expl_timer[g, best] == 0:
        s.explosions[g] += 1
    s.expl_timer[g, best] = frames


@numba.njit(cache=True, _nrt=False)
def tick_explosions(s, g: int) -> None:
    """PROEXP: every running explosion advances one frame."""
    if s.explosions[g] == 0:
        return
    busy = 0
    for i in range(EXPLOSION_SLOTS):
        if s.expl_timer[g, i] > 0:
            s.expl_timer[g, i] -= 1
            if s.expl_timer[g, i] > 0:
                busy += 1
    s.explosions[g] = busy


# -- counts ----------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def live_enemies(s, g: int) -> int:
    """INMCOU + INCCOU: active enemies."""
    n = 0
    for e in range(ENEMY_SLOTS):
        if s.en_type[g, e] != NO_ENEMY:
            n += 1
    return n


@numba.njit(cache=True, _nrt=False)
def rim_chasers(s, g: int) -> int:
    """INCCOU: enemies that stuck to the rim and chase the player there."""
    n = 0
    for e in range(ENEMY_SLOTS):
        if s.en_type[g, e] != NO_ENEMY and s.en_chaser[g, e] != 0:
            n += 1
    return n


@numba.njit(cache=True, _nrt=False)
def live_enemy_shots(s, g: int) -> int:
    n = 0
    for q in range(ENEMY_SHOTS):
        if s.eshot_y[g, q] != 0:
            n += 1
    return n


@numba.njit(cache=True, _nrt=False)
def hit_window(speed: int) -> int:
    """ENSIZE from a climb speed (TIMES8): ((~speed_hi) + 13) >> 1 with speed_hi the high byte of
    the negative 8.8 speed, i.e. (ceil(speed / 256) + 12) >> 1 for the positive speed."""
    return (((speed + 255) >> 8) + 12) >> 1
