"""N Tempest games with episodes, rewards and observations: what both gymnasium classes share.

`TempestEnv` (one game) and `TempestVectorEnv` (N games) are thin shells around `Games`, so the
vector env is N single envs by construction: game i of a vector env seeded s is the single env
seeded s + i, driven with the same actions (the tests check it frame by frame).

Episodes.  With `episodic_life` (the default, as in the system this replaces) every life is an
episode: the death frame is terminal, and the next reset *continues the same game* with its next
life (enemies back in the queue, spikes and superzapper use kept); a new game starts only when
the lives are gone.  Without it an episode is a whole game: a death is resolved on the same step
(`core.finish_life`) and only the game over is terminal.  `max_episode_frames` truncates an
episode; the reset after a truncation starts a new game.

Per-step arrays returned by `step` and `info` follow the ALE adapter (`envs/ale.py`), so the
training loop treats both backends alike; `info["state"]` is the live `GameState` for the
expert and the dashboard's game view (read it before the next step: it changes in place).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from envs.tempest import core, features, reward
from envs.tempest.actions import ACTION_SETS, FIRE, SPIN, ZAP
from envs.tempest.state import ALIVE, MODE_GAME_OVER, allocate

END_LIFE, END_GAME, END_TRUNCATED = 1, 2, 3
_START_STREAM = 0x57A27
"""Mixed into a game's seed for the stream that draws its start waves."""
"""Why a game's episode ended (`Games.ended`), which decides what its next reset does."""


