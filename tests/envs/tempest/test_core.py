"""The rules core (`envs.tempest.core`): its API, determinism, the rng, and the shared scenario
helpers the other `test_core_*.py` files import.

Scenarios are built by writing state fields directly into a "quiet" game (nothing pending, no
spikes, the claw parked in a chosen lane), then stepping.  Expected numbers are hand-computed
from reference `tempest-mechanics.md` §1 and commented where they are derived.
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.tempest import core, rng
from envs.tempest.core_cam import CAM_ENTRY, CAM_TOPPER, LABELS
from envs.tempest.state import (
    ALIVE,
    FAR_END,
    MODE_GAME_OVER,
    MODE_PLAY,
    NO_ENEMY,
    RIM,
    allocate,
    copy,
    states_equal,
)

SPIN_LEVELS = np.array([0, 12, 9, 6, 3, 1, -1, -3, -6, -9, -12], np.int32)


# -- helpers shared by the core tests --------------------------------------------------------------

def quiet_game(wave: int, lane: int = 15, seed: int = 1, games: int = 1):
    """Games at `wave` with no spikes and one pending enemy 255 frames away (so the wave does
    not end while a scenario runs), the claw in the middle of `lane`."""
    s = allocate(games)
    core.seed_games(s, np.arange(seed, seed + games, dtype=np.int64))
    core.new_games(s, np.ones(games, bool), wave)
    s.pending[:] = 1
    s.pend_timer[:] = 0
    s.pend_timer[:, 0] = 0xFF
    s.spike[:] = 0
    s.player_pos[:] = lane * 16 + 8
    return s


def put_enemy(s, slot: int, etype: int, lane: int, depth: int, cam: int, label: str | None = None,
              g: int = 0, **fields) -> None:
    """Writes an enemy into a slot: integer depth, cam program (entry, or a label's pc)."""
    s.en_type[g, slot] = etype
    s.en_lane[g, slot] = lane
    s.en_y[g, slot] = depth << 8
    s.en_cam[g, slot] = cam
    s.en_cam_pc[g, slot] = LABELS[label] if label else CAM_ENTRY[cam]
    for name in ("en_flipping", "en_flip_step", "en_flip_steps", "en_flip_angle", "en_dir",
                 "en_away", "en_can_fire", "en_cargo", "en_chaser", "en_cam_loop",
                 "en_fire_holdoff"):
        getattr(s, name)[g, slot] = fields.pop(name[3:], 0)
    assert not fields, f"unknown fields {fields}"


def put_rim_chaser(s, slot: int, etype: int, lane: int, g: int = 0, **fields) -> None:
    """An enemy stuck to the rim, at the start of its TOPPER program (crouching)."""
    put_enemy(s, slot, etype, lane, 0x10, CAM_TOPPER, "topper", g=g, chaser=1, **fields)


def step(s, frames: int = 1, fire: int = 0, zap: int = 0, spin: int = 0) -> None:
    n = s.mode.shape[0]
    for _ in range(frames):
        core.step_games(s, np.full(n, fire, np.int32), np.full(n, zap, np.int32),
                        np.full(n, spin, np.int32))


def run_random(s, frames: int, actions_seed: int, wave: int, check=None) -> None:
    """Random joint actions; deaths are resolved and finished games restarted at `wave`."""
    n = s.mode.shape[0]
    gen = np.random.default_rng(actions_seed)
    for f in range(frames):
        fire = gen.integers(0, 2, n).astype(np.int32)
        zap = (gen.random(n) < 0.02).astype(np.int32)
        spin = SPIN_LEVELS[gen.integers(0, len(SPIN_LEVELS), n)]
        core.step_games(s, fire, zap, spin)
        if check is not None:
            check(s, f)
        dead = s.death_cause != ALIVE
        if dead.any():
            core.finish_life(s, dead)
        over = s.mode == MODE_GAME_OVER
        if over.any():
            core.new_games(s, over, wave)


# -- rng -------------------------------------------------------------------------------------------

def test_rng_is_seeded_per_game_and_reproducible():
    a = np.zeros(3, np.uint64)
    b = np.zeros(3, np.uint64)
    for g, seed in enumerate((0, 1, -5)):
        rng.seed_stream(a, g, seed)
        rng.seed_stream(b, g, seed)
    assert len(set(a.tolist())) == 3 and 0 not in a.tolist()
    draws_a = [rng.rand8(a, 0) for _ in range(100)]
    draws_b = [rng.rand8(b, 0) for _ in range(100)]
    assert draws_a == draws_b
    assert all(0 <= d <= 255 for d in draws_a) and len(set(draws_a)) > 50
    assert all(0 <= rng.rand_below(a, 1, 7) < 7 for _ in range(200))
    hits = sum(rng.bernoulli(a, 2, 0.25) for _ in range(4000))
    assert 800 < hits < 1200


# -- API -------------------------------------------------------------------------------------------

def test_new_game_sets_up_the_wave():
    s = allocate(2)
    core.seed_games(s, np.array([3, 4]))
    core.new_games(s, np.array([True, False]), 8)  # wave 8: V tube (open), 24 enemies, 0xC8
    assert s.mode[0] == MODE_PLAY and s.mode[1] == 0  # game 1 untouched
    assert (s.score[0], s.lives[0], s.next_bonus[0], s.frame[0]) == (0, 3, 20_000, 0)
    assert s.wave[0] == 8 and s.tube[0] == 7 and s.is_open[0] == 1
    assert s.player_pos[0] == 0xEF  # CURSPO 0xF0 clamped: lane 14 of the open tube
    assert s.player_y[0] == RIM
    assert s.pending[0] == 24 and (s.pend_timer[0] > 0).sum() == 24
    assert (s.spike[0] == 0xC8).all()
    assert (s.en_type[0] == NO_ENEMY).all() and s.zap_uses[0] == 0


def test_waves_from_99_play_a_random_wave_65_to_96():
    s = allocate(64)
    core.seed_games(s, np.arange(64))
    core.new_games(s, np.ones(64, bool), 99)
    assert (s.wave == 99).all()
    assert ((s.skill_wave >= 65) & (s.skill_wave <= 96)).all() and len(set(s.skill_wave)) > 10
    assert (s.tube == core.RULES.tube[s.skill_wave]).all()
    assert (s.pending == core.RULES.enemies[s.skill_wave]).all()


def test_the_core_cache_is_stamped_with_all_core_sources():
    from numba.core import caching

    from envs.tempest import core_cache
    assert caching.CacheImpl._locator_classes[0].__name__ == "CoreSourcesLocator"
    assert len(core_cache.sources_digest()) == 32


def test_pending_countdowns_follow_ininym():
    s = quiet_game(1)
    core.new_games(s, np.ones(1, bool), 1)
    lanes = s.pend_lane[0, :10]
    expected = (np.arange(10) << 4) | lanes
    expected[expected == 0] = 0x0F
    assert (s.pend_timer[0, :10] == expected).all()
    assert (s.pend_timer[0, 10:] == 0).all()


def test_dead_and_finished_games_are_not_stepped():
    s = quiet_game(1, games=2)
    s.death_cause[0] = 4
    s.mode[1] = MODE_GAME_OVER
    before = copy(s)
    step(s, 5, fire=1, spin=12)
    assert states_equal(s, before)


def test_step_keeps_previous_slot_values():
    s = quiet_game(1)
    put_enemy(s, 3, 0, 4, 0x80, 0)
    step(s)
    assert s.en_prev_type[0, 3] == 0 and s.en_prev_lane[0, 3] == 4
    assert s.en_prev_y[0, 3] == 0x8000 and s.en_prev_lane[0, 2] == -1
    assert s.en_y[0, 3] == 0x8000 - 352  # wave 1 flippers climb 1.375 = 352/256 per frame
    assert s.frame[0] == 1 and s.episode_frame[0] == 1


# -- determinism -----------------------------------------------------------------------------------

@pytest.mark.parametrize("wave", [1, 9, 17, 40, 99])
def test_same_seeds_and_actions_give_identical_games(wave):
    a = allocate(8)
    core.seed_games(a, np.arange(8) + 100)
    core.new_games(a, np.ones(8, bool), wave)
    b = copy(a)
    run_random(a, 3000, actions_seed=wave, wave=wave)
    run_random(b, 3000, actions_seed=wave, wave=wave)
    assert states_equal(a, b)
    assert a.frame.sum() > 0 and a.score.sum() > 0


def test_different_seeds_diverge():
    a = allocate(4)
    core.seed_games(a, np.arange(4))
    core.new_games(a, np.ones(4, bool), 5)
    b = allocate(4)
    core.seed_games(b, np.arange(4) + 50)
    core.new_games(b, np.ones(4, bool), 5)
    assert not np.array_equal(a.pend_lane, b.pend_lane)
    run_random(a, 300, actions_seed=1, wave=5)
    run_random(b, 300, actions_seed=1, wave=5)
    assert not states_equal(a, b)


def test_a_game_does_not_depend_on_its_neighbours():
    """Game 0 of a batch plays exactly as the same game alone (per-game rng streams)."""
    batch = allocate(3)
    core.seed_games(batch, np.array([11, 12, 13]))
    core.new_games(batch, np.ones(3, bool), 3)
    alone = allocate(1)
    core.seed_games(alone, np.array([11]))
    core.new_games(alone, np.ones(1, bool), 3)
    gen = np.random.default_rng(5)
    for _ in range(600):
        fire, spin = int(gen.integers(0, 2)), int(SPIN_LEVELS[gen.integers(0, 11)])
        core.step_games(batch, np.array([fire, 1, 0], np.int32), np.zeros(3, np.int32),
                        np.array([spin, -3, 6], np.int32))
        core.step_games(alone, np.array([fire], np.int32), np.zeros(1, np.int32),
                        np.array([spin], np.int32))
    for name in ("score", "frame", "en_y", "en_lane", "shot_y", "rng", "death_cause"):
        assert np.array_equal(getattr(batch, name)[0], getattr(alone, name)[0]), name


# -- smoke -----------------------------------------------------------------------------------------

def _check_ranges(s, frame: int) -> None:
    if frame % 25:
        return
    live = s.en_type != NO_ENEMY
    assert ((s.en_y >= RIM) & (s.en_y <= FAR_END))[live].all()
    assert (s.en_y[~live] == 0).all()
    assert ((s.en_lane >= 0) & (s.en_lane <= 15)).all()
    non_fuse_open = live & (s.en_type != 4) & (s.is_open[:, None] == 1)
    assert (s.en_lane[non_fuse_open] <= 14).all()
    flipping = live & (s.en_flipping == 1)
    assert (s.en_flip_step[flipping] <= s.en_flip_steps[flipping]).all()
    assert ((s.player_pos >= 0) & (s.player_pos <= 255)).all()
    assert (s.player_pos[s.is_open == 1] <= 0xEF).all()
    for ys in (s.shot_y, s.eshot_y):
        assert ((ys == 0) | ((ys >= RIM) & (ys < FAR_END + 256))).all()
    assert (s.shot_y & 0xFF == 0).all()
    assert (s.explosions == (s.expl_timer > 0).sum(axis=1)).all()
    assert (s.pending == (s.pend_timer > 0).sum(axis=1)).all()
    assert ((s.pending >= 0) & (s.pending <= 63)).all()
    assert ((s.zap_uses >= 0) & (s.zap_uses <= 2)).all()
    assert ((s.lives >= 0) & (s.lives <= 6)).all()
    assert ((s.spike == 0) | ((s.spike >= 0x10) & (s.spike <= 0xF1))).all()
    assert ((s.wave >= 1) & (s.wave <= 99)).all()
    max_eshots = core.RULES.max_eshots[s.skill_wave]
    for q in range(4):
        assert (s.eshot_y[max_eshots <= q, q] == 0).all()


def test_smoke_256_games_5000_frames_keep_every_field_in_range():
    s = allocate(256)
    core.seed_games(s, np.arange(256))
    waves = np.array([1, 5, 9, 13, 17, 25, 33, 49, 65, 99])
    for w in waves:
        core.new_games(s, np.arange(256) % len(waves) == np.flatnonzero(waves == w)[0], int(w))
    run_random(s, 5000, actions_seed=0, wave=13, check=_check_ranges)
    assert (s.kills.sum(axis=0) > 0).sum() >= 4  # kills since each game's last restart
