"""The contenders of `tempest-dqn bench loop` and the settings they share: our `Trainer` driven
step by step, and Stable-Baselines3's `DQN` on the same Nature-DQN settings with its own Atari
wrappers (OpenCV's resize replaced by an equivalent in numpy where OpenCV is missing).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable

import numpy as np

import config
from agent.bench.harness import Block

ENV_ID = "ALE/Pong-v5"
BATCH = 32
CAPACITY = 100_000
FRAME_SKIP = 4
TRAIN_FREQ = 4  # agent steps per learner step
REPLAY_RATIO = BATCH / (TRAIN_FREQ * FRAME_SKIP)  # samples per emulator frame: 2.0
EPSILON = 0.05
"""Fixed exploration rate of both learners while timed (SB3's final epsilon).  SB3 skips the
network on random actions, so an annealing epsilon near 1 would spare it the inference that a
long run pays; ours runs the network on every step whatever epsilon is."""

# -- ours ----------------------------------------------------------------------------------------

def our_config(num_envs: int, run_dir: str, name: str, learn: bool,
               learning_starts_frames: int, learner_thread: bool = True,
               cnn_precision: str = "auto", compiled: bool | None = None) -> config.Config:
    """The `pong` preset on the Nature-DQN settings: batch 32 every 4 agent steps, 100k replay."""
    cfg = config.apply_overrides(config.get_preset("pong"), {
        "actor.learner_thread": learner_thread, "actor.learner_thread_min_cpus": 0,
        "env.id": ENV_ID, "env.num_envs": num_envs, "env.frame_skip": FRAME_SKIP,
        "learner.batch_size": BATCH, "learner.micro_batches": 1,
        "learner.replay_ratio": REPLAY_RATIO, "learner.device": "cpu",
        "learner.cnn_precision": cnn_precision,
        **({} if compiled is None else {"learner.compile": compiled}),
        # learning off: a start that is never reached (replay_ratio must stay > 0)
        "learner.learning_starts": learning_starts_frames if learn else 10**15,
        "replay.capacity": CAPACITY,
        "actor.epsilon_start": EPSILON, "actor.epsilon_end": EPSILON,
        "actor.eval_every_frames": 0,
        "metrics.interval_s": 1e9, "tui.enabled": False,
        "run.run_dir": run_dir, "run.name": name, "run.checkpoint_every_s": 0.0,
        "run.frames": 10**15,
    })
    config.validate(cfg)
    return cfg


class Ours:
    """A `Trainer` driven through `step` as `run()` drives it, minus metrics rows and saves.
    Without the expert's labels: SB3's DQN has no expert, and neither has ours here.

    With `actor.learner_thread` the learner thread is started as `run()` starts it, and every
    timed block ends with `drain()`: the learner steps a block owes are paid inside that block,
    never on another contender's clock.
    """

    def __init__(self, cfg: config.Config):
        from agent.rundir import open_run_dir
        from agent.trainer import Trainer

        self.cfg, self.num_envs = cfg, cfg.env.num_envs
        self.trainer = Trainer(cfg, open_run_dir(cfg), label=lambda env, _cfg: env)
        if cfg.actor.learner_thread:
            self.trainer.start_learner_thread()
        self.network = self.trainer.actor.greedy
        actions = int(self.trainer.env.single_action_space.n)
        drawn = np.random.default_rng(7).integers(0, actions, (4096, self.num_envs))
        rows = itertools.cycle(drawn)  # drawn ahead, as env_block draws the bare env's
        self.random = lambda obs: next(rows)

    def steps(self, agent_steps: int) -> int:
        """Runs whole vector steps worth `agent_steps` (at least one); returns agent steps."""
        vector_steps = max(1, agent_steps // self.num_envs)
        for _ in range(vector_steps):
            self.trainer.step()
        if self.trainer.background is not None:
            self.trainer.background.drain()
        return vector_steps * self.num_envs

    def block(self, agent_steps: int, policy: str = "network",
              log: list | None = None) -> Block:
        def run() -> tuple[int, float]:
            self.trainer.actor.greedy = self.random if policy == "random" else self.network
            learned = self.trainer.learner.learner_steps
            start = time.perf_counter()
            done = self.steps(agent_steps)
            seconds = time.perf_counter() - start
            if log is not None:
                log.append((self.trainer.learner.learner_steps - learned) / done)
            return done, seconds
        return run

    def learn_call(self) -> None:
        """One learner step on this thread (the learner thread is idle after `drain()`)."""
        self.trainer.learn()

    def close(self) -> None:
        if self.trainer.background is not None:
            self.trainer.background.stop()
        self.trainer.env.close()


# -- Stable-Baselines3 ---------------------------------------------------------------------------

def area_taps(size_in: int, size_out: int) -> tuple[np.ndarray, np.ndarray]:
    """Source indices and weights, (taps, size_out) each, of an area-average resize: what
    cv2's INTER_AREA computes (each output pixel averages the input span it covers)."""
    scale = size_in / size_out
    spans = [(i * scale, (i + 1) * scale) for i in range(size_out)]
    taps = max(int(np.ceil(hi)) - int(lo) for lo, hi in spans)
    index, weight = np.zeros((taps, size_out), np.intp), np.zeros((taps, size_out), np.float32)
    for i, (lo, hi) in enumerate(spans):
        for k, j in enumerate(range(int(lo), min(int(np.ceil(hi)), size_in))):
            index[k, i], weight[k, i] = j, (min(hi, j + 1) - max(lo, j)) / scale
    return index, weight


def numpy_warp(warp) -> Callable[[np.ndarray], np.ndarray]:
    """WarpFrame.observation without OpenCV: RGB -> gray (cv2's weights) -> area resize.

    Elementwise numpy only: a BLAS matmul here would bring OpenBLAS's spinning threads, which
    took 15 ms per small product on this shared machine (the gathers below take ~0.1 ms).
    """
    row_index, row_weight = area_taps(210, warp.height)
    col_index, col_weight = area_taps(160, warp.width)
    row_weight, luma = row_weight[:, :, None], np.array([0.299, 0.587, 0.114], np.float32)

    def observation(frame: np.ndarray) -> np.ndarray:
        if frame.shape != (210, 160, 3):
            raise ValueError(f"expected 210x160 RGB ALE frames, got {frame.shape}")
        gray = frame[..., 0] * luma[0] + frame[..., 1] * luma[1] + frame[..., 2] * luma[2]
        rows = (gray[row_index] * row_weight).sum(axis=0)          # (height, 160)
        out = (rows[:, col_index] * col_weight).sum(axis=1)  # (height, width)
        return np.rint(out).astype(np.uint8)[:, :, None]
    return observation


def sb3_env(notes: list[str]):
    """ALE/Pong-v5 (frameskip=1, ALE's sticky actions 0.25 like ours) + SB3's AtariWrapper
    (no-op starts, frame skip 4 with max-pooling, life loss terminal, FIRE reset, 84x84 gray,
    clipped rewards) + VecFrameStack(4): SB3's own Atari pipeline on the installed ale-py."""
    import ale_py
    import gymnasium as gym
    from stable_baselines3.common import atari_wrappers as aw
    from stable_baselines3.common.vec_env import DummyVecEnv, VecFrameStack

    gym.register_envs(ale_py)
    patched = []

    def make():
        env = aw.AtariWrapper(gym.make(ENV_ID, frameskip=1), frame_skip=FRAME_SKIP,
                              terminal_on_life_loss=True, clip_reward=True)
        if getattr(aw, "cv2", None) is None:  # SB3's WarpFrame asserts on a missing OpenCV
            warp = env
            while not isinstance(warp, aw.WarpFrame):
                warp = warp.env
            warp.observation = numpy_warp(warp)
            patched.append(True)
        return env

    venv = DummyVecEnv([make])
    venv.seed(0)
    if patched:
        notes.append("SB3: OpenCV is not installed, so WarpFrame's cv2 gray+INTER_AREA resize "
                     "is replaced by an elementwise numpy equivalent (~0.1 ms a frame, "
                     "against SB3's ~30-50 ms train call per 4 steps)")
    return VecFrameStack(venv, n_stack=4)


class Sb3:
    """SB3's DQN on the same settings; blocks are `learn(n, reset_num_timesteps=False)`."""

    def __init__(self, learning_starts: int, notes: list[str]):
        from stable_baselines3 import DQN

        self.env = sb3_env(notes)
        self.model = DQN("CnnPolicy", self.env, buffer_size=CAPACITY,
                         learning_starts=learning_starts, batch_size=BATCH,
                         train_freq=TRAIN_FREQ, gradient_steps=1, target_update_interval=1000,
                         exploration_initial_eps=EPSILON, exploration_final_eps=EPSILON,
                         optimize_memory_usage=True,
                         replay_buffer_kwargs={"handle_timeout_termination": False},
                         verbose=0, device="cpu", seed=0)

    def learn(self, agent_steps: int) -> None:
        self.model.learn(total_timesteps=agent_steps, reset_num_timesteps=False)

    def block(self, agent_steps: int, log: list) -> Block:
        def run() -> tuple[int, float]:
            updates, before = self.model._n_updates, self.model.num_timesteps
            start = time.perf_counter()
            self.learn(agent_steps)
            seconds = time.perf_counter() - start
            done = self.model.num_timesteps - before
            log.append((self.model._n_updates - updates) / done)
            return done, seconds
        return run

    def train_call(self) -> None:
        self.model.train(gradient_steps=1, batch_size=BATCH)

    def close(self) -> None:
        self.env.close()
