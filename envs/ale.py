"""The ALE backend: `ale_py.vector_env.AtariVectorEnv` behind the contract of DESIGN.md §4.3.

AtariVectorEnv steps its games on C++ threads and does the whole DQN preprocessing itself
(84x84 grayscale, frame skip with max-pooling over the last two frames, frame stacking, up to
`noop_max` no-ops and FIRE after each reset, sticky actions through
`repeat_action_probability`).  This module configures it from `EnvConfig` and adds what the
training loop needs on top: the learning reward (clipped or not) next to the raw game points, and
per-env game bookkeeping (`envs.game_book`, one numba kernel over the batch).

What AtariVectorEnv does, measured on ale-py 0.12.1 and read from its C++ `PreprocessedEnv`:

* `episodic_life=True` ends the episode on a life loss *and then resets the whole game* on the
  next step (lives back to 5 in Breakout, episode frame counter back to 1): the agent would only
  ever see its first life, and every "score" would be a first-life score.  `life_loss_info=True`
  reports `terminated=True` on a life loss and lets the game go on; the game is reset only at game
  over or at the frame cap.  `cfg.episodic_life` is therefore mapped onto `life_loss_info=True`
  (and `episodic_life=False`), which is what the Nature-DQN EpisodicLife wrapper does.
* `max_num_frames_per_episode` counts emulator frames acted by `step()` since the reset (reset
  no-ops and the reset FIRE are not counted).  `truncated` is "cap reached and not terminated": a
  life loss or game over on the capping step reports `terminated` only, and the game is still reset.
* Autoreset is NEXT_STEP: the step after a game ended (game over or frame cap) does not act; it
  resets that env and returns the first observation of the new game with reward 0 and
  terminated = truncated = False.  **The action given for that step is ignored, so that step must
  not be stored as a transition** (`info["reset_step"]` marks it).  After a mere life loss there is
  no reset step: the next step acts normally from the post-loss observation.
* RAM is not reachable: `ALEVectorInterface` has only reset/send/recv/get_action_set/
  get_num_envs/get_observation_shape/handle, so `info["ram"]` cannot exist on this fast path.
  RAM experts need the single-env `ale_py.AtariEnv` (`env.unwrapped.ale.getRAM()`) instead.

Info keys the adapter adds (arrays of length num_envs; "game" = one whole game, all its lives):

=================  =======  ================================================================
key                dtype    meaning
=================  =======  ================================================================
raw_reward         float32  unclipped game points of this step (the returned reward is the
                            sign of it when `cfg.clip_rewards`, else the same values)
score              float64  game points of the current game so far, this step included
episode_score      float64  the same values as `score` (the name the loop uses)
episode_length     int64    agent steps of the current game so far (reset steps not counted)
life_lost          bool     a life was lost and the game goes on (only with episodic_life;
                            `terminated` is True on that step)
game_over          bool     the game itself ended on this step (terminated, not a life loss)
episode_end        bool     the game ended on this step: game over or frame cap; the next step
                            of this env is a reset step
reset_step         bool     this step only reset the env: its action was ignored, its
                            observation starts a new game; never store it as a transition
final_score        float64  NaN, except on the step a game ends: the game's total points
final_length       int64    -1, except there: the game's agent steps
final_frames       int64    -1, except there: the game's emulator frames (ALE's episode frame
                            number, reset no-ops included)
=================  =======  ================================================================

plus ALE's own `lives`, `frame_number`, `episode_frame_number` and `env_id`.  `final_*` are set
on the `episode_end` step, with one exception kept for safety: if a game is reset without the
adapter having seen it end (a game over on the very step a life was lost with lives left), the
game is closed on its reset step instead, whose `final_*` then carry the values.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
from ale_py.vector_env import AtariVectorEnv
from gymnasium.vector import AutoresetMode, VectorEnv, VectorWrapper

from config import ALE_ID, ConfigError, EnvConfig, ale_rom_ids, check_env_id
from envs.errors import UnknownEnvError
from envs.game_book import GameBook

ALE_DEFAULT_MAX_FRAMES = 108_000
"""ALE's own episode cap (30 minutes at 60 Hz), used when `cfg.max_episode_frames` is 0."""


def rom_id(env_id: str) -> str:
    """Returns ale-py's ROM id for an `ALE/<Game>-v5` env id.

    Raises:
        UnknownEnvError: not of that form, or no such ROM; the message names the closest ids.
    """
    match, roms = ALE_ID.fullmatch(env_id), ale_rom_ids() or {}
    if match and match.group(1) in roms:
        return roms[match.group(1)]
    raise UnknownEnvError(
        check_env_id(env_id) or f"{env_id!r} is not an ALE env id; use 'ALE/<Game>-v5'"
    )


