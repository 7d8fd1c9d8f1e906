"""The enemies' "cam" programs: what each enemy does frame by frame, as tiny bytecode.

WHY bytecode: the arcade drives every enemy with a per-enemy program counter into a shared
program (`CAM`, reference §1.7): each frame an enemy runs instructions until one ends its frame
(`VEXIT`).  *When* a move, a flip step or a grab check happens inside those loops (a flipper
that lands moves again the same frame, a rim flipper checks for the player on the frame it
lands, a crossing fuseball steps once every 4 frames) is what the player reacts to, and it falls
out of the program's shape.  So the programs are written out here in the arcade's order (our own
instruction set and encoding; the per-frame behaviour of each instruction lives in
`core_enemies.py`) and the enemy's `en_cam_pc` / `en_cam_loop` are the arcade's `INVCAM` /
`INVLOO`.

Instructions (arg in brackets):

=============  ==========================================================================
EXIT           end this enemy's frame; it resumes at the next instruction
SET [n]        loop counter = n
SET_TOP_RATE   loop counter = WTTFRA (flip steps per frame at the rim)
SET_DELAY      loop counter = PUCHDE (pulsar chase delay)
JUMP [L]       go to L
LOOP [L]       loop counter -= 1 (8-bit); go to L unless it reached 0
IF_CLEAR [L]   go to L if the condition flag is 0
IF_SET [L]     go to L if the condition flag is not 0
MOVE           climb (or descend) at the type's speed; the rim and the tanker split happen here
SPIKE          spiker: grow the lane's spike, turn at 0x20, hop lanes at the bottom
START_FLIP     begin a flip (or a fuseball's crossing) in the enemy's direction
FLIP_STEP      one jump-angle step; flag = still flipping
REVERSE        reverse the flip direction
GRAB_CHECK     a rim enemy crouched in the player's lane kills him
PAST_SPIKE     flag = the enemy is above (nearer the rim than) its lane's spike tip
FUSE_MOVE      fuseball: ride the line, maybe start a lateral crossing
FUSE_TOUCH     fuseball on the rim on the player's line kills him
PULSAR_MOVE    pulsar: climb/bounce, electrocute the lane while pulsing
AIM            turn toward the player's lane
PULSE_SOON     flag = a pulse is on now or due within 4 frames
=============  ==========================================================================
"""

from __future__ import annotations

import numpy as np

from envs.tempest.skill import (
    CAM_AVOIDR,
    CAM_COWJM2,
    CAM_MOVJMP,
    CAM_NOJUMP,
    CAM_SPIRAL,
    CAM_SPIRCH,
)

(OP_EXIT, OP_SET, OP_SET_TOP_RATE, OP_SET_DELAY, OP_JUMP, OP_LOOP, OP_IF_CLEAR, OP_IF_SET,
 OP_MOVE, OP_SPIKE, OP_START_FLIP, OP_FLIP_STEP, OP_REVERSE, OP_GRAB_CHECK, OP_PAST_SPIKE,
 OP_FUSE_MOVE, OP_FUSE_TOUCH, OP_PULSAR_MOVE, OP_AIM, OP_PULSE_SOON) = range(20)

CAM_SPIKER, CAM_PULSAR, CAM_FUSEBALL, CAM_TOPPER = 6, 7, 8, 9
"""Programs beyond the six flipper programs of `skill.CAM_*` (0..5): `en_cam` holds one of 0..9."""
CAMS = 10

