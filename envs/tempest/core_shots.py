"""The player's claw and all shots: spinner movement, firing, shot movement with spike erosion,
enemy fire, and the player-shot collision test.  Reference §1.3, §1.4, §1.8.

Player shots live at integer depths (stored 8.8 with a zero fraction); a shot is tested against
the enemies (slots 6..0) and then the enemy shots (3..0) and may kill several in one test before
it dies.  The "rim" of the tests is the player's depth (CURSY), as in the arcade.
"""

from __future__ import annotations

import numba

from envs.tempest import (
    core_cache,  # noqa: F401  (registers the cache stamp first)
    rng,
)
from envs.tempest.core_base import (
    KILL_EXPLOSION_FRAMES,
    add_points,
    hit_window,
    is_alive,
    kill_player,
    live_enemy_shots,
    player_depth,
    player_lane,
    start_explosion,
)
from envs.tempest.core_slots import kill_enemy
from envs.tempest.state import (
    DEATH_SHOT,
    ENEMY_SHOTS,
    ENEMY_SLOTS,
    FUSEBALL,
    NO_ENEMY,
    PLAYER_SHOTS,
    SPIKER,
)
from envs.tempest.tables import SPIKE_HIT_POINTS

SPINNER_LIMIT = 31
OPEN_MAX_POS = 0xEF
SHOT_SPEED = 9
SHOT_SPEED_SLOWED = 5
"""After its first spike contact a shot moves +5 per frame (LIFECT)."""
SHOT_SPIKE_LIFE = 2
FUSEBALL_WINDOW = 6
ENEMY_FIRE_DEPTH = 0x30


@numba.njit(cache=True, _nrt=False)
def move_player(s, g: int, spinner: int) -> None:
    """MOVCUR: CURSPO -= TBHD (clamped to +-31); closed tubes wrap, open tubes clamp to 0..0xEF."""
    if not is_alive(s, g):
        return
    tbhd = min(max(spinner, -SPINNER_LIMIT), SPINNER_LIMIT)
    pos = s.player_pos[g] - tbhd
    if s.is_open[g] != 0:
        pos = min(max(pos, 0), OPEN_MAX_POS)
    else:
        pos &= 0xFF
    s.player_pos[g] = pos


@numba.njit(cache=True, _nrt=False)
def remove_shot(s, g: int, j: int) -> None:
    s.shot_y[g, j] = 0
    s.shot_hits[g, j] = 0


@numba.njit(cache=True, _nrt=False)
def collide_shot(s, k, g: int, j: int) -> None:  # noqa: C901 - COLCHK, case by case
    """COLCHK for player shot j: every enemy inside its type's depth window and every enemy shot
    inside CHACHA in the same lane.  Flipping enemies are hit from both lanes they straddle (the
    pivot line is either edge of the shot's lane); non-flipping ones only off the rim and in the
    shot's lane; fuseballs only while crossing, off the rim, on the shot's lane."""
    sw = s.skill_wave[g]
    depth = s.shot_y[g, j] >> 8
    lane = s.shot_lane[g, j]
    edge = (lane + 1) & 15
    rim = player_depth(s, g)
    hit = False
    for e in range(ENEMY_SLOTS - 1, -1, -1):
        etype = s.en_type[g, e]
        if etype == NO_ENEMY:
            continue
        en_depth = s.en_y[g, e] >> 8
        if etype == FUSEBALL:
            window = FUSEBALL_WINDOW
        elif etype == SPIKER:
            window = hit_window(k.spiker_speed[sw])
        else:
            window = hit_window(k.flipper_speed[sw])
        if abs(en_depth - depth) >= window:
            continue
        en_lane = s.en_lane[g, e]
        if etype == FUSEBALL:
            struck = en_depth != rim and en_lane == lane and s.en_flipping[g, e] != 0
        elif s.en_flipping[g, e] != 0:
            struck = en_lane == edge or en_lane == lane
        else:
            struck = en_depth != rim and en_lane == lane
        if struck:
            kill_enemy(s, k, g, e, False)
            hit = True
    window = hit_window(k.eshot_speed[sw])
    for q in range(ENEMY_SHOTS - 1, -1, -1):
        if s.eshot_y[g, q] == 0:
            continue
        if abs((s.eshot_y[g, q] >> 8) - depth) < window and s.eshot_lane[g, q] == lane:
            s.eshot_y[g, q] = 0
            start_explosion(s, g, KILL_EXPLOSION_FRAMES)
            hit = True
    if hit:
        remove_shot(s, g, j)


