"""The numba kernels behind the scripted Tempest expert: one decision per game, read from a
`GameState`, vectorised over N games and allocation-free.

`tempest_decide` is the scripted expert of the system this replaces (`Scripts/logic.lua`,
reference `tempest-mechanics.md` §3.1-3.2): zoom lane choice, rim-threat flee, fuseball evasion,
hunting, the superzap heuristic, fire with probability 0.95, and the conversion of the target
lane to a spinner value.  It writes `fire`, `zap`, `spinner` (the value written to TBHD:
positive moves toward LOWER lanes) and `target` (the absolute lane it steers for) per game, as
does the game's own attract-mode AI (`attract_rules.attract_decide`, which shares the lane
helpers here); `to_actions` maps those onto an action set through a precomputed (fire, zap,
spinner level) -> action lookup.

Lua quirks fixed on purpose (each is marked FIX below):

1. Open tubes have 15 lanes (0..14); the Lua scanned and stepped into lane 15, which does not
   exist there (zoom scan, flee and fuseball-evasion edges).
2. The +-8 tie on closed tubes is broken by the expert's own per-game generator, never by the
   game's `state.rng`: labelling a state must not change the game's trajectory.
3. Enemy shots are gated on their true 8.8 depth; the Lua added the fraction of a *player* shot
   (wrong address, reference §2.3).
4. The superzap cooldown is per game (an array), not one module-level global for all games.
5. The pulse-on off-by-one (§2.3) does not arise: this expert never reads the pulse.
"""

from __future__ import annotations

import numba
import numpy as np

from envs.tempest import core_cache  # noqa: F401  (stamps the kernels with their sources)
from envs.tempest.state import (
    DEPTH_ONE,
    ENEMY_SHOTS,
    ENEMY_SLOTS,
    FLIPPER,
    FUSEBALL,
    LANES,
    MODE_DROP,
    MODE_PLAY,
    NO_ENEMY,
    OPEN_LANES,
    PULSAR,
    RIM_DEPTH,
    SPIKER,
    TANKER,
)

# --- the expert's constants (logic.lua:15-17,39 and the HEAD procedure) ------------------------
TOP_RAIL_AVOID_DEPTH = 0x60
"""Flippers, pulsars and enemy shots at 0 < depth <= this are rim threats (step 2)."""
SAFE_DISTANCE = 1
"""A rim threat within this many lanes (|rel| <= 1) makes the expert flee."""
FUSEBALL_NEAR_DEPTH = 0x50
"""Fuseballs at 0 < depth <= this, coming up, within one lane are evaded (step 4)."""
SUPERZAP_COOLDOWN = 60
"""Frames (reaches of step 6) between two zaps of the expert."""
ZAP_USES_PER_WAVE = 2
FIRST_ZAP_RIM_ENEMIES = 3
SECOND_ZAP_RIM_ENEMIES = 1
FIRE_PROBABILITY = 0.95
"""EXPERT_FIRE_PROBABILITY: fire is a Bernoulli draw on every frame."""
SPINNER_SCALE = 32.0
"""The Python side multiplied the [-1, 1] spinner intensity by 32 before quantising."""

HUNT_ORDER = np.array([FUSEBALL, FLIPPER, TANKER, SPIKER], np.int32)
"""Types hunted, first present type wins; pulsars are never hunted."""


NO_LANE = -1
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


# --- the expert's own random streams (xorshift64*, seeded by splitmix64) -----------------------
@numba.njit(cache=True)
def _splitmix64(x):
    z = x + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


@numba.njit(cache=True)
def seed_streams(seed: int, num_games: int) -> np.ndarray:
    """(num_games,) uint64 generator states, one independent stream per game, from one seed."""
    streams = np.empty(num_games, np.uint64)
    base = _splitmix64(np.uint64(seed))
    for g in range(num_games):
        state = _splitmix64(base ^ (np.uint64(g + 1) * _GOLDEN))
        streams[g] = state if state != np.uint64(0) else _GOLDEN
    return streams


