"""The state of N Tempest games as a struct of arrays: the contract between the simulator's parts.

Every field is one numpy array whose first axis is the game index, so the numba kernels
(`core.step_games`, `features.observe`, `reward.compute_rewards`, the expert in `expert/tempest.py`
and the renderer) take one `GameState` and loop over games without any Python object per game.
A `GameState` is a `NamedTuple`, which numba accepts as an argument and which pickles as plain
arrays; `take(state, i)` cuts out game i as a state of one game (what `TempestEnv` holds).

Units follow the original 6502 code (reference `tempest-mechanics.md` §1), so the rules can be
written as the reference states them:

* Depths are **8.8 fixed point** (`value * 256`): `RIM` = 0x10 << 8 is the top rim where the player
  sits, `FAR_END` = 0xF0 << 8 the far end, 0 means "slot empty".  Spikes (`spike`) are the integer
  `LINEY` tip depth (0 = no spike; 0xF1 = a fresh spike base).
* Lanes are 0..15; "line" k is the spoke between lane k-1 and lane k.  `player_pos` is the 8-bit
  spinner accumulator `CURSPO` (16 sub-steps per lane; lane = pos >> 4).
* Enemy types are `FLIPPER`..`FUSEBALL` (the low bits of `INVAC1`), `NO_ENEMY` = -1 for a free
  slot.  While an enemy flips (`en_flipping`), `en_lane` is the pivot line (`INVAL1`), as in the
  original, and `en_flip_step` / `en_flip_steps` say how far through the flip it is.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

# --- geometry and depths (8.8 fixed point) -------------------------------------------------------
LANES = 16
OPEN_LANES = 15
"""Open (planar) tubes have lanes 0..14 only; the player is clamped to CURSPO <= 0xEF."""
DEPTH_ONE = 256
RIM_DEPTH = 0x10
"""Integer depth of the rim, where the player's claw moves (CURSY while playing); enemies at
depth <= this are on the rim."""
FAR_DEPTH = 0xF0
"""Integer depth of the tube's far end, where enemies enter."""
RIM = RIM_DEPTH * DEPTH_ONE
FAR_END = FAR_DEPTH * DEPTH_ONE
ENEMY_SLOTS = 7
PLAYER_SHOTS = 8
ENEMY_SHOTS = 4
EXPLOSION_SLOTS = 8
"""The arcade's 8 explosion slots; running explosions delay the end of a wave."""
PENDING_SLOTS = 64
"""The pending queue ("nymphs") holds at most 63 enemies (`NYMCOU` is capped at 63)."""

# --- enemy types (INVAC1 bits 0-2) ---------------------------------------------------------------
NO_ENEMY = -1
FLIPPER, PULSAR, TANKER, SPIKER, FUSEBALL = 0, 1, 2, 3, 4
ENEMY_TYPES = 5
TYPE_NAMES = ("flipper", "pulsar", "tanker", "spiker", "fuseball")

# --- game modes (QSTATE codes, reference §1.1) ---------------------------------------------------
MODE_PLAY = 0x04
MODE_END_OF_LIFE = 0x06
MODE_PAUSE = 0x0A
MODE_DROP = 0x20
MODE_GAME_OVER = 0xFF
"""Not a QSTATE code: the game has ended and waits for a reset."""

# --- death causes (reference §1.9) ----------------------------------------------------------------
ALIVE = 0
DEATH_GRABBED = 1
"""A rim flipper (or pulsar) crouched in the player's lane (KITST)."""
DEATH_PULSE = 2
"""A pulsing pulsar in the player's lane below PULPOT."""
DEATH_FUSEBALL = 3
"""A fuseball at the rim on the player's line."""
DEATH_SHOT = 4
"""An enemy shot reached the rim in the player's lane."""
DEATH_SPIKE = 5
"""The player hit a spike during the drop."""
DEATH_CAUSES = ("alive", "grabbed", "pulse", "fuseball", "shot", "spike")


