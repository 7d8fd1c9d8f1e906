"""What each kind of enemy does beyond moving: a flip's steps (a fuseball's crossing
included), spikers laying spikes and hopping lanes, fuseballs riding the lines, pulsars and the
pulse oscillator.  Reference §1.7; the movement they build on is in `core_motion.py`.
"""

from __future__ import annotations

import numba

from envs.tempest import (
    core_cache,  # noqa: F401  (registers the cache stamp first)
    rng,
)
from envs.tempest.core_base import is_alive, kill_player, player_depth, player_lane
from envs.tempest.core_cam import FUSE_CROSS_PC
from envs.tempest.core_motion import (
    GO_ON,
    REMOVED,
    SPIKER_BOTTOM,
    aim,
    begin_flip,
    climb,
    descend,
    flip_target_angle,
)
from envs.tempest.skill import CAM_NOJUMP, CARGO_FLIPPERS, PULSAR_POTENT_SPEED
from envs.tempest.state import DEATH_FUSEBALL, DEATH_PULSE, FUSEBALL, TANKER

SPIKER_TURN = 0x20
"""A climbing spiker turns back down here."""
FRESH_SPIKE = 0xF1
"""The tip of a spike just started in an empty lane."""
FUSE_FAR_TURN = 0x80
FUSE_NEAR_ZONE = 0x20
FUSE_LATE_WAVE = 18
"""From this wave on a fuseball climbing with enemies pending no longer crosses below 0x20."""


# -- flips ---------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def flip_step(s, k, g: int, e: int, sw: int) -> int:
    """JJUMPM: one angle step; lands when the target angle is reached (toward lower lanes the
    lane becomes pivot-1).  A fuseball ends its crossing after 7 steps, reverses up/down, and
    with nothing pending crosses again at once when on the rim."""
    direction = s.en_dir[g, e]
    angle = (s.en_flip_angle[g, e] + (1 if direction == 0 else -1)) & 15
    s.en_flip_angle[g, e] = angle
    s.en_flip_step[g, e] += 1
    if s.en_type[g, e] == FUSEBALL:
        if angle & 7 != 0:
            return GO_ON
        if angle & 8:
            s.en_lane[g, e] = (s.en_lane[g, e] + 1) & 15
        s.en_flipping[g, e] = 0
        s.en_flip_angle[g, e] = 0
        s.en_away[g, e] ^= 1
        if s.pending[g] == 0:
            if (s.en_y[g, e] >> 8) == player_depth(s, g):
                return lateral(s, k, g, e, True)
            s.en_can_fire[g, e] = 0
            s.en_cargo[g, e] = 0
        return GO_ON
    if angle == flip_target_angle(k, s.tube[g], s.en_lane[g, e], direction):
        s.en_flipping[g, e] = 0
        if direction == 0:
            s.en_lane[g, e] = (s.en_lane[g, e] - 1) & 15
    return GO_ON


# -- spikers -------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def spiker_hop(s, g: int, e: int) -> None:
    """At the bottom a spiker moves to the lane with the shortest spike, scanning down from a
    random lane (ties: the last one scanned); open tubes skip lane 15."""
    best = 0
    best_lane = s.en_lane[g, e]
    lane = rng.rand8(s.rng, g) & 15
    is_open = s.is_open[g] != 0
    for _ in range(16):
        if not (lane == 15 and is_open):
            tip = s.spike[g, lane] if s.spike[g, lane] != 0 else 0xFF
            if tip >= best:
                best = tip
                best_lane = lane
        lane = (lane - 1) & 15
    s.en_lane[g, e] = best_lane
    s.en_away[g, e] = 0


@numba.njit(cache=True, _nrt=False)
def spike(s, g: int, e: int) -> int:
    """SPIKE: the lane's spike follows the climbing spiker; it turns down at 0x20; at the bottom
    it hops lanes, and with nothing pending becomes a flipper-tanker (flag 0)."""
    lane = s.en_lane[g, e]
    if s.spike[g, lane] == 0:
        s.spike[g, lane] = FRESH_SPIKE
    depth = s.en_y[g, e] >> 8
    if depth < s.spike[g, lane]:
        s.spike[g, lane] = depth
    if depth < SPIKER_TURN:
        s.en_away[g, e] = 1
        s.en_y[g, e] = SPIKER_TURN << 8
    elif depth >= SPIKER_BOTTOM:
        spiker_hop(s, g, e)
        s.en_y[g, e] = 0xF0 << 8
        if s.pending[g] == 0:
            s.en_cargo[g, e] = CARGO_FLIPPERS
            s.en_type[g, e] = TANKER
            s.en_cam[g, e] = CAM_NOJUMP
            return 0
    return 1


@numba.njit(cache=True, _nrt=False)
def past_spike(s, g: int, e: int) -> int:
    """1 if the enemy is nearer the rim than its lane's spike tip (or the lane has none)."""
    tip = s.spike[g, s.en_lane[g, e]]
    if tip == 0:
        tip = 0xFF
    return 1 if tip >= (s.en_y[g, e] >> 8) else 0


