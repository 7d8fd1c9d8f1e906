"""The observation of `Tempest-v0`: a float32 vector in [-1, 1] per game, built from `GameState`
by numba kernels, one per group of values.  What each index holds, and why, is the table of
`feature_layout.py`; the kernels write the blocks it names.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from envs.tempest import core_cache  # noqa: F401  (stamps the kernels with the layout's source)
from envs.tempest.core_flow import DROP_START_SPEED
from envs.tempest.feature_layout import (
    ANGLE_AT,
    CAM_AT,
    COUNT_AT,
    EN_ATTR_AT,
    EN_DDEPTH_AT,
    EN_DEPTH_AT,
    EN_DLANE_AT,
    EN_LANE_AT,
    ESHOT_DEPTH_AT,
    ESHOT_LANE_AT,
    FEATURE_NAMES,
    IN_TUBE_AT,
    LANE_ENEMY_AT,
    LANE_ESHOT_AT,
    LANE_SPIKE_AT,
    LANE_WALL_AT,
    MODE_AT,
    NEXT_SHOT_AT,
    OBS_DIM,
    OPEN_AT,
    OPENING_AT,
    PLAYER_AT,
    PLAYER_DLANE_AT,
    PULSAR_DEPTH_AT,
    PULSAR_LANE_AT,
    RIM_AT,
    RIM_LANE_AT,
    SHOT_DEPTH_AT,
    SHOT_LANE_AT,
    SKILL_AT,
    SLOT_OBS_DIM,
    SPIKE_AT,
    THREAT_AT,
    obs_dim,
)
from envs.tempest.skill import CAM_NAMES, SKILL
from envs.tempest.state import (
    ALIVE,
    ENEMY_SHOTS,
    ENEMY_SLOTS,
    ENEMY_TYPES,
    FAR_DEPTH,
    FLIPPER,
    FUSEBALL,
    LANES,
    MODE_DROP,
    MODE_PLAY,
    NO_ENEMY,
    OPEN_LANES,
    PLAYER_SHOTS,
    PULSAR,
    RIM,
    RIM_DEPTH,
    TANKER,
    GameState,
)
from envs.tempest.tables import LINE_ANGLE

__all__ = ["FEATURE_NAMES", "OBS_DIM", "SLOT_OBS_DIM", "obs_dim", "observe"]

_DEPTH_SCALE = 1.0 / (256.0 * 255.0)
_REL_SCALE = 1.0 / 15.0
_CARGO_TYPE = np.array([NO_ENEMY, FLIPPER, PULSAR, FUSEBALL], np.int32)
"""Tanker cargo code (1 flippers, 2 pulsars, 3 fuseballs) -> the enemy type it carries."""


class _Tables(NamedTuple):
    """The constant tables the kernel reads, passed as arguments rather than numba globals so a
    change to `skill.py` or `tables.py` can never be hidden by numba's on-disk cache."""

    angle: np.ndarray
    type_max: np.ndarray
    chase_delay: np.ndarray
    potent: np.ndarray
    fuse_freq: np.ndarray
    speeds: np.ndarray
    """(100, 4): flipper, spiker, fuseball, enemy-shot speed (8.8) per wave."""
    drop_accel: np.ndarray
    """(100,): the claw's drop acceleration (8.8 per frame^2) per wave."""
    cam: np.ndarray
    cargo_type: np.ndarray


_TABLES = _Tables(
    angle=LINE_ANGLE, type_max=SKILL.type_max, chase_delay=SKILL.pulsar_chase_delay,
    potent=SKILL.pulsar_potent, fuse_freq=SKILL.fuse_freq,
    speeds=np.stack([SKILL.flipper_speed, SKILL.spiker_speed, SKILL.fuse_speed,
                     SKILL.eshot_speed], axis=1).astype(np.int32),
    drop_accel=SKILL.drop_accel.astype(np.int32), cam=SKILL.flipper_cam, cargo_type=_CARGO_TYPE)


