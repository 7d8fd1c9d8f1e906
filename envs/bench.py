"""Environment throughput, for `tempest-dqn bench env`: how fast the backend alone can go.

Random actions (drawn before the clock starts), the adapter included, construction and the
first reset excluded.  Frames are emulator frames (agent steps x frame_skip for ALE), the unit of
the `frame` and `fps` metrics.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from config import TEMPEST_ENV_ID, EnvConfig


def measure_env_fps(
    cfg: EnvConfig, steps: int = 2_000, *, warmup: int = 50, seed: int = 0
) -> dict[str, Any]:
    """Steps `cfg`'s vector env `steps` times with uniform random actions and times it.

    Returns:
        {"env_id", "num_envs", "frame_skip", "vector_steps", "agent_steps", "frames",
         "seconds", "agent_steps_per_s", "frames_per_s"}; agent steps count every env
        (vector steps x num_envs).
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got steps={steps} warmup={warmup}")
    from envs import make_vector_env

    env = make_vector_env(cfg)
    try:
        env.reset(seed=cfg.seed)
        num_actions = int(env.single_action_space.n)
        rng = np.random.default_rng(seed)
        actions = rng.integers(0, num_actions, size=(warmup + steps, env.num_envs))
        for row in actions[:warmup]:
            env.step(row)
        start = time.perf_counter()
        for row in actions[warmup:]:
            env.step(row)
        seconds = time.perf_counter() - start
    finally:
        env.close()
    frame_skip = 1 if cfg.id == TEMPEST_ENV_ID else cfg.frame_skip
    agent_steps = steps * env.num_envs
    return {
        "env_id": cfg.id,
        "num_envs": env.num_envs,
        "frame_skip": frame_skip,
        "vector_steps": steps,
        "agent_steps": agent_steps,
        "frames": agent_steps * frame_skip,
        "seconds": seconds,
        "agent_steps_per_s": agent_steps / seconds,
        "frames_per_s": agent_steps * frame_skip / seconds,
    }