FIRE_SELDOM_MATTERS = frozenset({"pong"})
"""ROMs whose FIRE button changes the play only in a few states: in Pong the computer serves, and
from 1,623 random states 8 frames of FIRE (RIGHTFIRE, LEFTFIRE) followed by 40 of NOOP left the
picture that 8 frames of NOOP (RIGHT, LEFT) leave in all but 16 (1%), each at the paddle's
contact with the ball (tests/envs/test_ale.py replays a sample).  An action with FIRE and its twin
without form one class for the imitation term (`action_classes`): the Pong expert steers and
never presses FIRE, so its label names a direction and leaves the button to reinforcement."""


def action_meanings(cfg: EnvConfig) -> list[str]:
    """The names of the actions of `cfg`'s game by index (minimal or full set, as configured),
    read off the ROM without building a vector env."""
    from ale_py import ALEInterface, roms

    ale = ALEInterface()
    ale.loadROM(roms.get_rom_path(rom_id(cfg.id)))
    actions = ale.getLegalActionSet() if cfg.full_action_space else ale.getMinimalActionSet()
    return [action.name for action in actions]


def classes_without_fire(meanings: list[str] | tuple[str, ...]) -> np.ndarray:
    """One class id per action, the actions that differ only by FIRE sharing one: Pong's NOOP,
    FIRE, RIGHT, LEFT, RIGHTFIRE, LEFTFIRE -> 0, 0, 1, 2, 1, 2."""
    moves = [name.replace("FIRE", "") or "NOOP" for name in meanings]
    ids = {move: i for i, move in enumerate(dict.fromkeys(moves))}
    return np.array([ids[move] for move in moves], dtype=np.int64)


def action_classes(cfg: EnvConfig) -> np.ndarray | None:
    """The imitation term's classes for `cfg`'s game: with and without FIRE together where the
    button seldom matters (`FIRE_SELDOM_MATTERS`), else None (every action its own class: in
    Breakout FIRE launches the ball after every lost life, so it is not NOOP's twin)."""
    if rom_id(cfg.id) not in FIRE_SELDOM_MATTERS:
        return None
    return classes_without_fire(action_meanings(cfg))


def clip_reward(raw: np.ndarray) -> np.ndarray:
    """The learning reward of Nature DQN: the sign of the game points (-1, 0, +1), float32."""
    return np.sign(raw).astype(np.float32, copy=False)