class GameState(NamedTuple):
    """N games, one array per field, first axis = game.  See the module docstring for units."""

    # -- per game ---------------------------------------------------------------------------------
    rng: np.ndarray
    """uint64 (N,): the game's random generator state (xorshift64*, seeded by splitmix64); every
    random choice of the game draws from here (experts keep their own generators, so labelling
    a state never changes the game)."""
    mode: np.ndarray
    """int32 (N,): MODE_* code."""
    mode_timer: np.ndarray
    """int32 (N,): frames left in a timed mode (pause, end of life); 0 otherwise."""
    frame: np.ndarray
    """int64 (N,): game frames since the game started."""
    episode_frame: np.ndarray
    """int64 (N,): game frames since the current episode started (a life, with episodic life)."""
    wave: np.ndarray
    """int32 (N,): the wave, 1-based (1..99)."""
    tube: np.ndarray
    """int32 (N,): the tube index 0..15 (`lev_remap[(wave-1) % 16]`)."""
    is_open: np.ndarray
    """int32 (N,): 1 on an open (planar) tube with 15 lanes, else 0."""
    score: np.ndarray
    """int64 (N,): game points so far (the 6-digit score, never wrapped here)."""
    next_bonus: np.ndarray
    """int64 (N,): the score at which the next bonus life is given."""
    start_bonus: np.ndarray
    """int64 (N,): the skill-step bonus still owed to a game started past wave 1, paid (and
    zeroed) when its first wave is cleared."""
    lives: np.ndarray
    """int32 (N,): lives left, the current one included."""
    player_pos: np.ndarray
    """int32 (N,): CURSPO, 0..255; lane = player_pos >> 4."""
    player_prev_lane: np.ndarray
    """int32 (N,): the player's lane one frame earlier (lane-change shaping, features)."""
    player_y: np.ndarray
    """int32 (N,): the player's depth (8.8); RIM while playing, deeper during the drop."""
    drop_speed: np.ndarray
    """int32 (N,): the drop's speed (8.8 depth units per frame)."""
    death_cause: np.ndarray
    """int32 (N,): ALIVE or DEATH_* of the current life."""
    zap_uses: np.ndarray
    """int32 (N,): superzapper uses this wave (SUZCNT, 0..2)."""
    zap_timer: np.ndarray
    """int32 (N,): SUZTIM; 0 = no zap running."""
    zap_held: np.ndarray
    """int32 (N,): the zap button as held on the previous frame (zap is edge-triggered)."""
    pending: np.ndarray
    """int32 (N,): enemies still in the pending queue (NYMCOU)."""
    pending_at_start: np.ndarray
    """int32 (N,): NYMCOU at the start of the wave (the superzap penalty's denominator)."""
    pulse_phase: np.ndarray
    """int32 (N,): PULSON, signed; the pulse is on while >= 0."""
    pulse_step: np.ndarray
    """int32 (N,): PULTIM, signed step added to the phase each frame."""
    explosions: np.ndarray
    """int32 (N,): explosions still running (they delay the end of the wave)."""
    kills: np.ndarray
    """int32 (N, ENEMY_TYPES): enemies of each type destroyed this game (statistics)."""

    # -- per lane ---------------------------------------------------------------------------------
    spike: np.ndarray
    """int32 (N, 16): LINEY, the spike tip depth in each lane as an integer 0x20..0xF1; 0 = none."""

    # -- pending queue ----------------------------------------------------------------------------
    pend_lane: np.ndarray
    """int32 (N, PENDING_SLOTS): NYMPL, the lane each pending enemy will enter in."""
    pend_timer: np.ndarray
    """int32 (N, PENDING_SLOTS): NYMPY, the countdown to its entry; 0 = slot unused."""

    # -- player shots -----------------------------------------------------------------------------
    shot_y: np.ndarray
    """int32 (N, 8): player shot depth (8.8); 0 = free slot."""
    shot_lane: np.ndarray
    """int32 (N, 8): the lane the shot travels in."""
    shot_hits: np.ndarray
    """int32 (N, 8): spike contacts so far (LIFECT); a shot is spent after 2."""

    # -- enemy shots ------------------------------------------------------------------------------
    eshot_y: np.ndarray
    """int32 (N, 4): enemy shot depth (8.8); 0 = free slot."""
    eshot_lane: np.ndarray
    """int32 (N, 4): the lane of the enemy shot."""

    # -- enemies ----------------------------------------------------------------------------------
    en_type: np.ndarray
    """int32 (N, 7): FLIPPER..FUSEBALL, or NO_ENEMY for a free slot."""
    en_y: np.ndarray
    """int32 (N, 7): depth (8.8), INVAY:INVAYL; 0 for a free slot."""
    en_lane: np.ndarray
    """int32 (N, 7): INVAL1, the lane; while flipping, the pivot line."""
    en_flipping: np.ndarray
    """int32 (N, 7): 1 while flipping (or a fuseball crossing a lane): INVAC1 / INVAL2 bit 7."""
    en_flip_step: np.ndarray
    """int32 (N, 7): jump-angle steps done in the current flip."""
    en_flip_steps: np.ndarray
    """int32 (N, 7): jump-angle steps the current flip takes in all (from LINANG; 7 for a
    fuseball crossing)."""
    en_flip_angle: np.ndarray
    """int32 (N, 7): the current jump angle, 0..15 (INVAL2 low nibble)."""
    en_dir: np.ndarray
    """int32 (N, 7): INVROT: 0 = flips toward lower lanes ("CW"), 1 = toward higher lanes."""
    en_away: np.ndarray
    """int32 (N, 7): INVAC2 bit 7: 1 = moving away from the rim (down the tube)."""
    en_can_fire: np.ndarray
    """int32 (N, 7): INVAC2 bit 6: the enemy may fire."""
    en_cargo: np.ndarray
    """int32 (N, 7): tanker cargo: 0 none, 1 flippers, 2 pulsars, 3 fuseballs (INVAC2 bits 0-1)."""
    en_chaser: np.ndarray
    """int32 (N, 7): 1 once the enemy has reached the rim and chases the player there."""
    en_cam: np.ndarray
    """int32 (N, 7): the cam program the enemy runs (`core.CAM_*`)."""
    en_cam_pc: np.ndarray
    """int32 (N, 7): program counter inside that cam program (INVCAM)."""
    en_cam_loop: np.ndarray
    """int32 (N, 7): the cam program's loop/wait counter (INVLOO)."""
    en_fire_holdoff: np.ndarray
    """int32 (N, 7): INVACT, frames until the enemy may fire again."""
    en_prev_lane: np.ndarray
    """int32 (N, 7): the slot's lane one frame earlier (velocity features); -1 if it was empty."""
    en_prev_y: np.ndarray
    """int32 (N, 7): the slot's depth one frame earlier (8.8); 0 if it was empty."""
    en_prev_type: np.ndarray
    """int32 (N, 7): the slot's type one frame earlier."""

    # -- added by the rules core (core.py) --------------------------------------------------------
    skill_wave: np.ndarray
    """int32 (N,): the wave whose row of `skill.SKILL` is in force: `wave`, except from wave 99
    on, where the arcade plays the parameters (and shape) of a random wave 65..96 chosen when the
    wave starts."""
    expl_timer: np.ndarray
    """int32 (N, EXPLOSION_SLOTS): frames left of each explosion (0 = free slot); `explosions`
    counts the busy ones."""
    zap_latch: np.ndarray
    """int32 (N,): 1 while a superzapper press waits to be served: the arcade latches the press
    edge and serves it once the running zap has ended (or the player is alive again)."""