def observe(state: GameState, out: np.ndarray, shot_clock: bool = True,
            spike_clock: bool = False) -> None:
    """Fills `out`, float32 (N, OBS_DIM) or (N, SLOT_OBS_DIM) (without the lane map), with the
    observation of every game (no allocation).  `shot_clock` and `spike_clock`: the lane map's
    enemy-shot and spike channels read frames until they kill (`_shot_clock`, `_spike_clock`)
    rather than depths (networks trained before them)."""
    if out.shape[1] not in (OBS_DIM, SLOT_OBS_DIM):
        raise ValueError(f"an observation has {SLOT_OBS_DIM} or {OBS_DIM} values, not "
                         f"{out.shape[1]}")
    observe_games(state, out, _TABLES, shot_clock, spike_clock)


# -- small helpers ---------------------------------------------------------------------------------

@numba.njit(cache=True)
def rel_lane(player_lane: int, lane: int, is_open: bool) -> int:
    """Signed lane distance: direct on open tubes, shortest on closed ones (+-8 -> +8)."""
    if is_open:
        return lane - player_lane
    d = (lane - player_lane) & (LANES - 1)
    return d - LANES if d > LANES // 2 else d


@numba.njit(cache=True)
def rel_position(player_lane: int, position: float, is_open: bool) -> float:
    """`rel_lane` for a fractional lane position; closed tubes wrap into (-8, +8]."""
    v = position - player_lane
    if not is_open:
        while v > LANES / 2:
            v -= LANES
        while v <= -LANES / 2:
            v += LANES
    return v


@numba.njit(cache=True)
def enemy_position(state: GameState, g: int, i: int) -> float:
    """The enemy's lane as a float, fractional while it flips (module docstring, *frac lane*)."""
    lane = state.en_lane[g, i]
    if state.en_flipping[g, i] == 0 or state.en_type[g, i] == FUSEBALL:
        return float(lane)
    steps = state.en_flip_steps[g, i]
    progress = 0.0 if steps <= 0 else min(max(state.en_flip_step[g, i] / steps, 0.0), 1.0)
    if state.en_dir[g, i] == 1:
        return lane - 1.0 + progress
    return lane - progress


@numba.njit(cache=True)
def _depth(y: int) -> float:
    """An 8.8 depth as depth units / 255 (module docstring, *depth*)."""
    return min(y * _DEPTH_SCALE, 1.0)


@numba.njit(cache=True)
def _skill_wave(state: GameState, g: int) -> int:
    """The game's wave as a row of the skill tables (1..99: wave 99+ reads the wave-99 row)."""
    return min(max(state.wave[g], 1), 99)


@numba.njit(cache=True)
def _clip(v: float, limit: float) -> float:
    """v clipped to [-limit, limit], / limit."""
    return min(max(v, -limit), limit) / limit


# -- groups ----------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _game_and_player(state: GameState, g: int, o: np.ndarray) -> None:
    mode = state.mode[g]
    o[MODE_AT] = 1.0 if mode == MODE_PLAY else 0.0
    o[MODE_AT + 1] = 1.0 if mode == MODE_DROP else 0.0
    o[MODE_AT + 2] = 1.0 if mode != MODE_PLAY and mode != MODE_DROP else 0.0
    o[MODE_AT + 3] = min(max(state.mode_timer[g], 0), 64) / 64.0
    o[PLAYER_AT] = min(max(state.lives[g], 0), 6) / 6.0
    o[PLAYER_AT + 1] = (_skill_wave(state, g) - 1) / 98.0
    o[PLAYER_AT + 2] = (state.player_pos[g] >> 4) / 15.0
    o[PLAYER_AT + 3] = (state.player_pos[g] & 15) / 15.0
    o[PLAYER_AT + 4] = 1.0 if state.death_cause[g] == ALIVE else 0.0
    o[PLAYER_AT + 5] = state.death_cause[g] / 5.0
    o[PLAYER_AT + 6] = _depth(state.player_y[g])
    o[PLAYER_AT + 7] = min(max(state.drop_speed[g] / 256.0, 0.0), 16.0) / 16.0
    o[PLAYER_AT + 8] = min(max(state.zap_uses[g], 0), 2) / 2.0
    o[PLAYER_AT + 9] = min(max(state.zap_timer[g], 0), 19) / 19.0
    live = 0
    for s in range(PLAYER_SHOTS):
        if state.shot_y[g, s] > 0:
            live += 1
    o[PLAYER_AT + 10] = (PLAYER_SHOTS - live) / PLAYER_SHOTS


