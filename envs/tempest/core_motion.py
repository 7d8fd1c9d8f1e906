"""How enemies move: climbing and descending their lane, reaching the rim, and flips between
lanes.  The cam programs (`core_cam.py`) call these through `core_enemies.run_cam`; what each
kind of enemy does beyond moving is in `core_kinds.py`.  Reference §1.7.

Conventions of the arcade kept here:

* `en_lane` is `INVAL1`: the lane, or while flipping the pivot line (lane+1 when flipping toward
  higher lanes).  A fuseball rides lines; its crossing decrements the line at the start when
  `en_dir` = 1 and increments it at the end when `en_dir` = 0 (its direction bit reads the other
  way round from a flipper's, as in the arcade).
* A depth set explicitly (rim 0x10, 0x11 for a rim flipper still flipping, 0x20 for a spiker's
  turn, 0xF0/0xF2 at the far end) drops the 8-bit fraction; the arcade keeps the stale fraction
  there, a sub-pixel difference.
* The pincer rule's quirk is reproduced: an enemy sticking to the rim while exactly one chaser is
  there takes the direction opposite to an enemy on the rim and becomes a flipper (type bits
  cleared), so a pulsar that reaches the rim then turns into a flipper.
"""

from __future__ import annotations

import numba

from envs.tempest import core_cache  # noqa: F401  (registers the cache stamp first)
from envs.tempest.core_base import (
    is_alive,
    kill_player,
    player_depth,
    player_lane,
    rim_chasers,
)
from envs.tempest.core_cam import CAM_TOPPER, TOPPER_PC
from envs.tempest.core_slots import remove_enemy
from envs.tempest.skill import PULSAR_POTENT_SPEED
from envs.tempest.state import (
    DEATH_GRABBED,
    ENEMY_SLOTS,
    FLIPPER,
    FUSEBALL,
    NO_ENEMY,
    PULSAR,
    RIM_DEPTH,
    SPIKER,
)

GO_ON = -1
"""An instruction's result: carry on with the next instruction."""
REMOVED = -2
"""An instruction's result: the enemy left its slot (a tanker split); its frame ends."""
SPIKER_BOTTOM = 0xF2
"""Where a descending spiker is parked at the far end (it hops lanes there)."""


# -- depth ---------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def type_speed(k, sw: int, etype: int) -> int:
    """The climb speed of a type (8.8 per frame): tankers climb like flippers."""
    if etype == SPIKER:
        return k.spiker_speed[sw]
    if etype == FUSEBALL:
        return k.fuse_speed[sw]
    if etype == PULSAR:
        return PULSAR_POTENT_SPEED
    return k.flipper_speed[sw]


@numba.njit(cache=True, _nrt=False)
def descend(s, g: int, e: int, speed: int) -> int:
    """Moves an enemy away from the rim; at the far end the arcade parks it at 0xF2, which only a
    spiker notices (it hops lanes there, in the same frame).  Others are parked at 0xF0 here so
    no depth leaves 0x10..0xF0 between frames; nothing they do reads the difference.  Returns
    the new integer depth."""
    y = s.en_y[g, e] + speed
    if (y >> 8) >= 0xF0:
        y = (SPIKER_BOTTOM if s.en_type[g, e] == SPIKER else 0xF0) << 8
    s.en_y[g, e] = y
    return y >> 8


@numba.njit(cache=True, _nrt=False)
def climb(s, k, g: int, e: int, speed: int) -> int:
    """MoveTowardsTop: climbs; reaching the rim may stick the enemy there (new pc); a tanker
    nearer than 0x20 splits on its own (no points)."""
    y = s.en_y[g, e] - speed
    s.en_y[g, e] = y
    if (y >> 8) <= player_depth(s, g):
        return reach_rim(s, g, e)
    if (y >> 8) < 0x20 and s.en_cargo[g, e] != 0:
        remove_enemy(s, k, g, e)
        return REMOVED
    return GO_ON


@numba.njit(cache=True, _nrt=False)
def move(s, k, g: int, e: int, sw: int) -> int:
    """MOVE: climb, or descend while `en_away` (spikers going down)."""
    speed = type_speed(k, sw, s.en_type[g, e])
    if s.en_away[g, e] != 0:
        descend(s, g, e, speed)
        return GO_ON
    return climb(s, k, g, e, speed)


