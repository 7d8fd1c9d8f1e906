"""Enemy behaviour: the cam-program interpreter (`MOVINV`) and what each instruction does, plus
the pulsar pulse oscillator.  Reference §1.7; the programs themselves are in `core_cam.py`.

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

from envs.tempest import (
    core_cache,  # noqa: F401  (registers the cache stamp first)
    rng,
)
from envs.tempest.core_base import (
    is_alive,
    kill_player,
    player_depth,
    player_lane,
    rim_chasers,
)
from envs.tempest.core_cam import (
    CAM_TOPPER,
    FUSE_CROSS_PC,
    OP_AIM,
    OP_EXIT,
    OP_FLIP_STEP,
    OP_FUSE_MOVE,
    OP_FUSE_TOUCH,
    OP_GRAB_CHECK,
    OP_IF_CLEAR,
    OP_IF_SET,
    OP_JUMP,
    OP_LOOP,
    OP_MOVE,
    OP_PAST_SPIKE,
    OP_PULSAR_MOVE,
    OP_PULSE_SOON,
    OP_REVERSE,
    OP_SET,
    OP_SET_DELAY,
    OP_SET_TOP_RATE,
    OP_SPIKE,
    OP_START_FLIP,
    TOPPER_PC,
)
from envs.tempest.core_slots import remove_enemy
from envs.tempest.skill import CAM_NOJUMP, CARGO_FLIPPERS, PULSAR_POTENT_SPEED
from envs.tempest.state import (
    DEATH_FUSEBALL,
    DEATH_GRABBED,
    DEATH_PULSE,
    ENEMY_SLOTS,
    FLIPPER,
    FUSEBALL,
    NO_ENEMY,
    PULSAR,
    RIM_DEPTH,
    SPIKER,
    TANKER,
)

GO_ON = -1
"""An instruction's result: carry on with the next instruction."""
REMOVED = -2
"""An instruction's result: the enemy left its slot (a tanker split); its frame ends."""
SPIKER_TURN = 0x20
SPIKER_BOTTOM = 0xF2
FRESH_SPIKE = 0xF1
FUSE_FAR_TURN = 0x80
FUSE_NEAR_ZONE = 0x20
FUSE_LATE_WAVE = 18
"""From this wave on a fuseball climbing with enemies pending no longer crosses below 0x20."""
MAX_STEPS = 64
"""Guard against a malformed program (every program ends a frame well before this)."""


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


# -- the interpreter -----------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def run_cam(s, k, g: int, e: int, sw: int) -> None:  # noqa: C901 - the CAM opcode switch
    """Runs enemy e's program until it ends its frame (EXIT) or leaves its slot."""
    pc = s.en_cam_pc[g, e]
    flag = 0
    for _ in range(MAX_STEPS):
        op = k.cam_op[pc]
        arg = k.cam_arg[pc]
        nxt = pc + 1
        result = GO_ON
        if op == OP_EXIT:
            s.en_cam_pc[g, e] = nxt
            return
        elif op == OP_SET:
            s.en_cam_loop[g, e] = arg
        elif op == OP_SET_TOP_RATE:
            s.en_cam_loop[g, e] = k.top_flip_rate[sw]
        elif op == OP_SET_DELAY:
            s.en_cam_loop[g, e] = k.pulsar_chase_delay[sw]
        elif op == OP_JUMP:
            nxt = arg
        elif op == OP_LOOP:
            s.en_cam_loop[g, e] = (s.en_cam_loop[g, e] - 1) & 0xFF
            if s.en_cam_loop[g, e] != 0:
                nxt = arg
        elif op == OP_IF_CLEAR:
            if flag == 0:
                nxt = arg
        elif op == OP_IF_SET:
            if flag != 0:
                nxt = arg
        elif op == OP_MOVE:
            result = move(s, k, g, e, sw)
        elif op == OP_SPIKE:
            flag = spike(s, g, e)
        elif op == OP_START_FLIP:
            start_flip(s, k, g, e)
        elif op == OP_FLIP_STEP:
            result = flip_step(s, k, g, e, sw)
            flag = s.en_flipping[g, e]
        elif op == OP_REVERSE:
            s.en_dir[g, e] ^= 1
        elif op == OP_GRAB_CHECK:
            grab_check(s, g, e)
        elif op == OP_PAST_SPIKE:
            flag = past_spike(s, g, e)
        elif op == OP_FUSE_MOVE:
            result = fuse_move(s, k, g, e, sw)
        elif op == OP_FUSE_TOUCH:
            fuse_touch(s, g, e)
        elif op == OP_PULSAR_MOVE:
            result = pulsar_move(s, k, g, e, sw)
        elif op == OP_AIM:
            aim(s, g, e)
        elif op == OP_PULSE_SOON:
            flag = pulse_soon(s, g)
        if result == REMOVED:
            return
        pc = result if result >= 0 else nxt
    s.en_cam_pc[g, e] = pc


@numba.njit(cache=True, _nrt=False)
def move_enemies(s, k, g: int) -> None:
    """MOVINV: every active enemy runs its program (slots 6..0) unless the player is dead; then
    the pulse oscillator advances (always)."""
    if is_alive(s, g):
        sw = s.skill_wave[g]
        for e in range(ENEMY_SLOTS - 1, -1, -1):
            if s.en_type[g, e] != NO_ENEMY:
                run_cam(s, k, g, e, sw)
    tick_pulse(s, g)
