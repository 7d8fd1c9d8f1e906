"""The rules of Tempest (Atari, 1981) as a numba core that advances N games per call.

Public API (everything else here is internal):

* `seed_games(state, seeds)`: each game's random stream from an int64 seed (splitmix64).
* `new_games(state, mask, start_wave)`: fresh games (score 0, 3 lives, player at CURSPO 0xF0)
  at `start_wave`; their random streams continue.
* `step_games(state, fire, zap, spinner)`: one game frame for every game that is neither over
  nor dead.  fire/zap are held buttons (zap acts on its press edge); spinner is TBHD, clamped to
  +-31, positive toward lower lanes.
* `finish_life(state, mask)`: the end of a life of the masked dead games, at once.

The frame follows the arcade's order (reference §1.1).  A play frame: move the claw, fire, the
superzapper, the pending queue, every enemy's cam program (rim kills happen here) and the pulse
oscillator, the shots (enemy shots reaching the rim kill), enemy fire, player-shot collisions,
explosions, then the end-of-wave test.  A drop frame: move the claw, descend (spike death),
explosions, fire, the shots.  The sub-steps live in `core_shots`, `core_spawn`, `core_enemies`
and `core_flow`; the cam programs in `core_cam`; per-game randomness in `rng`.

Frames the player cannot act in are not stepped (reference §5.2 allows it; the arcade and the
system this replaces do count them): the pause before a new life, the 30-frame "AVOID SPIKES"
pause before some drops, the zoom onto a new wave and the death animation (replaced by
`finish_life`).  So the step after the one that passes the tube's end is the new wave's first
play frame, and a death freezes the game (frame counters included) until `finish_life`.  The
frame in which the player dies is completed as in the arcade (later enemies still move, shots
still fly and score); the first death cause of the frame is the one recorded.

Speed: the kernels run without numba's reference counting (`_nrt=False`; they never allocate)
and release the GIL.  With reference counting on, every call of a helper that receives the
~80-array `GameState` pays about a microsecond of increments and decrements, which made the core
~15x slower.  On the 2-core development machine the bare kernel steps ~0.8-1.1 M game frames/s
for 256 games, single-threaded.

Deliberate simplifications, each documented where it lives: explosions are 8 slots with the
arcade's lengths (6 frames, 11 for a shot fuseball) that only delay the end of a wave; the
pending lane reservation uses one bit per lane; depths set explicitly drop their 8-bit fraction;
the rim-chaser count is recomputed from the slots (the arcade's counter can drift when a
bouncing pulsar is shot on the rim); a superzapper press during the drop is ignored (the zap is
off there) and a latched press does not survive into the next wave; in-flight shots after a
death do not score (the death animation is skipped).

Where the arcade's code and reference §1 disagree, the code wins (both read from the ROM's cam
program and routines): a fuseball's lane crossing steps once every 4 frames (28 frames for the
7 steps, not 3 x 7), and a climbing fuseball with enemies pending crosses below 0x20 up to wave
17 (the arcade tests CURWAV < 17, i.e. wave <= 17).
"""

from __future__ import annotations

import numba
import numpy as np

from envs.tempest import (
    core_cache,  # noqa: F401  (registers the cache stamp first)
    rng,
)
from envs.tempest.core_base import RULES, Rules, player_lane, tick_explosions
from envs.tempest.core_cam import CAM_FUSEBALL, CAM_PULSAR, CAM_SPIKER, CAM_TOPPER
from envs.tempest.core_enemies import move_enemies
from envs.tempest.core_flow import (
    descend_player,
    end_life,
    new_game,
    start_drop,
    superzap,
    wave_is_over,
)
from envs.tempest.core_shots import (
    collide_all,
    enemies_fire,
    fire_shot,
    move_player,
    move_shots,
)
from envs.tempest.core_spawn import SCRATCH_SIZE, tick_pending
from envs.tempest.skill import (
    CAM_AVOIDR,
    CAM_COWJM2,
    CAM_MOVJMP,
    CAM_NOJUMP,
    CAM_SPIRAL,
    CAM_SPIRCH,
)
from envs.tempest.state import (
    ALIVE,
    ENEMY_SLOTS,
    MODE_DROP,
    MODE_GAME_OVER,
    NO_ENEMY,
    GameState,
)

__all__ = [
    "CAM_AVOIDR", "CAM_COWJM2", "CAM_FUSEBALL", "CAM_MOVJMP", "CAM_NOJUMP", "CAM_PULSAR",
    "CAM_SPIKER", "CAM_SPIRAL", "CAM_SPIRCH", "CAM_TOPPER", "RULES", "Rules", "finish_life",
    "new_games", "seed_games", "step_games",
]


# -- one frame of one game -------------------------------------------------------------------------

@numba.njit(cache=True, _nrt=False)
def remember_previous(s, g: int) -> None:
    """The slots and lane one frame earlier (velocity features)."""
    s.player_prev_lane[g] = player_lane(s, g)
    for e in range(ENEMY_SLOTS):
        etype = s.en_type[g, e]
        s.en_prev_type[g, e] = etype
        s.en_prev_lane[g, e] = s.en_lane[g, e] if etype != NO_ENEMY else -1
        s.en_prev_y[g, e] = s.en_y[g, e] if etype != NO_ENEMY else 0


