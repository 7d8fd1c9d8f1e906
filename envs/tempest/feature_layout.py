"""The layout of `Tempest-v0`'s observation: one name per index of the float32 vector that
`features.observe` fills, the index where each block starts, and how each value is made (the
table below, which a test holds to the names).

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
247      next_shot_free          frames until a player-shot slot frees if none is free:     [0,1]
                                 the live shot nearest the far end reaches it in
                                 (0xF0 - depth) / 9 frames, / 25; 0 while a slot is free
248-263  lane{i}_wall            lane{i}: the lane at rel i - 7 (i = 0..15 -> -7..+8) is     {0,1}
                                 off the edge of an open tube
264-279  lane{i}_eshot           nearest enemy shot in that lane: 1 - frames until it        [0,1]
                                 reaches the player's depth (at the wave's shot speed) /
                                 32, floored at 0; 0 if none.  Without `shot_clock` (runs
                                 before it): (255 - integer depth) / 255, 0 if none
280-295  lane{i}_enemy           nearest enemy in that lane (a flipping one in both lanes    [0,1]
                                 it straddles): (255 - integer depth) / 255, 0 if none
296-311  lane{i}_spike           spike tip in that lane, (255 - tip) / 255, 0 if none.       [0,1]
                                 With `spike_clock`: 1 - (frames of the drop until the
                                 claw there would be below the tip - 1) / 48, floored at
                                 0; 0 if none or the drop ends first; in the drop from the
                                 claw's depth and speed (a tip above the claw reads 1), on
                                 the rim from the rim at 2.0 per frame
=======  ======================  ==========================================================  ======

Dropped on purpose: the coin/credit count and `game_mode` (attract vs game; the simulator is
always in a game), the countdown of QTMPAUS (replaced by `mode_timer`).  Added: the player's
sub-lane position, drop speed, pending share, pulse-on bit, PULPOT, enemy presence bits, the
chaser bit, the player's own velocity.  Skill values are read from `skill.SKILL` at the game's
wave (wave 99+ shows the wave-99 row; the arcade draws a random wave 65-96 there).
Velocity scales differ from the Lua's /8 and /128 (values of ~0.1 at most) so that a typical
frame's motion spans the range: enemies change lane by at most one per frame and move at most
~12 depth units per frame (15 while sliding off after a death).

**The lane map** (indices 247-311, with `EnvConfig.lane_map`; without it the observation stops at
246) says what each lane around the player holds, indexed by its distance from the player's lane
instead of by the game's slot numbers.  The slot blocks above hold the same facts, but "an enemy
shot in my lane, near the rim" is there a conjunction the network must find in any of four slots
(lane rel 0 reads 0.0, one lane away 0.067); here it is one input.  Networks trained without it
walked into enemy shots with every shot slot in flight: a greedy 14-minute network died to an
enemy shot in 29 of 50 lives on the tuning seed, 19 with the map, and scored 9,897 instead of
8,248 (README, issue 12).  `next_shot_free` says when the player can shoot such a shot down.
Its enemy-shot channel is a clock (`EnvConfig.shot_clock`): a shot kills by when it lands, and
as a depth the frames that decide whether crossing its lane is safe were a few hundredths apart.
Its spike channel can be a clock too (`EnvConfig.spike_clock`, off by default): in the drop a
spike kills when the claw is below its tip, so "this lane kills me if I step into it" is
otherwise a comparison of two inputs (the tip, the claw's depth) the network must learn.
"""

from __future__ import annotations

from envs.tempest.skill import CAM_NAMES
from envs.tempest.state import ENEMY_SHOTS, ENEMY_SLOTS, LANES, PLAYER_SHOTS, TYPE_NAMES

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
    # the lanes around the player
    ("next_shot_free", 1), ("lane{i}_wall", LANES), ("lane{i}_eshot", LANES),
    ("lane{i}_enemy", LANES), ("lane{i}_spike", LANES),
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
"""The observation with the lane map (`EnvConfig.lane_map`)."""
SLOT_OBS_DIM: int = _START["next_shot_free"]
"""The observation without it: indices 0..246, the layout checkpoints trained before the lane
map was added expect."""


def obs_dim(lane_map: bool) -> int:
    """Values per observation, with or without the lane map."""
    return OBS_DIM if lane_map else SLOT_OBS_DIM

# Where each block starts, as plain ints: numba compiles them in as constants.
MODE_AT = _START["mode_play"]
PLAYER_AT = _START["lives"]
SHOT_DEPTH_AT, SHOT_LANE_AT = _START["shot{i}_depth"], _START["shot{i}_lane"]
OPEN_AT = _START["open_tube"]
SPIKE_AT, ANGLE_AT = _START["spike{i}"], _START["angle{i}"]
COUNT_AT, OPENING_AT = _START["count_flipper"], _START["opening_flipper"]
IN_TUBE_AT = _START["in_tube"]
SKILL_AT = _START["pulsar_chase_delay"]
CAM_AT = _START["cam_NOJUMP"]
EN_ATTR_AT = _START["en{i}_present"]
EN_LANE_AT, EN_DEPTH_AT = _START["en{i}_lane"], _START["en{i}_depth"]
RIM_AT, RIM_LANE_AT = _START["rim{i}"], _START["rim{i}_lane"]
ESHOT_DEPTH_AT, ESHOT_LANE_AT = _START["eshot{i}_depth"], _START["eshot{i}_lane"]
PULSAR_DEPTH_AT, PULSAR_LANE_AT = _START["pulsar{i}_depth"], _START["pulsar{i}_lane"]
THREAT_AT = _START["threat_own"]
EN_DLANE_AT, EN_DDEPTH_AT = _START["en{i}_dlane"], _START["en{i}_ddepth"]
PLAYER_DLANE_AT = _START["player_dlane"]
NEXT_SHOT_AT = _START["next_shot_free"]
LANE_WALL_AT, LANE_ESHOT_AT = _START["lane{i}_wall"], _START["lane{i}_eshot"]
LANE_ENEMY_AT, LANE_SPIKE_AT = _START["lane{i}_enemy"], _START["lane{i}_spike"]
