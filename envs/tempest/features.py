"""The observation of `Tempest-v0`: a float32 vector in [-1, 1] per game, built from `GameState`.

In the spirit of the 195-value vector of the system this replaces (reference
`tempest-mechanics.md` §2.2): the same groups in the same order (game/player, player shots,
level, counts and skill, per-slot enemy attributes, enemy lanes, depths, rim enemies, enemy
shots, pulsars, nearest threats, per-slot velocities), with its quirks (§2.3) fixed on purpose.
Per-slot groups are attribute-major: `en{i}_flipper` for slots i = 0..6, then the next attribute.

Normalisations used below:

* *rel* -- a lane relative to the player's lane, / 15.  Closed tubes: the shortest signed
  distance, -7..+8, the +-8 tie broken toward +8 **deterministically** (the old Lua broke it at
  random, so the same state gave different observations).  Open tubes: the direct difference over
  their 15 lanes 0..14, -14..+14.  *rel-frac*: the same for a fractional lane position
  (closed: wrapped into (-8, +8]).
* *depth* -- an 8.8 depth y as `y / 256 / 255` (integer depth 0x10 = rim -> 0.063, 0xF0 ->
  0.941), 0 for an empty slot.  Enemy-shot depths keep their real fraction.
* *frac lane* -- a flipping enemy (not a fuseball) sits between its two lanes: flipping toward
  higher lanes from lane L (pivot line L+1) it is at `pivot - 1 + p`, toward lower lanes (pivot
  line L) at `pivot - p`, with `p = en_flip_step / en_flip_steps` in [0, 1] (the Lua's
  `compute_between_progress`).  A crossing fuseball keeps its integer lane, as in the Lua.
* An empty slot reads 0 in every feature of the slot; `en{i}_present` (enemies) and a depth > 0
  (shots) say whether the slot is used, so an empty slot never looks like a real lane (the old
  vector wrote -1.0 for "empty", which is also rel lane -15 on an open tube).

=======  ======================  ==========================================================  ======
idx      name                    source -> value                                             range
=======  ======================  ==========================================================  ======
0        mode_play               mode == MODE_PLAY                                           {0,1}
1        mode_drop               mode == MODE_DROP                                           {0,1}
2        mode_wait               any other mode (pause, end of life, game over)              {0,1}
3        mode_timer              min(mode_timer, 64) / 64                                    [0,1]
4        lives                   min(lives, 6) / 6                                           [0,1]
5        wave                    (clip(wave, 1, 99) - 1) / 98                                [0,1]
6        player_lane             (player_pos >> 4) / 15                                      [0,1]
7        player_subpos           (player_pos & 15) / 15, position inside the lane            [0,1]
8        alive                   death_cause == ALIVE                                        {0,1}
9        death_cause             death_cause / 5 (DEATH_* code)                              [0,1]
10       player_depth            player_y, depth                                             [0,1]
11       drop_speed              min(drop_speed / 256, 16) / 16                              [0,1]
12       zap_uses                min(zap_uses, 2) / 2                                        [0,1]
13       zap_timer               min(zap_timer, 19) / 19                                     [0,1]
14       shots_free              (8 - live player shots) / 8                                 [0,1]
15-22    shot{i}_depth           shot_y[i], depth (0 = free slot)                            [0,1]
23-30    shot{i}_lane            shot_lane[i], rel (0 for a free slot)                       [-1,1]
31       open_tube               is_open                                                     {0,1}
32       tube                    tube / 15: the real tube index (fix: not wave % 16)         [0,1]
33-48    spike{i}                lane i: 0 if no spike else (255 - spike[i]) / 255;          [0,1]
                                 lane 15 of an open tube (not a lane) reads 0
49-64    angle{i}                tables.LINE_ANGLE[tube, i] / 15                             [0,1]
65-69    count_{t}               live enemies of type t / 7 (t = flipper, pulsar, tanker,    [0,1]
                                 spiker, fuseball)
70-74    opening_{t}             spawn openings of type t / 7: max[t] - count[t] - 2 x       [0,1]
                                 live tankers carrying t, floored at 0, capped at the free
                                 slots (NYMCHA step 1, from the current counts; fix: the Lua
                                 read a stale NYMCHA temporary)
75       in_tube                 enemies not yet at the rim (INMCOU) / 7                     [0,1]
76       on_rim                  chasers at the rim (INCCOU) / 7                             [0,1]
77       pending                 min(pending, 63) / 63                                       [0,1]
78       pending_share           min(pending / pending_at_start, 1) (0 if the wave had       [0,1]
                                 none): the superzap penalty's ratio
79       pulse_step              clip(pulse_step / 8, -1, 1), PULTIM signed                  [-1,1]
80       pulse_phase             clip(pulse_phase / 64, -1, 1), PULSON signed (fix: the      [-1,1]
                                 Lua read the byte unsigned)
81       pulse_on                pulse_phase >= 0, as the game tests it (fix: the Lua        {0,1}
                                 missed PULSON == 0)
82       pulsar_chase_delay      min(skill PUCHDE, 40) / 40                                  [0,1]
83       pulsar_potent           skill PULPOT / 255, depth of the pulse's lethal zone        [0,1]
84       fuse_freq               skill WFUFRQ / 255                                          [0,1]
85       speed_flipper           skill flipper/tanker speed (depth units/frame) / 16         [0,1]
86       speed_spiker            skill spiker speed / 16                                     [0,1]
87       speed_fuseball          skill fuseball speed / 16                                   [0,1]
88       speed_eshot             skill enemy-shot speed / 16                                 [0,1]
89-94    cam_{c}                 skill flipper cam program one-hot (c = NOJUMP, MOVJMP,      {0,1}
                                 SPIRAL, SPIRCH, COWJM2, AVOIDR)
95-101   en{i}_present           slot i holds an enemy                                       {0,1}
102-108  en{i}_flipper           en_type == FLIPPER (one-hot type, all 0 for empty)          {0,1}
109-115  en{i}_pulsar            en_type == PULSAR                                           {0,1}
116-122  en{i}_tanker            en_type == TANKER                                           {0,1}
123-129  en{i}_spiker            en_type == SPIKER                                           {0,1}
130-136  en{i}_fuseball          en_type == FUSEBALL                                         {0,1}
137-143  en{i}_dir_up            en_dir (INVROT: 1 = flips toward higher lanes)              {0,1}
144-150  en{i}_flipping          en_flipping (INVAC1 bit 7)                                  {0,1}
151-157  en{i}_away              en_away (INVAC2 bit 7, moving down the tube)                {0,1}
158-164  en{i}_can_fire          en_can_fire (INVAC2 bit 6)                                  {0,1}
165-171  en{i}_cargo             en_cargo / 3 (tanker cargo)                                 [0,1]
172-178  en{i}_chaser            en_chaser (reached the rim)                                 {0,1}
179-185  en{i}_lane              frac lane, rel-frac                                         [-1,1]
186-192  en{i}_depth             en_y, depth                                                 [0,1]
193-199  rim{i}                  the enemy is at the rim: integer depth <= 0x10 or chaser    {0,1}
200-206  rim{i}_lane             frac lane, rel-frac, if rim{i} else 0                       [-1,1]
207-210  eshot{i}_depth          eshot_y[i], depth with its real 8.8 fraction (fix: the      [0,1]
                                 Lua read player-shot fractions), 0 = free slot
211-214  eshot{i}_lane           eshot_lane[i], rel (0 for a free slot)                      [-1,1]
215-221  pulsar{i}_depth         en_y if slot i holds a pulsar else 0, depth                 [0,1]
222-228  pulsar{i}_lane          frac lane, rel-frac, if a pulsar else 0                     [-1,1]
229      threat_own              nearest threat in the player's lane: min integer depth      [0,1]
                                 of a spike tip, an enemy (a flipping one in both lanes it
                                 straddles) or an enemy shot, / 255; 1 = nothing there
230      threat_lower            the same for lane - 1; 0 = wall (off the edge of an open    [0,1]
                                 tube; the Lua said "safe" there)
231      threat_higher           the same for lane + 1; 0 = wall                             [0,1]
232-238  en{i}_dlane             lane change since the last frame (en_lane -                 [-1,1]
                                 en_prev_lane, closed: wrapped), clip(d, -2, 2) / 2; 0 if
                                 the slot is or was empty or changed type
239-245  en{i}_ddepth            depth change since the last frame (en_y - en_prev_y) /      [-1,1]
                                 256, clip / 16 (negative = toward the rim); 0 as above
246      player_dlane            player lane change since the last frame (lane -             [-1,1]
                                 player_prev_lane, closed: wrapped), clip(d, -2, 2) / 2
=======  ======================  ==========================================================  ======

Dropped on purpose: the coin/credit count and `game_mode` (attract vs game; the simulator is
always in a game), the countdown of QTMPAUS (replaced by `mode_timer`).  Added: the player's
sub-lane position, drop speed, pending share, pulse-on bit, PULPOT, enemy presence bits, the
chaser bit, the player's own velocity.  Skill values are read from `skill.SKILL` at the game's
wave (wave 99+ shows the wave-99 row; the arcade draws a random wave 65-96 there).
Velocity scales differ from the Lua's /8 and /128 (values of ~0.1 at most) so that a typical
frame's motion spans the range: enemies change lane by at most one per frame and move at most
~12 depth units per frame (15 while sliding off after a death).
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from envs.tempest.skill import CAM_NAMES, SKILL
from envs.tempest.state import (
    ALIVE,
    ENEMY_SHOTS,
    ENEMY_SLOTS,
    ENEMY_TYPES,
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
    TANKER,
    TYPE_NAMES,
    GameState,
)
from envs.tempest.tables import LINE_ANGLE

_LAYOUT: tuple[tuple[str, int], ...] = (
    # game / player
    ("mode_play", 1), ("mode_drop", 1), ("mode_wait", 1), ("mode_timer", 1), ("lives", 1),
    ("wave", 1), ("player_lane", 1), ("player_subpos", 1), ("alive", 1), ("death_cause", 1),
    ("player_depth", 1), ("drop_speed", 1), ("zap_uses", 1), ("zap_timer", 1),
    ("shots_free", 1),
    # player shots
    ("shot{i}_depth", PLAYER_SHOTS), ("shot{i}_lane", PLAYER_SHOTS),
    # level
    ("open_tube", 1), ("tube", 1), ("spike{i}", LANES), ("angle{i}", LANES),
    # counts, pending, pulse, skill
    *((f"count_{t}", 1) for t in TYPE_NAMES), *((f"opening_{t}", 1) for t in TYPE_NAMES),
    ("in_tube", 1), ("on_rim", 1), ("pending", 1), ("pending_share", 1),
    ("pulse_step", 1), ("pulse_phase", 1), ("pulse_on", 1),
    ("pulsar_chase_delay", 1), ("pulsar_potent", 1), ("fuse_freq", 1),
    ("speed_flipper", 1), ("speed_spiker", 1), ("speed_fuseball", 1), ("speed_eshot", 1),
    *((f"cam_{c}", 1) for c in CAM_NAMES),
    # per-slot enemy attributes
    ("en{i}_present", ENEMY_SLOTS), *((f"en{{i}}_{t}", ENEMY_SLOTS) for t in TYPE_NAMES),
    ("en{i}_dir_up", ENEMY_SLOTS), ("en{i}_flipping", ENEMY_SLOTS), ("en{i}_away", ENEMY_SLOTS),
    ("en{i}_can_fire", ENEMY_SLOTS), ("en{i}_cargo", ENEMY_SLOTS), ("en{i}_chaser", ENEMY_SLOTS),
    # enemy lanes and depths, rim enemies, enemy shots, pulsars
    ("en{i}_lane", ENEMY_SLOTS), ("en{i}_depth", ENEMY_SLOTS),
    ("rim{i}", ENEMY_SLOTS), ("rim{i}_lane", ENEMY_SLOTS),
    ("eshot{i}_depth", ENEMY_SHOTS), ("eshot{i}_lane", ENEMY_SHOTS),
    ("pulsar{i}_depth", ENEMY_SLOTS), ("pulsar{i}_lane", ENEMY_SLOTS),
    # nearest threats, velocities
    ("threat_own", 1), ("threat_lower", 1), ("threat_higher", 1),
    ("en{i}_dlane", ENEMY_SLOTS), ("en{i}_ddepth", ENEMY_SLOTS), ("player_dlane", 1),
)
"""(name pattern, count) per block, in index order; `{i}` is the slot or lane number."""


def _expand(layout: tuple[tuple[str, int], ...]) -> tuple[tuple[str, ...], dict[str, int]]:
    """All names in index order, and the index where each block starts."""
    names: list[str] = []
    starts: dict[str, int] = {}
    for pattern, count in layout:
        starts[pattern] = len(names)
        names.extend(pattern.format(i=i) for i in range(count))
    return tuple(names), starts


FEATURE_NAMES, _START = _expand(_LAYOUT)
"""One short name per index (the module docstring's table)."""
OBS_DIM: int = len(FEATURE_NAMES)

# Block starts as plain ints: numba compiles them in as constants.
_MODE = _START["mode_play"]
_PLAYER = _START["lives"]
_SHOT_DEPTH, _SHOT_LANE = _START["shot{i}_depth"], _START["shot{i}_lane"]
_OPEN = _START["open_tube"]
_SPIKE, _ANGLE = _START["spike{i}"], _START["angle{i}"]
_COUNT, _OPENING = _START["count_flipper"], _START["opening_flipper"]
_IN_TUBE = _START["in_tube"]
_SKILL = _START["pulsar_chase_delay"]
_CAM = _START["cam_NOJUMP"]
_EN_ATTR = _START["en{i}_present"]
_EN_LANE, _EN_DEPTH = _START["en{i}_lane"], _START["en{i}_depth"]
_RIM, _RIM_LANE = _START["rim{i}"], _START["rim{i}_lane"]
_ESHOT_DEPTH, _ESHOT_LANE = _START["eshot{i}_depth"], _START["eshot{i}_lane"]
_PULSAR_DEPTH, _PULSAR_LANE = _START["pulsar{i}_depth"], _START["pulsar{i}_lane"]
_THREAT = _START["threat_own"]
_EN_DLANE, _EN_DDEPTH = _START["en{i}_dlane"], _START["en{i}_ddepth"]
_PLAYER_DLANE = _START["player_dlane"]

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
    cam: np.ndarray
    cargo_type: np.ndarray


_TABLES = _Tables(
    angle=LINE_ANGLE, type_max=SKILL.type_max, chase_delay=SKILL.pulsar_chase_delay,
    potent=SKILL.pulsar_potent, fuse_freq=SKILL.fuse_freq,
    speeds=np.stack([SKILL.flipper_speed, SKILL.spiker_speed, SKILL.fuse_speed,
                     SKILL.eshot_speed], axis=1).astype(np.int32),
    cam=SKILL.flipper_cam, cargo_type=_CARGO_TYPE)


def observe(state: GameState, out: np.ndarray) -> None:
    """Fills `out`, float32 (N, OBS_DIM), with the observation of every game (no allocation)."""
    observe_games(state, out, _TABLES)


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
def _clip(v: float, limit: float) -> float:
    """v clipped to [-limit, limit], / limit."""
    return min(max(v, -limit), limit) / limit


# -- groups ----------------------------------------------------------------------------------------

@numba.njit(cache=True)
def _game_and_player(state: GameState, g: int, o: np.ndarray) -> None:
    mode = state.mode[g]
    o[_MODE] = 1.0 if mode == MODE_PLAY else 0.0
    o[_MODE + 1] = 1.0 if mode == MODE_DROP else 0.0
    o[_MODE + 2] = 1.0 if mode != MODE_PLAY and mode != MODE_DROP else 0.0
    o[_MODE + 3] = min(max(state.mode_timer[g], 0), 64) / 64.0
    o[_PLAYER] = min(max(state.lives[g], 0), 6) / 6.0
    o[_PLAYER + 1] = (min(max(state.wave[g], 1), 99) - 1) / 98.0
    o[_PLAYER + 2] = (state.player_pos[g] >> 4) / 15.0
    o[_PLAYER + 3] = (state.player_pos[g] & 15) / 15.0
    o[_PLAYER + 4] = 1.0 if state.death_cause[g] == ALIVE else 0.0
    o[_PLAYER + 5] = state.death_cause[g] / 5.0
    o[_PLAYER + 6] = _depth(state.player_y[g])
    o[_PLAYER + 7] = min(max(state.drop_speed[g] / 256.0, 0.0), 16.0) / 16.0
    o[_PLAYER + 8] = min(max(state.zap_uses[g], 0), 2) / 2.0
    o[_PLAYER + 9] = min(max(state.zap_timer[g], 0), 19) / 19.0
    live = 0
    for s in range(PLAYER_SHOTS):
        if state.shot_y[g, s] > 0:
            live += 1
    o[_PLAYER + 10] = (PLAYER_SHOTS - live) / PLAYER_SHOTS


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
    o[_OPEN] = 1.0 if is_open else 0.0
    o[_OPEN + 1] = tube / 15.0
    for k in range(LANES):
        tip = state.spike[g, k]
        real = not (is_open and k >= OPEN_LANES)
        o[_SPIKE + k] = (255 - tip) / 255.0 if tip > 0 and real else 0.0
        o[_ANGLE + k] = tables.angle[tube, k] / 15.0


@numba.njit(cache=True)
def _counts_and_skill(state: GameState, g: int, tables: _Tables, o: np.ndarray) -> None:
    wave = min(max(state.wave[g], 1), 99)
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
        o[_COUNT + t] = count / 7.0
        opening = tables.type_max[wave, t] - count - 2 * carried
        o[_OPENING + t] = min(max(opening, 0), free) / 7.0
    o[_IN_TUBE] = (total - chasers) / 7.0
    o[_IN_TUBE + 1] = chasers / 7.0
    o[_IN_TUBE + 2] = min(max(state.pending[g], 0), 63) / 63.0
    start = state.pending_at_start[g]
    o[_IN_TUBE + 3] = min(max(state.pending[g], 0) / start, 1.0) if start > 0 else 0.0
    o[_IN_TUBE + 4] = _clip(float(state.pulse_step[g]), 8.0)
    o[_IN_TUBE + 5] = _clip(float(state.pulse_phase[g]), 64.0)
    o[_IN_TUBE + 6] = 1.0 if state.pulse_phase[g] >= 0 else 0.0
    o[_SKILL] = min(tables.chase_delay[wave], 40) / 40.0
    o[_SKILL + 1] = min(tables.potent[wave], 255) / 255.0
    o[_SKILL + 2] = min(tables.fuse_freq[wave], 255) / 255.0
    for k in range(4):
        o[_SKILL + 3 + k] = min(tables.speeds[wave, k] / 256.0, 16.0) / 16.0
    for c in range(len(CAM_NAMES)):
        o[_CAM + c] = 1.0 if tables.cam[wave] == c else 0.0


@numba.njit(cache=True)
def _enemies(state: GameState, g: int, lane: int, is_open: bool, o: np.ndarray) -> None:
    for i in range(ENEMY_SLOTS):
        t = state.en_type[g, i]
        present = t != NO_ENEMY
        o[_EN_ATTR + i] = 1.0 if present else 0.0
        for k in range(ENEMY_TYPES):
            o[_EN_ATTR + (1 + k) * ENEMY_SLOTS + i] = 1.0 if t == k else 0.0
        attrs = (state.en_dir[g, i], state.en_flipping[g, i], state.en_away[g, i],
                 state.en_can_fire[g, i])
        for k in range(4):
            o[_EN_ATTR + (6 + k) * ENEMY_SLOTS + i] = 1.0 if present and attrs[k] != 0 else 0.0
        o[_EN_ATTR + 10 * ENEMY_SLOTS + i] = min(max(state.en_cargo[g, i], 0), 3) / 3.0 \
            if present else 0.0
        chaser = present and state.en_chaser[g, i] != 0
        o[_EN_ATTR + 11 * ENEMY_SLOTS + i] = 1.0 if chaser else 0.0
        rel = rel_position(lane, enemy_position(state, g, i), is_open) * _REL_SCALE \
            if present else 0.0
        y = state.en_y[g, i]
        at_rim = present and (chaser or (0 < y and (y >> 8) <= RIM >> 8))
        o[_EN_LANE + i] = rel
        o[_EN_DEPTH + i] = _depth(y) if present else 0.0
        o[_RIM + i] = 1.0 if at_rim else 0.0
        o[_RIM_LANE + i] = rel if at_rim else 0.0
        pulsar = t == PULSAR
        o[_PULSAR_DEPTH + i] = _depth(y) if pulsar else 0.0
        o[_PULSAR_LANE + i] = rel if pulsar else 0.0


@numba.njit(cache=True)
def nearest_threat(state: GameState, g: int, target: int) -> float:
    """Integer depth of the nearest spike tip, enemy or enemy shot in lane `target`, 255 if none.
    A flipping enemy (not a fuseball) counts in both lanes it straddles."""
    nearest = 255
    tip = state.spike[g, target]  # LINEY <= 0xF1
    if tip > 0:
        nearest = min(nearest, tip)
    for i in range(ENEMY_SLOTS):
        if state.en_type[g, i] == NO_ENEMY or state.en_y[g, i] <= 0:
            continue
        pivot = state.en_lane[g, i] & (LANES - 1)
        inside = pivot == target
        if state.en_flipping[g, i] != 0 and state.en_type[g, i] != FUSEBALL:
            inside = inside or ((pivot - 1) & (LANES - 1)) == target
        if inside:
            nearest = min(nearest, state.en_y[g, i] >> 8)
    for j in range(ENEMY_SHOTS):
        if state.eshot_y[g, j] > 0 and (state.eshot_lane[g, j] & (LANES - 1)) == target:
            nearest = min(nearest, state.eshot_y[g, j] >> 8)
    return nearest


@numba.njit(cache=True)
def _threats(state: GameState, g: int, lane: int, is_open: bool, o: np.ndarray) -> None:
    for k in range(3):
        offset = 0 if k == 0 else (-1 if k == 1 else 1)
        target = lane + offset
        if is_open and (target < 0 or target >= OPEN_LANES):
            o[_THREAT + k] = 0.0
            continue
        o[_THREAT + k] = nearest_threat(state, g, target & (LANES - 1)) / 255.0


@numba.njit(cache=True)
def _velocities(state: GameState, g: int, lane: int, is_open: bool, o: np.ndarray) -> None:
    for i in range(ENEMY_SLOTS):
        t = state.en_type[g, i]
        moving = (t != NO_ENEMY and state.en_prev_type[g, i] == t
                  and state.en_prev_lane[g, i] >= 0 and state.en_prev_y[g, i] > 0
                  and state.en_y[g, i] > 0)
        if moving:
            d = rel_lane(state.en_prev_lane[g, i], state.en_lane[g, i], is_open)
            o[_EN_DLANE + i] = _clip(float(d), 2.0)
            o[_EN_DDEPTH + i] = _clip((state.en_y[g, i] - state.en_prev_y[g, i]) / 256.0, 16.0)
        else:
            o[_EN_DLANE + i] = 0.0
            o[_EN_DDEPTH + i] = 0.0
    o[_PLAYER_DLANE] = _clip(float(rel_lane(state.player_prev_lane[g], lane, is_open)), 2.0)


@numba.njit(cache=True)
def observe_games(state: GameState, out: np.ndarray, tables: _Tables) -> None:
    """The kernel behind `observe`: one row of `out` per game."""
    for g in range(out.shape[0]):
        o = out[g]
        lane = state.player_pos[g] >> 4
        is_open = state.is_open[g] != 0
        _game_and_player(state, g, o)
        _shots(state.shot_y[g], state.shot_lane[g], lane, is_open, _SHOT_DEPTH, _SHOT_LANE, o)
        _level(state, g, is_open, tables, o)
        _counts_and_skill(state, g, tables, o)
        _enemies(state, g, lane, is_open, o)
        _shots(state.eshot_y[g], state.eshot_lane[g], lane, is_open, _ESHOT_DEPTH, _ESHOT_LANE,
               o)
        _threats(state, g, lane, is_open, o)
        _velocities(state, g, lane, is_open, o)