@numba.njit(cache=True)
def _shots(ys: np.ndarray, lanes: np.ndarray, lane: int, is_open: bool, depth_at: int,
           lane_at: int, o: np.ndarray) -> None:
    """Depth and relative lane of each shot slot (player's or enemies'); 0 for a free slot."""
    for s in range(ys.shape[0]):
        y = ys[s]
        o[depth_at + s] = _depth(y) if y > 0 else 0.0
        o[lane_at + s] = rel_lane(lane, lanes[s], is_open) * _REL_SCALE if y > 0 else 0.0


@numba.njit(cache=True)
def _level(state: GameState, g: int, is_open: bool, tables: _Tables, o: np.ndarray) -> None:
    tube = state.tube[g]
    o[OPEN_AT] = 1.0 if is_open else 0.0
    o[OPEN_AT + 1] = tube / 15.0
    for k in range(LANES):
        tip = state.spike[g, k]
        real = not (is_open and k >= OPEN_LANES)
        o[SPIKE_AT + k] = (255 - tip) / 255.0 if tip > 0 and real else 0.0
        o[ANGLE_AT + k] = tables.angle[tube, k] / 15.0


@numba.njit(cache=True)
def _counts_and_skill(state: GameState, g: int, tables: _Tables, o: np.ndarray) -> None:
    wave = _skill_wave(state, g)
    total = 0
    chasers = 0
    for i in range(ENEMY_SLOTS):
        if state.en_type[g, i] != NO_ENEMY:
            total += 1
            chasers += 1 if state.en_chaser[g, i] != 0 else 0
    free = ENEMY_SLOTS - total
    for t in range(ENEMY_TYPES):
        count = 0
        carried = 0
        for i in range(ENEMY_SLOTS):
            kind = state.en_type[g, i]
            count += 1 if kind == t else 0
            cargo = state.en_cargo[g, i]
            if kind == TANKER and 0 < cargo <= 3 and tables.cargo_type[cargo] == t:
                carried += 1
        o[COUNT_AT + t] = count / 7.0
        opening = tables.type_max[wave, t] - count - 2 * carried
        o[OPENING_AT + t] = min(max(opening, 0), free) / 7.0
    o[IN_TUBE_AT] = (total - chasers) / 7.0
    o[IN_TUBE_AT + 1] = chasers / 7.0
    o[IN_TUBE_AT + 2] = min(max(state.pending[g], 0), 63) / 63.0
    start = state.pending_at_start[g]
    o[IN_TUBE_AT + 3] = min(max(state.pending[g], 0) / start, 1.0) if start > 0 else 0.0
    o[IN_TUBE_AT + 4] = _clip(float(state.pulse_step[g]), 8.0)
    o[IN_TUBE_AT + 5] = _clip(float(state.pulse_phase[g]), 64.0)
    o[IN_TUBE_AT + 6] = 1.0 if state.pulse_phase[g] >= 0 else 0.0
    o[SKILL_AT] = min(tables.chase_delay[wave], 40) / 40.0
    o[SKILL_AT + 1] = min(tables.potent[wave], 255) / 255.0
    o[SKILL_AT + 2] = min(tables.fuse_freq[wave], 255) / 255.0
    for k in range(4):
        o[SKILL_AT + 3 + k] = min(tables.speeds[wave, k] / 256.0, 16.0) / 16.0
    for c in range(len(CAM_NAMES)):
        o[CAM_AT + c] = 1.0 if tables.cam[wave] == c else 0.0


