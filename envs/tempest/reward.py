"""The learning reward of `Tempest-v0`: the reward pipeline of the system this replaces.

Reference `tempest-mechanics.md` §4.1, with every constant a `RewardParams` field whose default
is the old value, so a run can switch shaping off or rescale without touching code.  Per game and
per frame:

* **Death edge** (alive before the step, dead after it): `obj = -death_penalty` and nothing else
  that frame (no score delta, no superzap penalty, no shaping).
* Otherwise `obj` is the score delta when `0 < delta < max_score_delta` (this filters the
  skill-step bonus, a reset's negative delta and the score wrap of the 6-digit original), minus
  `zap_penalty * pending / pending_at_start` on the frame the superzapper use count rises (early
  zaps cost up to the full penalty, zaps with an empty queue cost nothing).
* **Lane-safety shaping** `subj` (modes PLAY and DROP, player alive): the lanes at offsets
  0, +1, -1, +2, -2 from the player, weighted 1, 1/2, 1/2, 1/4, 1/4 (deduplicated; lanes off
  the edge of an open tube, which has lanes 0..14, are skipped), each add `+2*w*s` when safe and
  `-2*w*s` when threatened, `s = 1` if the player changed lane this frame else 1/2.  A lane is
  threatened by an enemy or enemy shot in it with integer depth `0 < depth <= danger_depth`
  (spikes do not count).  Range: +-5 moving, +-2.5 static (closed tube).
* `reward = clip(objective_scale*obj + subjective_scale*subj, -clip, clip)`.

Choices where the reference is silent (each is a deliberate reading, pinned by a test):

* A *flipping* enemy threatens both lanes it straddles (pivot line - 1 and pivot line): while it
  flips its `INVAL1` is a line, not a lane, and it can land in (and be shot from) either lane.
  The Lua counted only `INVAL1 & 15`, i.e. the origin lane for one flip direction and the
  destination for the other.
* The zap penalty's ratio is not capped: after a death re-queues enemies `pending` may exceed
  `pending_at_start`, as in the original; the final clip bounds it.  With
  `pending_at_start == 0` the penalty is 0.
* No shaping on frames where the player is already dead (the death edge gets the penalty only).
* `out_points` is the raw, unfiltered score delta of the step (what `info["raw_reward"]` shows).

`remember` snapshots what the pipeline compares against *before* `core.step_games`;
`compute_rewards` runs after it.  Both are numba kernels over all N games.
"""

from __future__ import annotations

from typing import NamedTuple

import numba
import numpy as np

from envs.tempest.state import (
    ALIVE,
    ENEMY_SHOTS,
    ENEMY_SLOTS,
    FUSEBALL,
    LANES,
    MODE_DROP,
    MODE_PLAY,
    NO_ENEMY,
    OPEN_LANES,
    GameState,
)

SHAPING_OFFSETS = np.array([0, 1, -1, 2, -2], np.int32)
SHAPING_WEIGHTS = np.array([1.0, 0.5, 0.5, 0.25, 0.25], np.float64)
"""Lane offsets from the player and their weights in the lane-safety shaping (§4.1)."""


class RewardParams(NamedTuple):
    """The reward pipeline's constants; the defaults are the system this replaces (§4.1).
    Passed straight into the numba kernel."""

    death_penalty: float = 1000.0
    """Game points charged on the death edge (objective)."""
    objective_scale: float = 0.01
    """Learning reward per game point of the objective."""
    subjective_scale: float = 0.005
    """Weight of the lane-safety shaping; 0 disables it."""
    zap_penalty: float = 1000.0
    """Game points charged for a superzap, times pending / pending_at_start."""
    clip: float = 10.0
    """The final reward is clipped to [-clip, clip]; 0 = no clip."""
    max_score_delta: float = 1000.0
    """Score deltas >= this are ignored (the skill-step bonus filter)."""
    danger_depth: int = 0x80
    """A lane is threatened by an enemy or enemy shot with integer depth 0 < depth <= this."""


class RewardMemo(NamedTuple):
    """Per game, what the previous frame looked like (filled by `remember`)."""

    score: np.ndarray
    """int64 (N,): the score before the step."""
    alive: np.ndarray
    """int32 (N,): 1 if the player was alive before the step."""
    zap_uses: np.ndarray
    """int32 (N,): superzapper uses before the step."""
    lane: np.ndarray
    """int32 (N,): the player's lane before the step."""