@numba.njit(cache=True)
def _uniform(streams, g):
    """The next uniform [0, 1) double of game g's stream (xorshift64*, top 53 bits)."""
    x = streams[g]
    x ^= x >> np.uint64(12)
    x ^= x << np.uint64(25)
    x ^= x >> np.uint64(27)
    streams[g] = x
    bits53 = (x * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(11)
    return np.float64(bits53) * (1.0 / 9007199254740992.0)  # / 2**53


# --- lane arithmetic ----------------------------------------------------------------------------
@numba.njit(cache=True)
def lane_delta(player, lane, is_open):
    """target - player: the direct difference on open tubes, the shortest signed distance on
    closed ones in -7..8 (an exact opposite comes back as +8; `spinner_for` breaks that tie)."""
    diff = lane - player
    if is_open:
        return diff
    diff %= LANES
    return diff - LANES if diff > LANES // 2 else diff


@numba.njit(cache=True)
def step_lane(player, direction, is_open):
    """The lane next to `player` in `direction` (+-1), or NO_LANE past an open tube's edge.
    FIX 1: an open tube's last lane is 14, not 15."""
    lane = player + direction
    if is_open:
        return lane if 0 <= lane < OPEN_LANES else NO_LANE
    return lane % LANES


@numba.njit(cache=True)
def _step_or_other_side(player, direction, is_open):
    """Step `direction`; at an open edge step the other way; if both are blocked, stay."""
    lane = step_lane(player, direction, is_open)
    if lane == NO_LANE:
        lane = step_lane(player, -direction, is_open)
    return player if lane == NO_LANE else lane


@numba.njit(cache=True)
def is_live(en_type, en_y, g, i):
    """A live enemy: a type and a depth byte > 0 (the Lua's activity test)."""
    return en_type[g, i] != NO_ENEMY and en_y[g, i] >= DEPTH_ONE


@numba.njit(cache=True)
def depth_byte(y):
    """INVAY: the integer depth the Lua reads (thresholds are written in these units)."""
    return y // DEPTH_ONE


# --- step 1: the zoom down the tube --------------------------------------------------------------
@numba.njit(cache=True)
def _spike_height(liney):
    return 0 if liney == 0 else 255 - liney


@numba.njit(cache=True)
def zoom_lane(spike, g, player, is_open):
    """zoom_down_tube: the nearest lane without a spike, else the lane with the lowest spike
    (nearest as tie-break); strict comparisons, so ties go to the player's lane, then to the
    lower lane index.  Height = 255 - LINEY (0 = no spike), as the Lua computed it."""
    best, best_height, best_dist = player, _spike_height(spike[g, player]), 0
    for lane in range(OPEN_LANES if is_open else LANES):  # FIX 1
        height = _spike_height(spike[g, lane])
        dist = abs(lane_delta(player, lane, is_open))
        if height == 0:
            better = best_height != 0 or dist < best_dist
        else:
            better = best_height != 0 and (height < best_height
                                           or (height == best_height and dist < best_dist))
        if better:
            best, best_height, best_dist = lane, height, dist
    return best


# --- step 2: rim and near-rim threats ------------------------------------------------------------
@numba.njit(cache=True)
def rim_position(rel, flipping, step, steps, toward_higher, is_open):
    """The lane of a rim enemy relative to the player as a float.  `rel` is its pivot line's
    integer rel (`en_lane`); mid-flip it is the lane it left plus or minus the flip's progress
    (toward higher lanes the pivot is the old lane + 1), as `state.lua` computed it."""
    if not flipping or steps <= 0:
        return np.float64(rel)
    progress = min(1.0, max(0.0, step / steps))
    pos = rel + progress - 1.0 if toward_higher else rel - progress
    if not is_open:
        while pos > 8.0:
            pos -= 16.0
        while pos < -8.0:
            pos += 16.0
    return pos


@numba.njit(cache=True)
def rim_threat(en_type, en_y, en_lane, en_flipping, en_flip_step, en_flip_steps, en_dir,
               eshot_y, eshot_lane, pending, g, player, is_open):
    """scan_top_threats: (found, rel) of the nearest threat with |rel| <= SAFE_DISTANCE among
    flippers (and pulsars once nothing is pending) at 0 < depth <= 0x60 - at the rim by their
    fractional position - then enemy shots there; slot order with a strict `<`, so the first
    of equally near threats wins."""
    found, best_rel, best_abs = False, 0.0, np.inf
    pulsars_count = pending[g] == 0
    for i in range(ENEMY_SLOTS):
        kind = en_type[g, i]
        if not (kind == FLIPPER or (kind == PULSAR and pulsars_count)):
            continue
        depth = depth_byte(en_y[g, i])
        if depth == 0 or depth > TOP_RAIL_AVOID_DEPTH:
            continue
        rel = np.float64(lane_delta(player, en_lane[g, i], is_open))
        if depth <= RIM_DEPTH:
            rel = rim_position(rel, en_flipping[g, i] != 0, en_flip_step[g, i],
                               en_flip_steps[g, i], en_dir[g, i] == 1, is_open)
        if abs(rel) <= SAFE_DISTANCE and abs(rel) < best_abs:
            found, best_rel, best_abs = True, rel, abs(rel)
    for s in range(ENEMY_SHOTS):
        y = eshot_y[g, s]
        if y <= 0 or y > TOP_RAIL_AVOID_DEPTH * DEPTH_ONE:  # FIX 3: the shot's own 8.8 depth
            continue
        rel = np.float64(lane_delta(player, eshot_lane[g, s], is_open))
        if abs(rel) <= SAFE_DISTANCE and abs(rel) < best_abs:
            found, best_rel, best_abs = True, rel, abs(rel)
    return found, best_rel


# --- step 4: fuseball evasion --------------------------------------------------------------------
@numba.njit(cache=True)
def fuseball_escape(en_type, en_y, en_lane, en_away, g, player, is_open):
    """The lane to evade the closest fuseball at 0 < depth <= 0x50 that is not moving away and
    is within one lane: right (P+1) if it is in our lane or to the left, else left (P-1), the
    other side at an open edge; NO_LANE when there is none (or no lane to go to)."""
    found, best_rel = False, 0
    for i in range(ENEMY_SLOTS):
        if en_type[g, i] != FUSEBALL or not is_live(en_type, en_y, g, i):
            continue
        if depth_byte(en_y[g, i]) > FUSEBALL_NEAR_DEPTH or en_away[g, i] != 0:
            continue
        rel = lane_delta(player, en_lane[g, i], is_open)
        if abs(rel) <= 1 and (not found or abs(rel) < abs(best_rel)):
            found, best_rel = True, rel
    if not found:
        return NO_LANE
    direction = 1 if best_rel <= 0 else -1
    lane = step_lane(player, direction, is_open)
    return lane if lane != NO_LANE else step_lane(player, -direction, is_open)


# --- step 5: hunting -----------------------------------------------------------------------------
@numba.njit(cache=True)
def hunt_lane(en_type, en_y, en_lane, g, player, is_open):
    """hunt_enemies: the lane of the nearest enemy (min |rel|, ties to the shallower, then the
    lower slot) of the first type present in HUNT_ORDER; NO_LANE if none."""
    for kind in HUNT_ORDER:
        best, best_dist, best_depth = NO_LANE, LANES, 0x100
        for i in range(ENEMY_SLOTS):
            if en_type[g, i] != kind or not is_live(en_type, en_y, g, i):
                continue
            dist = abs(lane_delta(player, en_lane[g, i], is_open))
            depth = depth_byte(en_y[g, i])
            if dist < best_dist or (dist == best_dist and depth < best_depth):
                best, best_dist, best_depth = en_lane[g, i], dist, depth
        if best != NO_LANE:
            return best
    return NO_LANE


# --- step 6: the superzap heuristic --------------------------------------------------------------
@numba.njit(cache=True)
def superzap(en_type, en_y, zap_uses, pending, cooldown, g):
    """Whether to zap now.  The cooldown counts down only when this step is reached (early
    returns skip it); a zap restarts it at SUPERZAP_COOLDOWN.  1st zap: >= 3 enemies on the rim
    or nothing pending; 2nd zap: >= 1 on the rim or nothing pending; never with no enemy."""
    live, on_rim = 0, 0
    for i in range(ENEMY_SLOTS):
        if is_live(en_type, en_y, g, i):
            live += 1
            on_rim += depth_byte(en_y[g, i]) <= RIM_DEPTH
    if cooldown[g] > 0:
        cooldown[g] -= 1
    uses = zap_uses[g]
    if uses >= ZAP_USES_PER_WAVE or live == 0 or cooldown[g] != 0:
        return 0
    needed = FIRST_ZAP_RIM_ENEMIES if uses == 0 else SECOND_ZAP_RIM_ENEMIES
    if on_rim >= needed or pending[g] == 0:
        cooldown[g] = SUPERZAP_COOLDOWN
        return 1
    return 0


# --- output conversion ---------------------------------------------------------------------------
@numba.njit(cache=True)
def nearest_level(levels, value):
    """Index of the spinner level nearest to `value` (first in table order on a tie)."""
    best, best_err = 0, np.inf
    for k in range(levels.shape[0]):
        err = abs(levels[k] - value)
        if err < best_err:
            best, best_err = k, err
    return best


@numba.njit(cache=True)
def spinner_for(rel, levels):
    """The spinner value steering `rel` lanes: 0 if aligned, else intensity
    min(0.9, 0.3 + 0.05|rel|) x 32 quantised to the nearest level, NEGATIVE toward higher lanes.
    In practice always +-12 (11.2 .. 28.8 all round to 12)."""
    if rel == 0:
        return 0
    intensity = min(0.9, 0.3 + 0.05 * abs(rel)) * SPINNER_SCALE
    return levels[nearest_level(levels, -intensity if rel > 0 else intensity)]


@numba.njit(cache=True)
def _steer(player, target, is_open, streams, g, levels):
    rel = lane_delta(player, target, is_open)
    if not is_open and rel == LANES // 2 and _uniform(streams, g) < 0.5:  # FIX 2: own rng
        rel = -rel
    return spinner_for(rel, levels)


@numba.njit(cache=True)
def player_lane(player_pos, g, is_open):
    lane = player_pos[g] >> 4
    return min(lane, OPEN_LANES - 1) if is_open else lane


# --- the expert ----------------------------------------------------------------------------
@numba.njit(cache=True)
def tempest_decide(state, fire_prob, cooldown, streams, levels, fire, zap, spinner, target):
    """The expert of reference §3.2 for every game of `state` (read only).

    Args:
        state: the GameState of N games.
        fire_prob: the Bernoulli fire probability (0.95).
        cooldown: (N,) int32 superzap cooldowns, updated in place.
        streams: (N,) uint64 random streams of the expert, advanced in place.
        levels: the spinner levels (`actions.SPINNER_LEVELS`).
        fire, zap, spinner, target: (N,) int32 outputs.
    """
    # Helpers take arrays, never the GameState: numba passes a tuple by value and
    # reference-counts each of its ~60 arrays per call, which cost ~10x the whole decision.
    en_type, en_y, en_lane = state.en_type, state.en_y, state.en_lane
    for g in range(state.mode.shape[0]):
        is_open = state.is_open[g] != 0
        player = player_lane(state.player_pos, g, is_open)
        fire[g] = 1 if _uniform(streams, g) < fire_prob else 0
        zap[g] = 0
        if state.mode[g] == MODE_DROP:
            lane = zoom_lane(state.spike, g, player, is_open)
        else:
            threatened, rel = rim_threat(en_type, en_y, en_lane, state.en_flipping,
                                         state.en_flip_step, state.en_flip_steps, state.en_dir,
                                         state.eshot_y, state.eshot_lane, state.pending, g,
                                         player, is_open)
            if threatened:
                lane = _step_or_other_side(player, -1 if rel >= 0 else 1, is_open)
            elif state.mode[g] != MODE_PLAY:
                lane = player
            else:
                lane = fuseball_escape(en_type, en_y, en_lane, state.en_away, g, player, is_open)
                if lane == NO_LANE:
                    lane = hunt_lane(en_type, en_y, en_lane, g, player, is_open)
                    lane = player if lane == NO_LANE else lane
                    zap[g] = superzap(en_type, en_y, state.zap_uses, state.pending, cooldown, g)
        target[g] = lane
        spinner[g] = _steer(player, lane, is_open, streams, g, levels)


@numba.njit(cache=True)
def to_actions(fire, zap, spinner, levels, lookup, actions):
    """actions[g] = lookup[fire, zap, level of spinner]: the action set's index for each game."""
    for g in range(fire.shape[0]):
        actions[g] = lookup[fire[g], zap[g], nearest_level(levels, spinner[g])]