@numba.njit(cache=True, _nrt=False)
def play_frame(s, k, g: int, fire: int, zap_pressed: bool, spinner: int,
               scratch: np.ndarray) -> None:
    """PLAY (§1.1 order)."""
    move_player(s, g, spinner)
    fire_shot(s, k, g, fire)
    superzap(s, k, g, zap_pressed)
    tick_pending(s, k, g, scratch)
    move_enemies(s, k, g)
    move_shots(s, k, g)
    enemies_fire(s, k, g)
    collide_all(s, k, g)
    tick_explosions(s, g)
    if wave_is_over(s, g):
        start_drop(s, g)


@numba.njit(cache=True, _nrt=False)
def drop_frame(s, k, g: int, fire: int, spinner: int) -> None:
    """PLDROP; passing the far end sets up the next wave and ends the frame there."""
    move_player(s, g, spinner)
    if descend_player(s, k, g):
        return
    tick_explosions(s, g)
    fire_shot(s, k, g, fire)
    move_shots(s, k, g)


@numba.njit(cache=True, nogil=True, _nrt=False)
def _step_kernel(s, k, fire: np.ndarray, zap: np.ndarray, spinner: np.ndarray,
                 scratch: np.ndarray) -> None:
    for g in range(s.mode.shape[0]):
        if s.mode[g] == MODE_GAME_OVER or s.death_cause[g] != ALIVE:
            continue
        remember_previous(s, g)
        pressed = zap[g] != 0 and s.zap_held[g] == 0
        s.zap_held[g] = 1 if zap[g] != 0 else 0
        if s.mode[g] == MODE_DROP:
            drop_frame(s, k, g, fire[g], spinner[g])
        else:
            play_frame(s, k, g, fire[g], pressed, spinner[g], scratch)
        s.frame[g] += 1
        s.episode_frame[g] += 1


@numba.njit(cache=True, nogil=True, _nrt=False)
def _new_games_kernel(s, k, mask: np.ndarray, start_waves: np.ndarray) -> None:
    for g in range(s.mode.shape[0]):
        if mask[g]:
            new_game(s, k, g, start_waves[g])


@numba.njit(cache=True, nogil=True, _nrt=False)
def _finish_life_kernel(s, mask: np.ndarray) -> None:
    for g in range(s.mode.shape[0]):
        if mask[g] and s.death_cause[g] != ALIVE and s.mode[g] != MODE_GAME_OVER:
            end_life(s, g)


@numba.njit(cache=True, nogil=True, _nrt=False)
def _seed_kernel(state_rng: np.ndarray, seeds: np.ndarray) -> None:
    for g in range(state_rng.shape[0]):
        rng.seed_stream(state_rng, g, seeds[g])


# -- public API ------------------------------------------------------------------------------------

def seed_games(state: GameState, seeds: np.ndarray) -> None:
    """Sets every game's random stream from `seeds` (int64 (N,)) through splitmix64."""
    _seed_kernel(state.rng, np.ascontiguousarray(seeds, dtype=np.int64))


def new_games(state: GameState, mask: np.ndarray, start_wave: int | np.ndarray) -> None:
    """Fresh games where `mask` (bool (N,)): score 0, 3 lives, next bonus at 20,000, frame 0,
    the claw at CURSPO 0xF0 (clamped on open tubes), wave `start_wave` (one for all, or int
    (N,) one per game) set up (skill row, pending queue, spikes, superzapper), the skill-step
    bonus owed, mode PLAY.  Their random streams continue."""
    waves = np.broadcast_to(np.asarray(start_wave, np.int64), mask.shape)
    _new_games_kernel(state, RULES, np.ascontiguousarray(mask, dtype=np.bool_),
                      np.ascontiguousarray(waves))


def step_games(state: GameState, fire: np.ndarray, zap: np.ndarray,
               spinner: np.ndarray) -> None:
    """One frame of every game that is not over and not dead (module docstring); fire, zap
    and spinner are int32 (N,)."""
    _step_kernel(state, RULES, np.ascontiguousarray(fire, dtype=np.int32),
                 np.ascontiguousarray(zap, dtype=np.int32),
                 np.ascontiguousarray(spinner, dtype=np.int32), np.zeros(SCRATCH_SIZE, np.int32))


def finish_life(state: GameState, mask: np.ndarray) -> None:
    """The end-of-life sequence, at once, for the masked games that are dead: their live
    enemies go back into the pending queue (capped at 63) with fresh countdowns, shots are
    cleared, spikes and superzapper uses persist, one life is lost; with lives left the claw
    respawns at CURSPO 0xF0 on the rim of the same wave (also after a death in the drop),
    otherwise the game is over (MODE_GAME_OVER)."""
    _finish_life_kernel(state, np.ascontiguousarray(mask, dtype=np.bool_))