class AleVectorEnv(VectorWrapper):
    """An `AtariVectorEnv` with the project's rewards and info keys (module docstring).

    Observations are `(num_envs, frame_stack, 84, 84)` uint8; actions a `(num_envs,)` integer
    array in `[0, single_action_space.n)`.
    """

    def __init__(self, env: AtariVectorEnv, cfg: EnvConfig) -> None:
        super().__init__(env)
        self.cfg = cfg
        self.env_id = cfg.id
        max_frames = cfg.max_episode_frames or ALE_DEFAULT_MAX_FRAMES
        self._book = GameBook(env.num_envs, cfg.episodic_life, max_frames)
        self._num_actions = int(env.single_action_space.n)
        self._seeded = False
        self._ready = False

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        """Resets all envs (or `options["reset_mask"]`); env i gets seed + i.

        The first reset without a seed uses `cfg.seed`, so a run is reproducible by default;
        later unseeded resets continue the envs' random streams.
        """
        if seed is None and not self._seeded:
            seed = self.cfg.seed
        self._seeded = self._seeded or seed is not None
        obs, info = self.env.reset(seed=seed, options=options)
        mask = None if options is None else options.get("reset_mask")
        self._book.reset(info, mask)
        self._ready = True
        return obs, info

    def step(
        self, actions: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """One agent step of every env; returns (obs, reward, terminated, truncated, info).

        `reward` is float32: the sign of the game points when `cfg.clip_rewards`, else the
        points themselves; `info["raw_reward"]` always holds the points.
        """
        self.step_async(actions)
        return self.step_wait()

    def step_async(self, actions: np.ndarray) -> None:
        """Starts one agent step of every env on ALE's threads; `step_wait()` collects it.

        The caller may work in between (agent.actor books the previous step meanwhile)."""
        if not self._ready:
            raise RuntimeError("AleVectorEnv.step() called before reset()")
        self.env.send(self._checked(actions))

    def step_wait(
        self,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]:
        """The step started by `step_async`, as `step` returns it."""
        obs, reward, terminated, truncated, info = self.env.recv()
        raw = reward.astype(np.float32)
        info = dict(info)
        info.update(self._book.update(raw, terminated, truncated, info))
        info["raw_reward"] = raw
        return obs, clip_reward(raw) if self.cfg.clip_rewards else raw, terminated, truncated, info

    def _checked(self, actions: Any) -> np.ndarray:
        """Actions as the int64 array AtariVectorEnv wants, or a clear error."""
        array = np.asarray(actions)
        if array.shape != (self.num_envs,):
            raise ValueError(
                f"expected one action per env, shape ({self.num_envs},), got {array.shape}"
            )
        if array.dtype.kind not in "iu":
            raise TypeError(f"actions must be integers, got dtype {array.dtype}")
        if array.dtype != np.int64 and array.dtype != np.int32:
            array = array.astype(np.int64)
        if array.min() < 0 or array.max() >= self._num_actions:
            raise ValueError(
                f"actions must lie in [0, {self._num_actions}) for {self.env_id}, "
                f"got min {array.min()} max {array.max()}"
            )
        return array

    def get_action_meanings(self) -> list[str]:
        """Names of the actions by index, e.g. ['NOOP', 'FIRE', 'RIGHT', 'LEFT'] for Breakout."""
        return [action.name for action in self.env.unwrapped.ale.get_action_set()]


def _check_settings(cfg: EnvConfig) -> None:
    """The EnvConfig ranges AtariVectorEnv would otherwise reject with an assert or a crash."""
    problems = [
        f"env.{name} must be a positive integer, got {getattr(cfg, name)}"
        for name in ("num_envs", "frame_skip", "frame_stack")
        if getattr(cfg, name) < 1
    ]
    problems += [
        f"env.{name} must be 0 or more, got {getattr(cfg, name)}"
        for name in ("noop_max", "max_episode_frames", "seed")
        if getattr(cfg, name) < 0
    ]
    if not 0.0 <= cfg.sticky_action_prob <= 1.0:
        problems.append(f"env.sticky_action_prob must be in [0, 1], got {cfg.sticky_action_prob}")
    if problems:
        raise ConfigError("\n".join(problems))


def may_use_every_cpu() -> bool:
    """Whether this process may run on every CPU of the machine (`env.pin_threads` needs it:
    ale-py pins its thread i to CPU i whatever the process's affinity)."""
    try:
        return len(os.sched_getaffinity(0)) == os.cpu_count()
    except (AttributeError, OSError):
        return True  # no affinity masks on this platform: every CPU is ours


def make_ale_vector_env(cfg: EnvConfig, *, num_threads: int = 0) -> VectorEnv:
    """Builds the ALE vector env for `cfg.id` ("ALE/<Game>-v5"); call `reset()` before stepping.

    Args:
        cfg: the env section; `max_episode_frames=0` means ALE's default cap of 108,000 frames.
        num_threads: C++ worker threads (0 = ale-py's choice).

    Raises:
        UnknownEnvError: the id names no ROM shipped with ale-py (with the closest ids).
        ConfigError: a setting out of range.
    """
    _check_settings(cfg)
    env = _atari(cfg, cfg.num_envs, num_threads, colour=False)
    return AleVectorEnv(env, cfg)


ROM_HEIGHT, ROM_WIDTH = 210, 160
"""The Atari 2600 picture as the ROM draws it."""


def colour_twin(cfg: EnvConfig) -> AtariVectorEnv:
    """One game of `cfg.id` as the ROM draws it (210x160 colour, one frame, no stack) with the
    settings of `cfg`'s envs: reset with env 0's seed and given env 0's actions, it plays env 0's
    game frame for frame (the emulator is deterministic), which is how a video films an ALE game
    whose vector env hands out only the network's 84x84 grey stacks (`agent.video`)."""
    _check_settings(cfg)
    return _atari(cfg, 1, 1, colour=True)


def _atari(cfg: EnvConfig, num_envs: int, num_threads: int, *, colour: bool) -> AtariVectorEnv:
    """AtariVectorEnv with `cfg`'s settings: the network's grey 84x84 stacks, or the ROM's colour
    frames (`colour_twin`)."""
    return AtariVectorEnv(
        rom_id(cfg.id),
        num_envs,
        num_threads=num_threads,
        thread_affinity_offset=0 if cfg.pin_threads and may_use_every_cpu() and not colour
        else -1,
        max_num_frames_per_episode=cfg.max_episode_frames or ALE_DEFAULT_MAX_FRAMES,
        repeat_action_probability=cfg.sticky_action_prob,
        full_action_space=cfg.full_action_space,
        autoreset_mode=AutoresetMode.NEXT_STEP,
        img_height=ROM_HEIGHT if colour else 84,
        img_width=ROM_WIDTH if colour else 84,
        grayscale=not colour,
        stack_num=1 if colour else cfg.frame_stack,
        frameskip=cfg.frame_skip,
        maxpool=True,
        noop_max=cfg.noop_max,
        episodic_life=False,  # would reset the whole game at each life loss: module docstring
        life_loss_info=cfg.episodic_life,
        reward_clipping=False,  # clipped here, so that scores stay game points
        use_fire_reset=True,
    )