# -- the rim -------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def aim(s, g: int, e: int) -> None:
    """JCHPLA: direction toward the player (closed tubes: shortest way, ties toward lower)."""
    diff = player_lane(s, g) - s.en_lane[g, e]
    if s.is_open[g] != 0:
        toward_lower = diff < 0
    else:
        toward_lower = (diff & 8) != 0
    s.en_dir[g, e] = 0 if toward_lower else 1


@numba.njit(cache=True, _nrt=False)
def reach_rim(s, g: int, e: int) -> int:
    """JSMOVE/CHASER: at the rim a pulsar bounces while enemies are pending; an enemy still
    flipping waits one unit below; otherwise it sticks and chases (pincer rule), continuing with
    the TOPPER program this same frame."""
    s.en_y[g, e] = RIM_DEPTH << 8
    if s.en_type[g, e] == PULSAR and s.pending[g] != 0:
        s.en_away[g, e] ^= 1
        return GO_ON
    if s.en_flipping[g, e] != 0:
        s.en_y[g, e] = (RIM_DEPTH + 1) << 8
        return GO_ON
    if rim_chasers(s, g) == 1:
        other = -1
        for y in range(ENEMY_SLOTS - 1, -1, -1):
            if y != e and s.en_type[g, y] != NO_ENEMY and (s.en_y[g, y] >> 8) == RIM_DEPTH:
                other = y
                break
        if other >= 0:
            s.en_type[g, e] = FLIPPER
            s.en_dir[g, e] = 1 - s.en_dir[g, other]
        else:
            aim(s, g, e)
    else:
        aim(s, g, e)
    s.en_chaser[g, e] = 1
    s.en_cam[g, e] = CAM_TOPPER
    return TOPPER_PC


@numba.njit(cache=True, _nrt=False)
def grab_check(s, g: int, e: int) -> None:
    """KITST: a crouching (not flipping) rim enemy in the player's lane grabs him."""
    if (s.en_flipping[g, e] == 0 and s.en_lane[g, e] == player_lane(s, g)
            and is_alive(s, g)):
        kill_player(s, g, DEATH_GRABBED)


# -- flips ---------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def flip_target_angle(k, tube: int, pivot: int, direction: int) -> int:
    """CALSAN: the jump angle at which a flip about `pivot` lands."""
    if direction == 0:
        return (k.line_angle[tube, (pivot - 1) & 15] + 8) & 15
    return k.line_angle[tube, pivot]


@numba.njit(cache=True, _nrt=False)
def begin_flip(s, k, g: int, e: int) -> None:
    """JJUMPS: sets the flipping bit and the start angle (a flip toward higher lanes pivots on
    lane+1); a fuseball's crossing takes 7 steps."""
    lane = s.en_lane[g, e]
    direction = s.en_dir[g, e]
    s.en_flipping[g, e] = 1
    s.en_flip_step[g, e] = 0
    if s.en_type[g, e] == FUSEBALL:
        if direction == 0:
            s.en_flip_angle[g, e] = 1
        else:
            s.en_lane[g, e] = (lane - 1) & 15
            s.en_flip_angle[g, e] = 7
        s.en_flip_steps[g, e] = 7
        return
    tube = s.tube[g]
    if direction == 1:
        lane = (lane + 1) & 15
        s.en_lane[g, e] = lane
        s.en_flip_angle[g, e] = (k.line_angle[tube, (lane - 1) & 15] + 8) & 15
    else:
        s.en_flip_angle[g, e] = k.line_angle[tube, lane]
    s.en_flip_steps[g, e] = k.flip_steps[tube, (lane - 1) & 15]


@numba.njit(cache=True, _nrt=False)
def start_flip(s, k, g: int, e: int) -> None:
    """START_FLIP: on an open tube an enemy at an edge turns back first."""
    if s.is_open[g] != 0:
        if s.en_dir[g, e] == 1 and s.en_lane[g, e] >= 14:
            s.en_dir[g, e] = 0
        elif s.en_dir[g, e] == 0 and s.en_lane[g, e] == 0:
            s.en_dir[g, e] = 1
    begin_flip(s, k, g, e)