_SHAPES: dict[str, tuple[tuple[int, ...], type]] = {
    "rng": ((), np.uint64),
    "frame": ((), np.int64),
    "episode_frame": ((), np.int64),
    "score": ((), np.int64),
    "next_bonus": ((), np.int64),
    "start_bonus": ((), np.int64),
    "kills": ((ENEMY_TYPES,), np.int32),
    "spike": ((LANES,), np.int32),
    "pend_lane": ((PENDING_SLOTS,), np.int32),
    "pend_timer": ((PENDING_SLOTS,), np.int32),
    "shot_y": ((PLAYER_SHOTS,), np.int32),
    "shot_lane": ((PLAYER_SHOTS,), np.int32),
    "shot_hits": ((PLAYER_SHOTS,), np.int32),
    "eshot_y": ((ENEMY_SHOTS,), np.int32),
    "eshot_lane": ((ENEMY_SHOTS,), np.int32),
    "expl_timer": ((EXPLOSION_SLOTS,), np.int32),
}
"""Shape after the game axis and dtype of every field that is not an int32 scalar per game;
the `en_*` fields are (ENEMY_SLOTS,) int32."""


def field_layout(name: str) -> tuple[tuple[int, ...], type]:
    """(per-game shape, dtype) of a GameState field."""
    if name in _SHAPES:
        return _SHAPES[name]
    if name.startswith("en_"):
        return (ENEMY_SLOTS,), np.int32
    return (), np.int32


def allocate(num_games: int) -> GameState:
    """A zeroed state for `num_games` games (free enemy slots already marked NO_ENEMY); the
    simulator's reset fills in real games."""
    arrays = {}
    for name in GameState._fields:
        shape, dtype = field_layout(name)
        arrays[name] = np.zeros((num_games, *shape), dtype)
    arrays["en_type"][:] = NO_ENEMY
    arrays["en_prev_type"][:] = NO_ENEMY
    arrays["en_prev_lane"][:] = -1
    return GameState(**arrays)


def take(state: GameState, index: int) -> GameState:
    """Game `index` as a state of one game (a copy)."""
    return GameState(*(field[index:index + 1].copy() for field in state))


def put(state: GameState, index: int, game: GameState) -> None:
    """Writes a one-game state into slot `index` of `state`."""
    for target, source in zip(state, game, strict=True):
        target[index] = source[0]


def copy(state: GameState) -> GameState:
    """A deep copy (for snapshots and tests)."""
    return GameState(*(field.copy() for field in state))


def states_equal(a: GameState, b: GameState) -> bool:
    """Whether two states hold exactly the same games."""
    return all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
