"""Enemy slots: a new enemy's attributes, placing it in a slot, removing it (a tanker splits
into its cargo) and killing it (explosion, points, statistics).

Arcade routines: `ACTINV` (highest free slot first, open-tube lane-15 redirect), `TNEWI2` /
`TNEWCAM` (initial attributes), `KILINV` (removal and tanker split), `INCISQ` / `INCFS2`
(kill points).  Reference §1.6, §1.7 (tanker), §1.11.
"""

from __future__ import annotations

import numba

from envs.tempest import (
    core_cache,  # noqa: F401  (registers the cache stamp first)
    rng,
)
from envs.tempest.core_base import (
    FUSE_EXPLOSION_FRAMES,
    FUSE_ZAP_POINTS,
    KILL_EXPLOSION_FRAMES,
    add_points,
    start_explosion,
)
from envs.tempest.core_cam import CAM_FUSEBALL, CAM_PULSAR, CAM_SPIKER
from envs.tempest.skill import CAM_NOJUMP, CARGO_FLIPPERS, CARGO_PULSARS
from envs.tempest.state import ENEMY_SLOTS, FLIPPER, FUSEBALL, NO_ENEMY, PULSAR, SPIKER

SPLIT_NO_FLIP_DEPTH = 0x20
"""Split children born nearer the rim than this climb straight (SPLCHA) and tankers split on
their own there."""


@numba.njit(cache=True, _nrt=False)
def cargo_type(cargo: int) -> int:
    """The enemy type a tanker cargo code carries (1 flippers, 2 pulsars, 3 fuseballs)."""
    if cargo == CARGO_FLIPPERS:
        return FLIPPER
    if cargo == CARGO_PULSARS:
        return PULSAR
    return FUSEBALL


@numba.njit(cache=True, _nrt=False)
def can_fire_of(k, sw: int, etype: int, no_flip: bool) -> int:
    """INVAC2 bit 6 of a new enemy: pulsars only from wave 60 (never as near-rim split
    children), fuseballs never."""
    if etype == FUSEBALL:
        return 0
    if etype == PULSAR:
        return 0 if no_flip else k.pulsars_fire[sw]
    return 1


@numba.njit(cache=True, _nrt=False)
def cam_of(k, sw: int, etype: int, no_flip: bool) -> int:
    """The cam program a new enemy runs: flippers the wave's program (NOJUMP when born near the
    rim from a split), tankers NOJUMP, the others their own."""
    if etype == FLIPPER:
        return CAM_NOJUMP if no_flip else k.flipper_cam[sw]
    if etype == PULSAR:
        return CAM_PULSAR
    if etype == SPIKER:
        return CAM_SPIKER
    if etype == FUSEBALL:
        return CAM_FUSEBALL
    return CAM_NOJUMP


@numba.njit(cache=True, _nrt=False)
def place_enemy(s, k, g: int, depth: int, lane: int, etype: int, can_fire: int, cargo: int,
                cam: int, direction: int) -> int:
    """ACTINV: puts a new enemy (climbing, not flipping, fire holdoff 0) into the highest free
    slot; returns the slot or -1 when all are busy.  Lane 15 of an open tube becomes a random
    even lane."""
    for e in range(ENEMY_SLOTS - 1, -1, -1):
        if s.en_type[g, e] != NO_ENEMY:
            continue
        if lane == 15 and s.is_open[g] != 0:
            lane = rng.rand8(s.rng, g) & 0x0E
        s.en_type[g, e] = etype
        s.en_y[g, e] = depth << 8
        s.en_lane[g, e] = lane
        s.en_flipping[g, e] = 0
        s.en_flip_step[g, e] = 0
        s.en_flip_steps[g, e] = 0
        s.en_flip_angle[g, e] = 0
        s.en_dir[g, e] = direction
        s.en_away[g, e] = 0
        s.en_can_fire[g, e] = can_fire
        s.en_cargo[g, e] = cargo
        s.en_chaser[g, e] = 0
        s.en_cam[g, e] = cam
        s.en_cam_pc[g, e] = k.cam_entry[cam]
        s.en_cam_loop[g, e] = 0
        s.en_fire_holdoff[g, e] = 0
        return e
    return -1


@numba.njit(cache=True, _nrt=False)
def clear_slot(s, g: int, e: int) -> None:
    s.en_type[g, e] = NO_ENEMY
    s.en_y[g, e] = 0
    s.en_flipping[g, e] = 0
    s.en_flip_step[g, e] = 0
    s.en_flip_steps[g, e] = 0
    s.en_flip_angle[g, e] = 0
    s.en_away[g, e] = 0
    s.en_cargo[g, e] = 0
    s.en_chaser[g, e] = 0
    s.en_can_fire[g, e] = 0


@numba.njit(cache=True, _nrt=False)
def remove_enemy(s, k, g: int, e: int) -> None:
    """KILINV: frees the slot; a tanker's cargo comes out as two enemies at its depth, in lane
    L-1 turning toward lower lanes and lane L+1 turning toward higher ones (open tubes keep
    them off lane 15: the first wraps 15 -> 0, the second 15 -> 14)."""
    depth = s.en_y[g, e] >> 8
    lane = s.en_lane[g, e]
    cargo = s.en_cargo[g, e]
    clear_slot(s, g, e)
    if cargo == 0:
        return
    sw = s.skill_wave[g]
    child = cargo_type(cargo)
    no_flip = depth < SPLIT_NO_FLIP_DEPTH
    fire = can_fire_of(k, sw, child, no_flip)
    cam = cam_of(k, sw, child, no_flip)
    is_open = s.is_open[g] != 0
    first = (lane - 1) & 15
    if first == 15 and is_open:
        first = 0
    if place_enemy(s, k, g, depth, first, child, fire, 0, cam, 0) < 0:
        return
    second = (first + 2) & 15
    if second == 15 and is_open:
        second = 14
    place_enemy(s, k, g, depth, second, child, fire, 0, cam, 1)


@numba.njit(cache=True, _nrt=False)
def kill_enemy(s, k, g: int, e: int, zapped: bool) -> None:
    """An enemy shot or zapped: explosion, points, kill statistics, removal.  A zapped tanker
    loses its cargo first (no split); a shot fuseball scores 250/500/750 at random and explodes
    longer, a zapped one scores 150."""
    etype = s.en_type[g, e]
    if zapped:
        s.en_cargo[g, e] = 0
    if etype == FUSEBALL:
        if zapped:
            points = FUSE_ZAP_POINTS
            start_explosion(s, g, KILL_EXPLOSION_FRAMES)
        else:
            points = k.fuse_points[rng.rand8(s.rng, g) & 7]
            start_explosion(s, g, FUSE_EXPLOSION_FRAMES)
    else:
        points = k.kill_points[etype]
        start_explosion(s, g, KILL_EXPLOSION_FRAMES)
    remove_enemy(s, k, g, e)
    add_points(s, g, points)
    s.kills[g, etype] += 1