@numba.njit(cache=True)
def _enemies(state: GameState, g: int, lane: int, is_open: bool, o: np.ndarray) -> None:
    for i in range(ENEMY_SLOTS):
        t = state.en_type[g, i]
        present = t != NO_ENEMY
        o[EN_ATTR_AT + i] = 1.0 if present else 0.0
        for k in range(ENEMY_TYPES):
            o[EN_ATTR_AT + (1 + k) * ENEMY_SLOTS + i] = 1.0 if t == k else 0.0
        attrs = (state.en_dir[g, i], state.en_flipping[g, i], state.en_away[g, i],
                 state.en_can_fire[g, i])
        for k in range(4):
            o[EN_ATTR_AT + (6 + k) * ENEMY_SLOTS + i] = 1.0 if present and attrs[k] != 0 else 0.0
        o[EN_ATTR_AT + 10 * ENEMY_SLOTS + i] = min(max(state.en_cargo[g, i], 0), 3) / 3.0 \
            if present else 0.0
        chaser = present and state.en_chaser[g, i] != 0
        o[EN_ATTR_AT + 11 * ENEMY_SLOTS + i] = 1.0 if chaser else 0.0
        rel = rel_position(lane, enemy_position(state, g, i), is_open) * _REL_SCALE \
            if present else 0.0
        y = state.en_y[g, i]
        at_rim = present and (chaser or (0 < y and (y >> 8) <= RIM >> 8))
        o[EN_LANE_AT + i] = rel
        o[EN_DEPTH_AT + i] = _depth(y) if present else 0.0
        o[RIM_AT + i] = 1.0 if at_rim else 0.0
        o[RIM_LANE_AT + i] = rel if at_rim else 0.0
        pulsar = t == PULSAR
        o[PULSAR_DEPTH_AT + i] = _depth(y) if pulsar else 0.0
        o[PULSAR_LANE_AT + i] = rel if pulsar else 0.0


@numba.njit(cache=True)
def nearest_enemy(state: GameState, g: int, target: int) -> int:
    """Integer depth of the nearest enemy in lane `target`, 255 if none.  A flipping enemy (not
    a fuseball) counts in both lanes it straddles."""
    nearest = 255
    for i in range(ENEMY_SLOTS):
        if state.en_type[g, i] == NO_ENEMY or state.en_y[g, i] <= 0:
            continue
        pivot = state.en_lane[g, i] & (LANES - 1)
        inside = pivot == target
        if state.en_flipping[g, i] != 0 and state.en_type[g, i] != FUSEBALL:
            inside = inside or ((pivot - 1) & (LANES - 1)) == target
        if inside:
            nearest = min(nearest, state.en_y[g, i] >> 8)
    return nearest


@numba.njit(cache=True)
def nearest_enemy_shot_y(state: GameState, g: int, target: int) -> int:
    """Depth (8.8) of the nearest enemy shot in lane `target`, 0 if none."""
    nearest = 0
    for j in range(ENEMY_SHOTS):
        y = state.eshot_y[g, j]
        if y > 0 and (state.eshot_lane[g, j] & (LANES - 1)) == target:
            nearest = y if nearest == 0 else min(nearest, y)
    return nearest


@numba.njit(cache=True)
def nearest_enemy_shot(state: GameState, g: int, target: int) -> int:
    """Integer depth of the nearest enemy shot in lane `target`, 255 if none."""
    y = nearest_enemy_shot_y(state, g, target)
    return y >> 8 if y > 0 else 255


@numba.njit(cache=True)
def nearest_threat(state: GameState, g: int, target: int) -> int:
    """Integer depth of the nearest spike tip, enemy or enemy shot in lane `target`, 255 if none."""
    tip = state.spike[g, target]  # LINEY <= 0xF1
    nearest = min(nearest_enemy(state, g, target), nearest_enemy_shot(state, g, target))
    return min(nearest, tip) if tip > 0 else nearest


@numba.njit(cache=True)
def _threats(state: GameState, g: int, lane: int, is_open: bool, o: np.ndarray) -> None:
    for k in range(3):
        offset = 0 if k == 0 else (-1 if k == 1 else 1)
        target = lane + offset
        if is_open and (target < 0 or target >= OPEN_LANES):
            o[THREAT_AT + k] = 0.0
            continue
        o[THREAT_AT + k] = nearest_threat(state, g, target & (LANES - 1)) / 255.0