# -- fuseballs -----------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def lateral(s, k, g: int, e: int, toward: bool) -> int:
    """A fuseball starts crossing to the next line: toward the player, or at random; open
    tubes turn it back at the edges.  Continues at the crossing part of its program."""
    if toward:
        aim(s, g, e)
        s.en_dir[g, e] ^= 1
    else:
        s.en_dir[g, e] = 1 if rng.rand8(s.rng, g) & 0x40 else 0
    if s.is_open[g] != 0:
        if s.en_dir[g, e] == 0 and s.en_lane[g, e] >= 15:
            s.en_dir[g, e] = 1
        elif s.en_dir[g, e] == 1 and s.en_lane[g, e] == 0:
            s.en_dir[g, e] = 0
    begin_flip(s, k, g, e)
    return FUSE_CROSS_PC


@numba.njit(cache=True, _nrt=False)
def maybe_lateral(s, k, g: int, e: int, sw: int) -> int:
    """MAYBLR: in a depth band with bit 0x20 set, a crossing when rand8 >= WFUFRQ; toward the
    player for odd slots when WFUSCH bit 6 is set."""
    if (s.en_y[g, e] >> 8) & FUSE_NEAR_ZONE == 0:
        return GO_ON
    if rng.rand8(s.rng, g) < k.fuse_freq[sw]:
        return GO_ON
    toward = (k.fuse_chase[sw] & 0x40) != 0 and (e & 1) == 1
    return lateral(s, k, g, e, toward)


@numba.njit(cache=True, _nrt=False)
def fuse_move(s, k, g: int, e: int, sw: int) -> int:
    """JFUSEUP: ride the line at 2x flipper speed.  Climbing past the rim: clamp and cross
    (toward the player if WFUSCH bit 7).  Climbing with enemies pending: before wave 18 cross
    below 0x20, else maybe cross.  Descending: cross at >= 0x80 (toward the player if bit 6),
    else maybe cross.  With nothing pending a climbing fuseball heads straight for the rim."""
    speed = k.fuse_speed[sw]
    chase = k.fuse_chase[sw]
    if s.en_away[g, e] == 0:
        y = s.en_y[g, e] - speed
        s.en_y[g, e] = y
        if (y >> 8) < player_depth(s, g):
            s.en_y[g, e] = player_depth(s, g) << 8
            return lateral(s, k, g, e, (chase & 0x80) != 0)
        if s.pending[g] == 0:
            return GO_ON
        if s.wave[g] >= FUSE_LATE_WAVE or (y >> 8) >= FUSE_NEAR_ZONE:
            return maybe_lateral(s, k, g, e, sw)
        return lateral(s, k, g, e, (chase & 0x80) != 0)
    if descend(s, g, e, speed) >= FUSE_FAR_TURN:
        return lateral(s, k, g, e, (chase & 0x40) != 0)
    return maybe_lateral(s, k, g, e, sw)


@numba.njit(cache=True, _nrt=False)
def fuse_touch(s, g: int, e: int) -> None:
    """JFUSKI: a fuseball on the rim on the player's line kills him (even mid-crossing)."""
    if (s.en_y[g, e] >> 8) == player_depth(s, g) and s.en_lane[g, e] == player_lane(s, g):
        kill_player(s, g, DEATH_FUSEBALL)


# -- pulsars -------------------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def pulsar_move(s, k, g: int, e: int, sw: int) -> int:
    """JPULMO: climb (1.375/frame inside PULPOT, flipper speed outside) or descend; while
    enemies are pending it bounces between the rim and PULPOT, with none it turns up at once.
    Then, while the pulse is on, a pulsar nearer than PULPOT in the player's lane kills him."""
    potent = k.pulsar_potent[sw]
    result = GO_ON
    if s.en_away[g, e] == 0:
        fast = (s.en_y[g, e] >> 8) < potent
        result = climb(s, k, g, e, PULSAR_POTENT_SPEED if fast else k.flipper_speed[sw])
        if result == REMOVED:
            return result
    else:
        depth = descend(s, g, e, PULSAR_POTENT_SPEED)
        if s.pending[g] == 0:
            depth = 0xFF
        if depth >= potent:
            s.en_away[g, e] ^= 1
    if (s.pulse_phase[g] >= 0 and (s.en_y[g, e] >> 8) < potent
            and s.en_lane[g, e] == player_lane(s, g) and is_alive(s, g)):
        kill_player(s, g, DEATH_PULSE)
    return result


@numba.njit(cache=True, _nrt=False)
def pulse_soon(s, g: int) -> int:
    """JCHKPU: 0 when no pulse is on and none is due within 4 frames (8-bit arithmetic)."""
    phase = s.pulse_phase[g] & 0xFF
    ahead = (4 * s.pulse_step[g] + s.pulse_phase[g]) & 0xFF
    return 0 if (ahead & phase & 0x80) != 0 else 1


@numba.njit(cache=True, _nrt=False)
def tick_pulse(s, g: int) -> None:
    """PULSON += PULTIM, bouncing: the step reverses at >= 15 and at <= -64."""
    phase = s.pulse_phase[g] + s.pulse_step[g]
    s.pulse_phase[g] = phase
    if phase >= 0:
        if phase >= 0x0F:
            s.pulse_step[g] = -s.pulse_step[g]
    elif phase < -63:
        s.pulse_step[g] = -s.pulse_step[g]