_PROGRAMS: dict[int, list] = {
    # Spiker (TRALUP): climb, grow the spike; at the bottom, if nothing is pending it has turned
    # into a flipper-tanker and continues as NOJUMP.
    CAM_SPIKER: ["spiker", (OP_MOVE,), (OP_SPIKE,), (OP_IF_CLEAR, "nojump"), (OP_EXIT,),
                 (OP_JUMP, "spiker")],
    # NOJUMP: climb only (tankers, wave-1 flippers, split children near the rim).
    CAM_NOJUMP: ["nojump", (OP_MOVE,), (OP_EXIT,), (OP_JUMP, "nojump")],
    # MOVJMP: climb 8 frames, then flip without climbing; the landing frame climbs again.
    CAM_MOVJMP: ["movjmp", (OP_SET, 8), "movjmp_climb", (OP_MOVE,), (OP_EXIT,),
                 (OP_LOOP, "movjmp_climb"), (OP_START_FLIP,), "movjmp_flip", (OP_EXIT,),
                 (OP_FLIP_STEP,), (OP_IF_SET, "movjmp_flip"), (OP_JUMP, "movjmp")],
    # SPIRAL: flip after flip in the same direction, climbing on every frame but the one that
    # starts a flip (and twice on the landing frame).
    CAM_SPIRAL: ["spiral", (OP_MOVE,), (OP_EXIT,), (OP_START_FLIP,), "spiral_flip", (OP_EXIT,),
                 (OP_FLIP_STEP,), (OP_MOVE,), (OP_IF_SET, "spiral_flip"), (OP_JUMP, "spiral")],
    # SPIRCH: 2 flips one way, reverse, 3 flips the other way, reverse, ...
    CAM_SPIRCH: ["spirch", (OP_MOVE,), (OP_EXIT,), (OP_SET, 2),
                 "spirch_a", (OP_START_FLIP,), "spirch_a_flip", (OP_EXIT,), (OP_FLIP_STEP,),
                 (OP_MOVE,), (OP_IF_SET, "spirch_a_flip"), (OP_EXIT,), (OP_LOOP, "spirch_a"),
                 (OP_REVERSE,), (OP_SET, 3),
                 "spirch_b", (OP_START_FLIP,), "spirch_b_flip", (OP_EXIT,), (OP_FLIP_STEP,),
                 (OP_MOVE,), (OP_IF_SET, "spirch_b_flip"), (OP_EXIT,), (OP_LOOP, "spirch_b"),
                 (OP_REVERSE,), (OP_JUMP, "spirch")],
    # COWJM2: climb while inside the lane's spike, else flip (climbing on the flip's first
    # frame only).
    CAM_COWJM2: ["cowjm2", (OP_EXIT,), (OP_MOVE,), (OP_PAST_SPIKE,), (OP_IF_CLEAR, "cowjm2"),
                 (OP_START_FLIP,), (OP_EXIT,), (OP_MOVE,), "cowjm2_flip", (OP_FLIP_STEP,),
                 (OP_IF_CLEAR, "cowjm2"), (OP_EXIT,), (OP_JUMP, "cowjm2_flip")],
    # AVOIDR: face the player, flip away from him while climbing, climb 4 frames, repeat.
    CAM_AVOIDR: ["avoidr", (OP_AIM,), (OP_REVERSE,), (OP_START_FLIP,), "avoidr_flip", (OP_EXIT,),
                 (OP_MOVE,), (OP_FLIP_STEP,), (OP_IF_SET, "avoidr_flip"), (OP_SET, 4),
                 "avoidr_climb", (OP_EXIT,), (OP_MOVE,), (OP_LOOP, "avoidr_climb"),
                 (OP_JUMP, "avoidr")],
    # TOPPER (chasers on the rim): crouch 4 frames checking for the player, flip one lane at
    # WTTFRA steps per frame (checking again on the landing frame), repeat.
    CAM_TOPPER: ["topper", (OP_SET, 4), "topper_crouch", (OP_GRAB_CHECK,), (OP_EXIT,),
                 (OP_LOOP, "topper_crouch"), (OP_START_FLIP,), "topper_frame", (OP_EXIT,),
                 (OP_SET_TOP_RATE,), "topper_step", (OP_FLIP_STEP,), (OP_IF_CLEAR, "topper"),
                 (OP_LOOP, "topper_step"), (OP_JUMP, "topper_frame")],
    # Fuseball: ride a line; a lateral move continues at "fuse_cross": one crossing step every
    # 4 frames, the touch check every frame.
    CAM_FUSEBALL: ["fuseball", (OP_FUSE_MOVE,), (OP_FUSE_TOUCH,), (OP_EXIT,),
                   (OP_JUMP, "fuseball"), "fuse_wait", (OP_EXIT,),
                   "fuse_cross", (OP_SET, 3), "fuse_touch", (OP_FUSE_TOUCH,), (OP_EXIT,),
                   (OP_LOOP, "fuse_touch"), (OP_FLIP_STEP,), (OP_IF_CLEAR, "fuseball"),
                   (OP_JUMP, "fuse_wait")],
    # Pulsar: move PUCHDE frames, keep moving until no pulse is near, flip toward the player.
    CAM_PULSAR: ["pulsar", (OP_SET_DELAY,), "pulsar_move", (OP_PULSAR_MOVE,), (OP_EXIT,),
                 (OP_LOOP, "pulsar_move"), "pulsar_wait", (OP_PULSE_SOON,),
                 (OP_IF_CLEAR, "pulsar_flip"), (OP_PULSAR_MOVE,), (OP_EXIT,),
                 (OP_JUMP, "pulsar_wait"), "pulsar_flip", (OP_AIM,), (OP_START_FLIP,),
                 "pulsar_flipping", (OP_EXIT,), (OP_FLIP_STEP,), (OP_IF_CLEAR, "pulsar"),
                 (OP_JUMP, "pulsar_flipping")],
}


def _assemble() -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, int]]:
    """Lays the programs end to end and resolves labels: (op, arg, entry pc per cam, labels)."""
    ops: list[int] = []
    args: list[str | int] = []
    labels: dict[str, int] = {}
    entry = np.zeros(CAMS, np.int32)
    for cam, program in _PROGRAMS.items():
        entry[cam] = len(ops)
        for item in program:
            if isinstance(item, str):
                labels[item] = len(ops)
                continue
            ops.append(item[0])
            args.append(item[1] if len(item) > 1 else 0)
    resolved = [labels[a] if isinstance(a, str) else a for a in args]
    return np.array(ops, np.int32), np.array(resolved, np.int32), entry, labels


CAM_OP, CAM_ARG, CAM_ENTRY, LABELS = _assemble()
"""The assembled program: instruction and argument per pc; the entry pc of each cam."""
TOPPER_PC = int(LABELS["topper"])
"""Where an enemy that sticks to the rim continues (in the same frame)."""
FUSE_CROSS_PC = int(LABELS["fuse_cross"])
"""Where a fuseball that starts a lateral crossing continues (in the same frame)."""
assert {CAM_NOJUMP, CAM_MOVJMP, CAM_SPIRAL, CAM_SPIRCH, CAM_COWJM2, CAM_AVOIDR} == set(range(6))