@numba.njit(cache=True, _nrt=False)
def fire_shot(s, k, g: int, fire: int) -> None:
    """FIREPC: while fire is held, one new shot per frame into the highest free slot, at the
    player's depth and lane, tested at once."""
    if fire == 0 or not is_alive(s, g):
        return
    for j in range(PLAYER_SHOTS - 1, -1, -1):
        if s.shot_y[g, j] == 0:
            s.shot_y[g, j] = player_depth(s, g) << 8
            s.shot_lane[g, j] = player_lane(s, g)
            s.shot_hits[g, j] = 0
            collide_shot(s, k, g, j)
            return


@numba.njit(cache=True, _nrt=False)
def erode_spike(s, g: int, j: int, depth: int) -> None:
    """A shot at or past its lane's spike tip pushes the tip back to its depth (removing it at
    the far end) for 1 point; the shot is spent after 2 contacts."""
    lane = s.shot_lane[g, j]
    tip = s.spike[g, lane]
    if tip == 0:
        return
    if depth >= tip:
        s.spike[g, lane] = depth if depth < 0xF0 else 0
        s.shot_hits[g, j] += 1
        add_points(s, g, SPIKE_HIT_POINTS)
    if s.shot_hits[g, j] >= SHOT_SPIKE_LIFE:
        remove_shot(s, g, j)


@numba.njit(cache=True, _nrt=False)
def move_shots(s, k, g: int) -> None:
    """MOVCHA: enemy shots (3..0) toward the rim, killing the player in his lane when they get
    there; then player shots (7..0) +9 (+5 once slowed by a spike), eroding spikes, gone at the
    far end."""
    rim = player_depth(s, g)
    speed = k.eshot_speed[s.skill_wave[g]]
    for q in range(ENEMY_SHOTS - 1, -1, -1):
        if s.eshot_y[g, q] == 0:
            continue
        y = s.eshot_y[g, q] - speed
        if (y >> 8) < rim:
            s.eshot_y[g, q] = 0
            if s.eshot_lane[g, q] == player_lane(s, g) and is_alive(s, g):
                kill_player(s, g, DEATH_SHOT)
        else:
            s.eshot_y[g, q] = y
    for j in range(PLAYER_SHOTS - 1, -1, -1):
        if s.shot_y[g, j] == 0:
            continue
        step = SHOT_SPEED_SLOWED if s.shot_hits[g, j] != 0 else SHOT_SPEED
        depth = (s.shot_y[g, j] >> 8) + step
        s.shot_y[g, j] = depth << 8
        erode_spike(s, g, j, depth)
        if s.shot_y[g, j] != 0 and depth >= 0xF0:
            remove_shot(s, g, j)


@numba.njit(cache=True, _nrt=False)
def enemies_fire(s, k, g: int) -> None:
    """FIREIC: an enemy at depth >= 0x30 with the can-fire bit counts down its holdoff; once it
    runs out, if not flipping and rand8 >= CHANCE[shots up], it fires from its depth and lane
    into the highest free usable slot and the holdoff restarts."""
    if not is_alive(s, g):
        return
    sw = s.skill_wave[g]
    shots_up = live_enemy_shots(s, g)
    for e in range(ENEMY_SLOTS - 1, -1, -1):
        if s.en_type[g, e] == NO_ENEMY or s.en_can_fire[g, e] == 0:
            continue
        depth = s.en_y[g, e] >> 8
        if depth < ENEMY_FIRE_DEPTH:
            continue
        holdoff = s.en_fire_holdoff[g, e] - 1
        if holdoff >= 0:
            s.en_fire_holdoff[g, e] = holdoff
            continue
        s.en_fire_holdoff[g, e] = 0
        if s.en_flipping[g, e] != 0:
            continue
        if rng.rand8(s.rng, g) < k.chance[shots_up]:
            continue
        for q in range(k.max_eshots[sw] - 1, -1, -1):
            if s.eshot_y[g, q] == 0:
                s.eshot_y[g, q] = depth << 8
                s.eshot_lane[g, q] = s.en_lane[g, e]
                s.en_fire_holdoff[g, e] = k.fire_holdoff[sw]
                shots_up += 1
                break


@numba.njit(cache=True, _nrt=False)
def collide_all(s, k, g: int) -> None:
    """COLLIS: every live player shot (7..0) is tested."""
    for j in range(PLAYER_SHOTS - 1, -1, -1):
        if s.shot_y[g, j] != 0:
            collide_shot(s, k, g, j)


@numba.njit(cache=True, _nrt=False)
def clear_shots(s, g: int) -> None:
    for j in range(PLAYER_SHOTS):
        remove_shot(s, g, j)
    for q in range(ENEMY_SHOTS):
        s.eshot_y[g, q] = 0
