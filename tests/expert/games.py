"""Hand-built Tempest game states for the experts' tests: a player mid-lane, enemies and enemy
shots placed by slot, lane and depth."""

from __future__ import annotations

import numpy as np

from envs.tempest import state as S
from envs.tempest.actions import ACTION_SETS
from expert.tempest import tempest_decisions
from expert.tempest_rules import seed_streams

JOINT = ACTION_SETS["joint"]
P = 5
"""The player's lane in most tests."""


def game(lane: int = P, mode: int = S.MODE_PLAY, is_open: int = 0, pending: int = 5,
         zap_uses: int = 0, n: int = 1) -> S.GameState:
    """n identical games with the player mid-lane and no enemies."""
    st = S.allocate(n)
    st.mode[:], st.is_open[:], st.pending[:], st.zap_uses[:] = mode, is_open, pending, zap_uses
    st.player_pos[:] = lane * 16 + 8
    st.player_y[:] = S.RIM
    return st


def enemy(st, slot, kind, depth, lane, g=0, flipping=0, step=0, steps=8, toward_higher=0,
          away=0):
    """Puts an enemy in `slot` at integer depth `depth` (0x10 = rim)."""
    st.en_type[g, slot], st.en_y[g, slot], st.en_lane[g, slot] = kind, depth << 8, lane
    st.en_flipping[g, slot], st.en_flip_step[g, slot] = flipping, step
    st.en_flip_steps[g, slot], st.en_dir[g, slot], st.en_away[g, slot] = steps, toward_higher, away


def shot(st, slot, depth_88, lane, g=0):
    st.eshot_y[g, slot], st.eshot_lane[g, slot] = depth_88, lane


def decide(st, seed=0, fire_prob=0.95, cooldown=None):
    cooldown = np.zeros(st.mode.shape[0], np.int32) if cooldown is None else cooldown
    return tempest_decisions(st, cooldown, seed_streams(seed, st.mode.shape[0]), fire_prob)


def target(st, **kw) -> int:
    return int(decide(st, **kw).target[0])


def random_games(n: int, seed: int) -> S.GameState:
    """Busy random games for the determinism and read-only checks."""
    rng = np.random.default_rng(seed)
    st = game(n=n)
    st.mode[:] = rng.choice([S.MODE_PLAY] * 6 + [S.MODE_DROP, S.MODE_PAUSE], n)
    st.is_open[:] = rng.integers(0, 2, n)
    st.player_pos[:] = rng.integers(0, 0xF0, n)
    st.pending[:] = rng.integers(0, 3, n)
    st.zap_uses[:] = rng.integers(0, 3, n)
    st.spike[:] = np.where(rng.random((n, 16)) < 0.5, rng.integers(0x20, 0xF2, (n, 16)), 0)
    live = rng.random((n, 7)) < 0.7
    st.en_type[:] = np.where(live, rng.integers(0, 5, (n, 7)), S.NO_ENEMY)
    st.en_y[:] = np.where(live, rng.integers(S.RIM, S.FAR_END, (n, 7)), 0)
    st.en_lane[:] = rng.integers(0, 16, (n, 7))
    st.en_flipping[:] = rng.integers(0, 2, (n, 7))
    st.en_flip_steps[:] = 8
    st.en_flip_step[:] = rng.integers(0, 9, (n, 7))
    st.en_dir[:] = rng.integers(0, 2, (n, 7))
    st.en_away[:] = rng.integers(0, 2, (n, 7))
    st.eshot_y[:] = np.where(rng.random((n, 4)) < 0.5, rng.integers(S.RIM, S.FAR_END, (n, 4)), 0)
    st.eshot_lane[:] = rng.integers(0, 16, (n, 4))
    st.rng[:] = rng.integers(1, 2**63, n, dtype=np.int64).astype(np.uint64)
    return st