@numba.njit(cache=True)
def _velocities(state: GameState, g: int, lane: int, is_open: bool, o: np.ndarray) -> None:
    for i in range(ENEMY_SLOTS):
        t = state.en_type[g, i]
        moving = (t != NO_ENEMY and state.en_prev_type[g, i] == t
                  and state.en_prev_lane[g, i] >= 0 and state.en_prev_y[g, i] > 0
                  and state.en_y[g, i] > 0)
        if moving:
            d = rel_lane(state.en_prev_lane[g, i], state.en_lane[g, i], is_open)
            o[EN_DLANE_AT + i] = _clip(float(d), 2.0)
            o[EN_DDEPTH_AT + i] = _clip((state.en_y[g, i] - state.en_prev_y[g, i]) / 256.0, 16.0)
        else:
            o[EN_DLANE_AT + i] = 0.0
            o[EN_DDEPTH_AT + i] = 0.0
    o[PLAYER_DLANE_AT] = _clip(float(rel_lane(state.player_prev_lane[g], lane, is_open)), 2.0)


PLAYER_SHOT_SPEED = 9
"""Integer depth units a player shot climbs per frame (reference §1.3)."""
MAP_LEFT = 7
"""The lane map's slot 0 is the lane 7 below the player's; slot 15 is 8 above."""


@numba.njit(cache=True)
def _next_shot_free(state: GameState, g: int, o: np.ndarray) -> None:
    """Frames until a shot slot frees when all are in flight: the shot nearest the far end
    leaves first (a shot slowed by a spike leaves later: a lower bound)."""
    deepest = 0
    for s in range(PLAYER_SHOTS):
        y = state.shot_y[g, s]
        if y <= 0:
            o[NEXT_SHOT_AT] = 0.0
            return
        deepest = max(deepest, y >> 8)
    frames = max(FAR_DEPTH - deepest, 0) / PLAYER_SHOT_SPEED
    o[NEXT_SHOT_AT] = min(frames / 25.0, 1.0)


@numba.njit(cache=True)
def _nearness(depth: int) -> float:
    """An integer depth as (255 - depth) / 255: the rim reads ~0.94, the far end ~0.06, and
    255 (nothing there) 0."""
    return (255 - min(max(depth, 0), 255)) / 255.0


SHOT_CLOCK_FRAMES = 32
"""The shot clock's horizon: an enemy shot this many frames or more from the rim reads 0."""


@numba.njit(cache=True)
def _shot_clock(state: GameState, g: int, target: int, speed: int) -> float:
    """1 - (frames until the nearest enemy shot in lane `target` reaches the player's depth) /
    SHOT_CLOCK_FRAMES, floored at 0; 0 if none.  A shot kills by when it arrives, which decides
    whether the player can cross its lane in time: as a depth, 2 and 8 frames from the rim read
    0.91 and 0.83 at wave 1 (and other values at other waves' shot speeds); as a clock 0.94 and
    0.75 at every wave.  `speed`: the wave's enemy-shot speed, 8.8 depth per frame."""
    y = nearest_enemy_shot_y(state, g, target)
    if y == 0:
        return 0.0
    frames = max(y - state.player_y[g], 0) / max(speed, 1)
    return max(0.0, 1.0 - frames / SHOT_CLOCK_FRAMES)


SPIKE_CLOCK_FRAMES = 48
"""The spike clock's horizon, about one whole drop (47 frames at wave 1, 33 from wave 13)."""


@numba.njit(cache=True)
def frames_to_spike(tip: int, y: int, speed: int, accel: int) -> int:
    """Frames of the drop until a claw at 8.8 depth `y`, falling at `speed` and gaining `accel`
    per frame, would be below spike tip `tip` (an integer depth) and die (`descend_player`:
    move, then test `tip < depth`); 0 if the claw passes the far end (0xF0) first or there is
    no tip.  The first frame counts as 1: a tip already above the claw kills on the next."""
    if tip <= 0:
        return 0
    speed = max(speed, 1)
    frames = 0
    while True:
        y += speed
        frames += 1
        if (y >> 8) >= FAR_DEPTH:
            return 0
        speed += accel
        if tip < (y >> 8):
            return frames


