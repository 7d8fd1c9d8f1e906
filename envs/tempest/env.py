"""`Tempest-v0` as gymnasium environments: `TempestEnv` (one game) and `TempestVectorEnv` (N).

Both wrap `engine.Games`; the numba core steps all N games in one call, so the vector env is
the fast path (`gym.make_vec("Tempest-v0", num_envs=256, vectorization_mode="vector_entry_point")`).

Observation: `features.OBS_DIM` float32 values in [-1, 1], documented index by index in
`envs/tempest/features.py`.  Actions: the 44 joint actions of the system this replaces (or the
11 of `action_set="compact"`), see `envs/tempest/actions.py` and `get_action_meanings()`.
Reward: the pipeline of `envs/tempest/reward.py` (score deltas, death penalty, lane-safety
shaping, superzap penalty, scale, clip); `info["raw_reward"]` holds the step's game points.

Vector info keys (arrays of length num_envs), as the ALE adapter's (`envs/ale.py`):

=================  =======  ================================================================
raw_reward         float32  game points scored on this step
score              float64  the game's score (all lives so far)
episode_score      float64  points of the current episode (a life, with episodic life)
episode_length     int64    steps of the current episode
lives, wave        int32    lives left (the current one included), the current wave
death_cause        int32    state.DEATH_* of this step's death, 0 = alive
episode_end        bool     the episode ended on this step; the next step is a reset step
game_over          bool     the game itself ended on this step (its last life is lost)
reset_step         bool     this step only reset the env (NEXT_STEP autoreset): its action was
                            ignored and it must not be stored as a transition
final_score        float64  NaN, except on an episode_end step: the episode's points
final_length       int64    -1, except there: the episode's steps (= frames)
final_frames       int64    the same as final_length (one step is one game frame)
life_lost          bool     always False: a lost life is an episode end with a reset step
state              -        the live GameState (expert, dashboard); it changes in place with
                            the next step (TempestEnv's info holds a copy of its one game)
=================  =======  ================================================================
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.vector import AutoresetMode

from envs.tempest import features
from envs.tempest.actions import action_meanings
from envs.tempest.engine import END_LIFE, Games
from envs.tempest.reward import RewardParams
from envs.tempest.state import take

RENDER_FPS = 20


def _obs_space(lane_map: bool) -> gym.spaces.Box:
    return gym.spaces.Box(-1.0, 1.0, (features.obs_dim(lane_map),), np.float32)


def _reward_params(reward: RewardParams | dict | None) -> RewardParams:
    if reward is None or isinstance(reward, RewardParams):
        return reward or RewardParams()
    return RewardParams(**reward)


class TempestVectorEnv(gym.vector.VectorEnv):
    """N Tempest games stepped together; NEXT_STEP autoreset like ale-py's AtariVectorEnv.

    Args:
        num_envs: games stepped together.
        start_wave: the wave every game starts at (1..99).
        episodic_life: each life is an episode (default); False: a whole game is.
        max_episode_frames: truncate an episode after this many frames; 0 = no limit.
        action_set: "joint" (44 actions) or "compact" (11).
        reward: RewardParams, or a dict of its fields, for the reward pipeline.
        render_mode: None or "rgb_array" (a tuple with one frame per env).
        seed: the seed of the first reset that names none (env i: seed + i), as ALE's adapter
            does, so a run is reproducible from its config; None: drawn from the OS.
        lane_map: the observation has the lane map (`feature_layout`: 312 values; False: 247).
        shot_clock: the lane map's enemy-shot channel reads frames to the rim, not depth.
        spike_clock: the lane map's spike channel reads frames of the drop until the claw would
            die on the spike, not the tip's depth.
    """

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": ["rgb_array"],
                "render_fps": RENDER_FPS}

    def __init__(self, num_envs: int = 1, start_wave: int = 1, episodic_life: bool = True,
                 max_episode_frames: int = 0, action_set: str = "joint",
                 reward: RewardParams | dict | None = None, render_mode: str | None = None,
                 seed: int | None = None, lane_map: bool = True,
                 shot_clock: bool = True, spike_clock: bool = False):
        self.games = Games(num_envs, start_wave, episodic_life, max_episode_frames, action_set,
                           _reward_params(reward), lane_map, shot_clock, spike_clock)
        self.num_envs = num_envs
        self.render_mode = render_mode
        self.single_observation_space = _obs_space(lane_map)
        self.single_action_space = gym.spaces.Discrete(len(self.games.action_table))
        self.observation_space = gym.vector.utils.batch_space(self.single_observation_space,
                                                              num_envs)
        self.action_space = gym.vector.utils.batch_space(self.single_action_space, num_envs)
        self._resetting = np.zeros(num_envs, bool)
        self._seeded = False
        self._first_seed = seed

    @property
    def state(self):
        """The live GameState of all games."""
        return self.games.state

    def get_action_meanings(self) -> list[str]:
        return action_meanings(self.games.action_table)

    def set_start_waves(self, waves, probs=None) -> None:
        """Games started from now on begin at a wave drawn from `waves` with `probs` (one wave:
        all of them there); see `engine.Games.set_start_waves`."""
        self.games.set_start_waves(waves, probs)

    def reset(self, *, seed: int | list[int] | None = None,
              options: dict[str, Any] | None = None) -> tuple[np.ndarray, dict[str, Any]]:
        """New games in every env; `seed` s gives env i the seed s + i (or a list, one per env);
        `options={"start_wave": k}` overrides the start wave for these games."""
        if seed is None and not self._seeded:
            seed = self._first_seed
        super().reset(seed=seed)
        if seed is not None or not self._seeded:
            self.games.seed(self._seeds(seed))
            self._seeded = True
        everyone = np.ones(self.num_envs, bool)
        self.games.new_games(everyone, (options or {}).get("start_wave"))
        self._resetting[:] = False
        info = self._info(np.zeros(self.num_envs, bool), np.zeros(self.num_envs, bool), everyone)
        return self.games.obs.copy(), info

    def _seeds(self, seed: int | list[int] | None) -> np.ndarray:
        if seed is None:
            seed = int(self.np_random.integers(0, 2**31 - 1))
        if isinstance(seed, int | np.integer):
            return np.arange(self.num_envs, dtype=np.int64) + int(seed)
        if len(seed) != self.num_envs:
            raise ValueError(f"got {len(seed)} seeds for {self.num_envs} envs")
        return np.asarray(seed, np.int64)

    def step(self, actions: np.ndarray):
        actions = np.asarray(actions, np.int64).reshape(self.num_envs)
        resetting = self._resetting.copy()
        if resetting.any():
            self.games.reset_ended(resetting)
        terminated, truncated = self.games.step(actions, ~resetting)
        self._resetting = terminated | truncated
        info = self._info(terminated, truncated, resetting)
        return (self.games.obs.copy(), self.games.reward.copy(), terminated, truncated, info)

    def _info(self, terminated: np.ndarray, truncated: np.ndarray,
              reset_step: np.ndarray) -> dict[str, Any]:
        games = self.games
        info = games.info()
        ended = terminated | truncated
        last_life = (games.state.lives <= 1) & (games.ended == END_LIFE)
        info["episode_end"] = ended
        info["game_over"] = terminated & ((games.state.lives <= 0) | last_life)
        info["reset_step"] = reset_step
        info["final_score"] = np.where(ended, games.episode_score, np.nan)
        info["final_length"] = np.where(ended, games.episode_length, -1)
        info["final_frames"] = info["final_length"].copy()
        return info

    def render(self) -> tuple[np.ndarray, ...] | None:
        if self.render_mode != "rgb_array":
            return None
        from envs.tempest.render import render_frame

        return tuple(render_frame(self.games.state, i) for i in range(self.num_envs))


class TempestEnv(gym.Env):
    """One Tempest game (see TempestVectorEnv for the arguments and the info keys).

    After `terminated` with episodic life, `reset()` continues the same game with its next life;
    `reset(seed=...)` always starts a new game.
    """

    metadata = {"render_modes": ["rgb_array"], "render_fps": RENDER_FPS}

    def __init__(self, start_wave: int = 1, episodic_life: bool = True,
                 max_episode_frames: int = 0, action_set: str = "joint",
                 reward: RewardParams | dict | None = None, render_mode: str | None = None,
                 seed: int | None = None, lane_map: bool = True,
                 shot_clock: bool = True, spike_clock: bool = False):
        self.games = Games(1, start_wave, episodic_life, max_episode_frames, action_set,
                           _reward_params(reward), lane_map, shot_clock, spike_clock)
        self.render_mode = render_mode
        self.observation_space = _obs_space(lane_map)
        self.action_space = gym.spaces.Discrete(len(self.games.action_table))
        self._started = False
        self._one = np.ones(1, bool)

    @property
    def state(self):
        return self.games.state

    def get_action_meanings(self) -> list[str]:
        return action_meanings(self.games.action_table)

    def set_start_waves(self, waves, probs=None) -> None:
        """Games started from now on begin at a wave drawn from `waves` with `probs` (one wave:
        all of them there); see `engine.Games.set_start_waves`."""
        self.games.set_start_waves(waves, probs)

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        fresh = seed is not None or not self._started or bool(options)
        if seed is not None or not self._started:
            self.games.seed(np.array([seed if seed is not None else
                                      int(self.np_random.integers(0, 2**31 - 1))]))
        if fresh or not self.games.ended[0]:
            self.games.new_games(self._one, (options or {}).get("start_wave"))
        else:
            self.games.reset_ended(self._one)
        self._started = True
        return self.games.obs[0].copy(), self._info(False, False)

    def step(self, action: int):
        terminated, truncated = self.games.step(np.array([int(action)]), self._one)
        term, trunc = bool(terminated[0]), bool(truncated[0])
        return self.games.obs[0].copy(), float(self.games.reward[0]), term, trunc, \
            self._info(term, trunc)

    def _info(self, terminated: bool, truncated: bool) -> dict[str, Any]:
        info = {k: (v[0].item() if isinstance(v, np.ndarray) else v)
                for k, v in self.games.info().items()}
        info["state"] = take(self.games.state, 0)  # a copy: one game is cheap to copy
        info["episode_end"] = terminated or truncated
        return info

    def render(self) -> np.ndarray | None:
        if self.render_mode != "rgb_array":
            return None
        from envs.tempest.render import render_frame

        return render_frame(self.games.state, 0)
