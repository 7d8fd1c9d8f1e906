"""Enemy behaviour: the cam-program interpreter (`MOVINV`), which runs each enemy's program
(`core_cam.py`) one instruction at a time: movement from `core_motion.py`, each kind's own
behaviour from `core_kinds.py`.  Reference §1.7.
"""

from __future__ import annotations

import numba

from envs.tempest import core_cache  # noqa: F401  (registers the cache stamp first)
from envs.tempest.core_base import is_alive
from envs.tempest.core_cam import (
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
)
from envs.tempest.core_kinds import (
    flip_step,
    fuse_move,
    fuse_touch,
    past_spike,
    pulsar_move,
    pulse_soon,
    spike,
    tick_pulse,
)
from envs.tempest.core_motion import GO_ON, REMOVED, aim, grab_check, move, start_flip
from envs.tempest.state import ENEMY_SLOTS, NO_ENEMY

MAX_STEPS = 64
"""Guard against a malformed program (every program ends a frame well before this)."""


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