@numba.njit(cache=True)
def _spike_clock(state: GameState, g: int, target: int, accel: int) -> float:
    """1 - (frames of the drop until the claw would die on the spike in lane `target`, minus
    one) / SPIKE_CLOCK_FRAMES, floored at 0; 0 for no spike (or one the claw clears).  During
    the drop it starts from the claw's depth and speed, so a lane whose tip is already above the
    claw reads 1 (stepping into it kills on the next frame) and the reading climbs as the claw
    falls; on the rim it is the drop that would start now.  As a depth beside the claw's own
    depth, "this lane kills me now" is a comparison the network must learn: in 25 of 26 spike
    deaths of a greedy network's whole games on the tuning seed a spike-free lane was there to
    fall in.  `accel`: the wave's drop acceleration, 8.8 per frame^2."""
    if state.mode[g] == MODE_DROP:
        y, speed = state.player_y[g], state.drop_speed[g]
    else:
        y, speed = RIM_DEPTH << 8, DROP_START_SPEED
    frames = frames_to_spike(state.spike[g, target], y, speed, accel)
    if frames == 0:
        return 0.0
    return max(0.0, 1.0 - (frames - 1) / SPIKE_CLOCK_FRAMES)


class _Clocks(NamedTuple):
    """What the lane map's clocked channels need: the wave's speeds and which clocks are on."""

    eshot_speed: int
    drop_accel: int
    shot: bool
    spike: bool


@numba.njit(cache=True)
def _lane_map(state: GameState, g: int, lane: int, is_open: bool, clocks: _Clocks,
              o: np.ndarray) -> None:
    """What each lane around the player holds, indexed by distance from the player's lane
    rather than by slot: the same danger (a shot two lanes left) is the same input wherever
    the player stands and whichever slot the game gave it."""
    for i in range(LANES):
        target = lane + i - MAP_LEFT
        wall = is_open and (target < 0 or target >= OPEN_LANES)
        o[LANE_WALL_AT + i] = 1.0 if wall else 0.0
        if wall:
            o[LANE_ESHOT_AT + i] = 0.0
            o[LANE_ENEMY_AT + i] = 0.0
            o[LANE_SPIKE_AT + i] = 0.0
            continue
        target &= LANES - 1
        if clocks.spike:
            o[LANE_SPIKE_AT + i] = _spike_clock(state, g, target, clocks.drop_accel)
        else:
            tip = state.spike[g, target]
            o[LANE_SPIKE_AT + i] = _nearness(tip) if tip > 0 else 0.0
        if clocks.shot:
            o[LANE_ESHOT_AT + i] = _shot_clock(state, g, target, clocks.eshot_speed)
        else:
            o[LANE_ESHOT_AT + i] = _nearness(nearest_enemy_shot(state, g, target))
        o[LANE_ENEMY_AT + i] = _nearness(nearest_enemy(state, g, target))


@numba.njit(cache=True)
def observe_games(state: GameState, out: np.ndarray, tables: _Tables, shot_clock: bool,
                  spike_clock: bool) -> None:
    """The kernel behind `observe`: one row of `out` per game."""
    for g in range(out.shape[0]):
        o = out[g]
        lane = state.player_pos[g] >> 4
        is_open = state.is_open[g] != 0
        _game_and_player(state, g, o)
        _shots(state.shot_y[g], state.shot_lane[g], lane, is_open, SHOT_DEPTH_AT, SHOT_LANE_AT, o)
        _level(state, g, is_open, tables, o)
        _counts_and_skill(state, g, tables, o)
        _enemies(state, g, lane, is_open, o)
        _shots(state.eshot_y[g], state.eshot_lane[g], lane, is_open, ESHOT_DEPTH_AT, ESHOT_LANE_AT,
               o)
        _threats(state, g, lane, is_open, o)
        _velocities(state, g, lane, is_open, o)
        if o.shape[0] > SLOT_OBS_DIM:
            _next_shot_free(state, g, o)
            wave = _skill_wave(state, g)
            clocks = _Clocks(tables.speeds[wave, 3], tables.drop_accel[wave], shot_clock,
                             spike_clock)
            _lane_map(state, g, lane, is_open, clocks, o)