class Games:
    """The simulator's games plus the episode bookkeeping of a gymnasium env."""

    def __init__(self, num_games: int, start_wave: int = 1, episodic_life: bool = True,
                 max_episode_frames: int = 0, action_set: str = "joint",
                 reward_params: reward.RewardParams | None = None, lane_map: bool = True,
                 shot_clock: bool = True, spike_clock: bool = False):
        if action_set not in ACTION_SETS:
            raise ValueError(
                f"unknown action_set {action_set!r}; choose from {sorted(ACTION_SETS)}")
        if not 1 <= start_wave <= 99:
            raise ValueError(f"start_wave must be 1..99, got {start_wave}")
        self.num_games = num_games
        self.start_wave = start_wave
        """The wave new games start at, unless `set_start_waves` gave a distribution."""
        self._start_choices = np.array([start_wave], np.int64)
        self._start_probs = np.ones(1)
        self._start_rngs = [np.random.default_rng([g, _START_STREAM]) for g in range(num_games)]
        self.episodic_life = episodic_life
        self.max_episode_frames = max_episode_frames
        self.action_table = ACTION_SETS[action_set]
        self.reward_params = reward_params or reward.RewardParams()
        self.state = allocate(num_games)
        self.memo = reward.new_memo(num_games)
        self.obs = np.zeros((num_games, features.obs_dim(lane_map)), np.float32)
        self.shot_clock = shot_clock
        """The lane map's enemy-shot channel is a clock (`features.observe`)."""
        self.spike_clock = spike_clock
        """The lane map's spike channel is a clock (`features.observe`)."""
        self.reward = np.zeros(num_games, np.float32)
        self.points = np.zeros(num_games, np.float32)
        self.ended = np.zeros(num_games, np.int8)
        self.episode_score = np.zeros(num_games, np.float64)
        self.episode_length = np.zeros(num_games, np.int64)
        self._idle = np.zeros(num_games, np.int32)
        self.death_cause = np.zeros(num_games, np.int32)
        """This step's death causes (kept when finish_life revives the game at once)."""

    # -- resets ------------------------------------------------------------------------------------

    def seed(self, seeds: np.ndarray) -> None:
        seeds = np.asarray(seeds, np.int64)
        core.seed_games(self.state, seeds)
        self._start_rngs = [np.random.default_rng([int(seed), _START_STREAM]) for seed in seeds]

    def set_start_waves(self, waves, probs=None) -> None:
        """From now on each new game starts at a wave drawn from `waves` with `probs` (default:
        uniform), by a random stream of its own seeded with the game's seed (the game's own
        stream is untouched); one wave means every new game starts there.  Games under way
        are not changed (the start-wave curriculum, agent.curriculum)."""
        choices = np.asarray(waves, np.int64).reshape(-1)
        weights = np.ones(len(choices)) if probs is None else np.asarray(probs, float)
        if choices.size == 0 or choices.min() < 1 or choices.max() > 99:
            raise ValueError(f"start waves must be waves 1..99, got {choices.tolist()}")
        if weights.shape != choices.shape or weights.min() < 0 or weights.sum() <= 0:
            raise ValueError(f"need one non-negative weight per wave, got {weights.tolist()}")
        self._start_choices, self._start_probs = choices, weights / weights.sum()

    def _start_waves(self, mask: np.ndarray) -> np.ndarray:
        """The start wave of each game that starts now (where `mask`)."""
        if len(self._start_choices) == 1:
            return np.full(self.num_games, self._start_choices[0], np.int64)
        waves = np.zeros(self.num_games, np.int64)
        for g in np.flatnonzero(mask):
            waves[g] = self._start_rngs[g].choice(self._start_choices, p=self._start_probs)
        return waves

    def new_games(self, mask: np.ndarray, start_wave: int | None = None) -> None:
        """Fresh games where `mask` (at `start_wave`, else at the start waves in force); a new
        episode starts there."""
        waves = self._start_waves(mask) if start_wave is None else start_wave
        core.new_games(self.state, mask, waves)
        self._begin_episodes(mask)

    def reset_ended(self, mask: np.ndarray) -> None:
        """The reset after an episode ended: the next life of the same game after a life was
        lost, else a new game."""
        next_life = mask & (self.ended == END_LIFE)
        if next_life.any():
            core.finish_life(self.state, next_life)
        over = mask & ((self.ended != END_LIFE) | (self.state.mode == MODE_GAME_OVER))
        if over.any():
            core.new_games(self.state, over, self._start_waves(over))
        self._begin_episodes(mask)

    def _begin_episodes(self, mask: np.ndarray) -> None:
        self.ended[mask] = 0
        self.death_cause[mask] = ALIVE
        self.episode_score[mask] = 0.0
        self.episode_length[mask] = 0
        self.state.episode_frame[mask] = 0
        features.observe(self.state, self.obs, self.shot_clock, self.spike_clock)

    # -- one frame ---------------------------------------------------------------------------------

    def step(self, actions: np.ndarray, active: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Advances the `active` games by one frame with `actions` (indices into the action
        set); the others stay still.  Returns (terminated, truncated) for the active games
        (False elsewhere); `self.reward`, `self.points` and `self.obs` hold the rest."""
        table = self.action_table[np.where(active, actions, 0)]
        fire = np.where(active, table[:, FIRE], 0).astype(np.int32)
        zap = np.where(active, table[:, ZAP], 0).astype(np.int32)
        spin = np.where(active, table[:, SPIN], 0).astype(np.int32)
        self._freeze(~active)
        reward.remember(self.state, self.memo)
        core.step_games(self.state, fire, zap, spin)
        self._unfreeze(~active)
        reward.compute_rewards(self.state, self.memo, self.reward_params, self.reward, self.points)
        self.reward[~active] = 0.0
        self.points[~active] = 0.0
        self.death_cause[:] = np.where(active, self.state.death_cause, ALIVE)
        died = self.death_cause != ALIVE
        if not self.episodic_life and died.any():
            core.finish_life(self.state, died)
        game_over = active & (self.state.mode == MODE_GAME_OVER)
        terminated = (died & self.episodic_life) | game_over
        truncated = active & ~terminated & self._out_of_frames()
        self.ended[terminated] = np.where(game_over, END_GAME, END_LIFE)[terminated]
        self.ended[truncated] = END_TRUNCATED
        self.episode_score[active] += self.points[active]
        self.episode_length[active] += 1
        features.observe(self.state, self.obs, self.shot_clock, self.spike_clock)
        return terminated, truncated

    def _out_of_frames(self) -> np.ndarray:
        if self.max_episode_frames <= 0:
            return np.zeros(self.num_games, bool)
        return self.state.episode_frame >= self.max_episode_frames

    def _freeze(self, idle: np.ndarray) -> None:
        """Idle games must not advance (or draw random numbers): the core skips games in
        MODE_GAME_OVER, so idle games wear that mode for the duration of the step."""
        self._idle[:] = self.state.mode
        self.state.mode[idle] = MODE_GAME_OVER

    def _unfreeze(self, idle: np.ndarray) -> None:
        self.state.mode[idle] = self._idle[idle]

    # -- reporting ---------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Per-game arrays every step carries (see TempestVectorEnv for the episode keys)."""
        st = self.state
        return {
            "raw_reward": self.points.copy(),
            "score": st.score.astype(np.float64),
            "episode_score": self.episode_score.copy(),
            "episode_length": self.episode_length.copy(),
            "lives": st.lives.copy(),
            "wave": st.wave.copy(),
            "death_cause": self.death_cause.copy(),
            "life_lost": np.zeros(self.num_games, bool),
            "state": st,
        }