def new_memo(num_games: int) -> RewardMemo:
    """A zeroed memo for `num_games` games (call `remember` before the first step)."""
    return RewardMemo(score=np.zeros(num_games, np.int64), alive=np.zeros(num_games, np.int32),
                      zap_uses=np.zeros(num_games, np.int32), lane=np.zeros(num_games, np.int32))


@numba.njit(cache=True)
def remember(state: GameState, memo: RewardMemo) -> None:
    """Snapshots score, alive, zap uses and lane of every game; call before `core.step_games`."""
    for g in range(state.score.shape[0]):
        memo.score[g] = state.score[g]
        memo.alive[g] = 1 if state.death_cause[g] == ALIVE else 0
        memo.zap_uses[g] = state.zap_uses[g]
        memo.lane[g] = state.player_pos[g] >> 4


@numba.njit(cache=True)
def threatened_lanes(state: GameState, g: int, danger_depth: int, out: np.ndarray) -> None:
    """out[k] = True where lane k holds an enemy or enemy shot with 0 < depth <= danger_depth
    (integer depth); a flipping enemy marks both lanes it straddles."""
    out[:] = False
    for i in range(ENEMY_SLOTS):
        depth = state.en_y[g, i] >> 8
        if state.en_type[g, i] == NO_ENEMY or depth <= 0 or depth > danger_depth:
            continue
        lane = state.en_lane[g, i]
        out[lane & (LANES - 1)] = True
        if state.en_flipping[g, i] != 0 and state.en_type[g, i] != FUSEBALL:
            out[(lane - 1) & (LANES - 1)] = True
    for j in range(ENEMY_SHOTS):
        depth = state.eshot_y[g, j] >> 8
        if 0 < depth <= danger_depth:
            out[state.eshot_lane[g, j] & (LANES - 1)] = True


@numba.njit(cache=True)
def lane_safety(state: GameState, g: int, prev_lane: int, danger_depth: int,
                threatened: np.ndarray, seen: np.ndarray) -> float:
    """The subjective shaping of game g this frame (reference §4.1), in +-2 units per lane;
    `threatened` and `seen` are (16,) bool scratch arrays."""
    threatened_lanes(state, g, danger_depth, threatened)
    lane = state.player_pos[g] >> 4
    scale = 1.0 if lane != prev_lane else 0.5
    is_open = state.is_open[g] != 0
    seen[:] = False
    total = 0.0
    for k in range(SHAPING_OFFSETS.shape[0]):
        target = lane + SHAPING_OFFSETS[k]
        if is_open:
            if target < 0 or target >= OPEN_LANES:
                continue
        else:
            target &= LANES - 1
        if seen[target]:
            continue
        seen[target] = True
        sign = -1.0 if threatened[target] else 1.0
        total += sign * 2.0 * SHAPING_WEIGHTS[k] * scale
    return total


@numba.njit(cache=True)
def compute_rewards(state: GameState, memo: RewardMemo, params: RewardParams,
                    out_reward: np.ndarray, out_points: np.ndarray) -> None:
    """Fills out_reward (the learning reward) and out_points (the raw score delta) of every
    game after `core.step_games`; `memo` holds the frame before (module docstring)."""
    threatened = np.zeros(LANES, np.bool_)
    seen = np.zeros(LANES, np.bool_)
    for g in range(state.score.shape[0]):
        delta = state.score[g] - memo.score[g]
        out_points[g] = np.float32(delta)
        alive = state.death_cause[g] == ALIVE
        objective = 0.0
        subjective = 0.0
        if memo.alive[g] != 0 and not alive:
            objective = -params.death_penalty
        else:
            if 0 < delta < params.max_score_delta:
                objective += delta
            if state.zap_uses[g] > memo.zap_uses[g] and state.pending_at_start[g] > 0:
                objective -= params.zap_penalty * state.pending[g] / state.pending_at_start[g]
            mode = state.mode[g]
            if (params.subjective_scale != 0.0 and alive
                    and (mode == MODE_PLAY or mode == MODE_DROP)):
                subjective = lane_safety(state, g, memo.lane[g], int(params.danger_depth),
                                         threatened, seen)
        value = params.objective_scale * objective + params.subjective_scale * subjective
        if params.clip > 0.0:
            value = min(max(value, -params.clip), params.clip)
        out_reward[g] = np.float32(value)
