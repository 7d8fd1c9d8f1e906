"""The Tempest ROM's own attract-mode AI as a numba kernel (`AUTOCU` + the attract branch of
`FIREPC`, `ALWELG:976-1005,2621-2645`, reference `tempest-mechanics.md` §3.4): steer +-9 toward
the enemy nearest the rim, fire when anything is within one lane, always fire during the drop,
never zap.  Writes the same `fire`, `zap`, `spinner`, `target` outputs as the scripted expert
(`tempest_rules.tempest_decide`), so `tempest_rules.to_actions` maps both onto an action set.
"""

from __future__ import annotations

import numba

from envs.tempest import core_cache  # noqa: F401  (stamps the kernels with their sources)
from envs.tempest.state import ALIVE, DEPTH_ONE, ENEMY_SHOTS, ENEMY_SLOTS, LANES, MODE_DROP
from expert.tempest_rules import NO_LANE, depth_byte, is_live, player_lane

ATTRACT_SPIN = 9
"""AUTOCU writes -9 / +9 (toward higher / lower lanes) into the spinner."""


@numba.njit(cache=True)
def _poldel(lane, player, is_open):
    """POLDEL: lane - player; on closed tubes wrapped to -8..+7 (an exact opposite is -8)."""
    delta = lane - player
    if is_open:
        return delta
    delta &= 0x0F
    return delta - LANES if delta & 0x08 else delta


@numba.njit(cache=True)
def _nearest_to_rim(en_type, en_y, g):
    """AUTOCU's pick: the live enemy with the smallest depth byte; slots scanned 6..0 with a
    strict `<`, so ties go to the highest slot.  NO_LANE if none."""
    nearest, nearest_depth = NO_LANE, 0xFF
    for i in range(ENEMY_SLOTS - 1, -1, -1):
        depth = depth_byte(en_y[g, i])
        if is_live(en_type, en_y, g, i) and depth < nearest_depth:
            nearest, nearest_depth = i, depth
    return nearest


@numba.njit(cache=True)
def _attract_fires(en_type, en_y, en_lane, eshot_y, eshot_lane, g, player):
    """The attract branch of FIREPC: any live enemy shot or enemy whose lane is within one of
    the player's by the raw difference |lane - CURSL1| < 2 (no wrap-around, as in the ROM)."""
    for s in range(ENEMY_SHOTS):
        if eshot_y[g, s] >= DEPTH_ONE and abs(eshot_lane[g, s] - player) < 2:
            return True
    for i in range(ENEMY_SLOTS):
        if is_live(en_type, en_y, g, i) and abs(en_lane[g, i] - player) < 2:
            return True
    return False


@numba.njit(cache=True)
def attract_decide(state, fire, zap, spinner, target):
    """The attract-mode AI (AUTOCU) for every game: steer +-9 along the shortest path toward
    the enemy nearest the rim, fire when anything is within one lane or during the drop, never
    zap (PROSUZ ignores the attract mode).  A dead player neither moves nor fires (MOVCUR and
    FIREPC return early)."""
    en_type, en_y, en_lane = state.en_type, state.en_y, state.en_lane
    for g in range(state.mode.shape[0]):
        is_open = state.is_open[g] != 0
        player = player_lane(state.player_pos, g, is_open)
        zap[g], spinner[g], target[g], fire[g] = 0, 0, player, 0
        if state.death_cause[g] != ALIVE:
            continue
        nearest = _nearest_to_rim(en_type, en_y, g)
        if nearest != NO_LANE:
            target[g] = en_lane[g, nearest]
            delta = _poldel(target[g], player, is_open)
            spinner[g] = -ATTRACT_SPIN if delta > 0 else (ATTRACT_SPIN if delta < 0 else 0)
        if state.mode[g] == MODE_DROP or _attract_fires(en_type, en_y, en_lane, state.eshot_y,
                                                        state.eshot_lane, g, player):
            fire[g] = 1
