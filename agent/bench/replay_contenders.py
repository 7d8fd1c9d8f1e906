"""The contenders of `tempest-dqn bench replay`: how each library is built, filled and called.

Kept apart from the benchmark (`agent.bench.replay`) so that each library's quirks (cpprb's
keyword arrays, SB3's `infos` list, which settings actually work) sit in one place, and so that
the timing only ever sees zero-argument callables.  cpprb and Stable-Baselines3 are optional
(`pip install -e '.[bench]'`): `harness.optional()` returns None where they are missing.
"""

from __future__ import annotations

from functools import partial
from typing import NamedTuple

import numpy as np

from agent.bench.harness import MISSING, mem_available, optional, progress, rss, version
from replay import ReplayBuffer, Source

NUM_ENVS = 64
P_TERMINATED = 0.002


class Step(NamedTuple):
    """One vector-env step of NUM_ENVS transitions, in the dtypes every contender accepts."""

    obs: np.ndarray
    next_obs: np.ndarray
    action: np.ndarray
    reward: np.ndarray
    terminated: np.ndarray
    truncated: np.ndarray
    done: np.ndarray
    source: np.ndarray


def random_observations(rng: np.random.Generator, envs: int,
                        obs_shape: tuple[int, ...]) -> np.ndarray:
    """One step's observations for `envs` envs: uint8 frames for (k, H, W), float32 vectors
    otherwise."""
    if len(obs_shape) == 3:
        return rng.integers(0, 256, (envs, *obs_shape), dtype=np.uint8)
    return rng.standard_normal((envs, *obs_shape), dtype=np.float32)


def step_pool(rng: np.random.Generator, obs_shape: tuple[int, ...], count: int) -> list[Step]:
    """A few pregenerated steps cycled through by every fill: random data touches every page,
    and pregenerating keeps the random number generator out of both fills and timings."""
    pool = []
    for _ in range(count):
        obs = random_observations(rng, NUM_ENVS, obs_shape)
        terminated = rng.random(NUM_ENVS) < P_TERMINATED
        pool.append(Step(obs, None, rng.integers(0, 18, NUM_ENVS).astype(np.int16),
                         rng.standard_normal(NUM_ENVS, dtype=np.float32), terminated,
                         np.zeros(NUM_ENVS, np.bool_), terminated.astype(np.float32),
                         np.full(NUM_ENVS, Source.DQN, np.uint8)))
    # next_obs of step k is obs of step k+1, as a vector env hands them over.
    return [s._replace(next_obs=pool[(k + 1) % count].obs) for k, s in enumerate(pool)]


# -- ours ----------------------------------------------------------------------------------------

def ours_add(buf: ReplayBuffer, step: Step) -> None:
    buf.add(step.obs, step.action, step.reward, step.terminated, step.truncated, step.next_obs,
            step.source)


def fill(add, pool: list[Step], steps: int, label: str) -> None:
    """`steps` calls of `add(step)` cycling through the pool, with progress lines."""
    for t in range(steps):
        add(pool[t % len(pool)])
        progress(label, t, steps)


# -- cpprb ---------------------------------------------------------------------------------------

def cpprb_env_dict(obs_dim: int, next_obs: bool) -> dict:
    env = {"obs": {"shape": obs_dim, "dtype": np.float32}, "act": {"dtype": np.int16},
           "rew": {"dtype": np.float32}, "done": {"dtype": np.float32}}
    if next_obs:
        env["next_obs"] = {"shape": obs_dim, "dtype": np.float32}
    return env


def cpprb_add(rb, step: Step) -> None:
    """One add() of the whole 64-transition step (cpprb ignores keys it was not built with)."""
    rb.add(obs=step.obs, act=step.action, rew=step.reward, next_obs=step.next_obs, done=step.done)


def cpprb_nstep_add(rb, step: Step) -> None:
    """`cpprb_add` with a copy of the rewards: cpprb 11.0.0's Nstep add() accumulates the
    discounted return into the caller's reward array in place, so reused step arrays would
    grow to inf over a fill."""
    cpprb_add(rb, step._replace(reward=step.reward.copy()))


def cpprb_nstep_next_of_works(cpprb, nstep: dict) -> bool:
    """Whether next_of="obs" and Nstep together still return next_obs from sample().

    cpprb 11.0.0 drops next_obs from the sampled dict in that combination, so the bench probes a
    tiny buffer first instead of timing a contender that returns less than ours.
    """
    try:
        rb = cpprb.PrioritizedReplayBuffer(256, cpprb_env_dict(3, False), next_of="obs",
                                           Nstep=nstep)
        pool = step_pool(np.random.default_rng(0), (3,), 2)
        for step in pool * 2:
            cpprb_nstep_add(rb, step)
        return "next_obs" in rb.sample(4, 0.4)
    except Exception:  # any failure of the combination means: do not use it
        return False


def make_cpprb_per(cpprb, size: int, obs_dim: int, nstep: dict | None):
    """cpprb PrioritizedReplayBuffer for case A; returns (buffer, how next_obs is stored)."""
    if nstep is not None and not cpprb_nstep_next_of_works(cpprb, nstep):
        rb = cpprb.PrioritizedReplayBuffer(size, cpprb_env_dict(obs_dim, True), Nstep=nstep)
        return rb, "explicit next_obs column (next_of='obs' with Nstep returns no next_obs)"
    kwargs = {} if nstep is None else {"Nstep": nstep}
    rb = cpprb.PrioritizedReplayBuffer(size, cpprb_env_dict(obs_dim, False), next_of="obs",
                                       **kwargs)
    return rb, "next_of='obs' (next observation not stored twice)"


# -- Stable-Baselines3 ---------------------------------------------------------------------------

def sb3_nstep_support(sb3_buffers) -> tuple[bool, str]:
    """Whether the installed SB3 does n-step returns with optimize_memory_usage, and a note."""
    cls = getattr(sb3_buffers, "NStepReplayBuffer", None)
    if cls is None:
        return False, "this SB3 has no n-step replay buffer: timed 1-step"
    try:
        cls(64, _frame_space(), _action_space(), device="cpu", n_envs=1,
            optimize_memory_usage=True, handle_timeout_termination=False, n_steps=3)
    except Exception as err:  # SB3 2.x raises NotImplementedError here
        return False, (f"NStepReplayBuffer exists but refuses optimize_memory_usage=True "
                       f"({type(err).__name__}: {err}): timed the 1-step ReplayBuffer")
    return True, "NStepReplayBuffer(n_steps=3, optimize_memory_usage=True)"


def _frame_space():
    from gymnasium import spaces

    return spaces.Box(0, 255, (4, 84, 84), np.uint8)


def _action_space():
    from gymnasium import spaces

    return spaces.Discrete(18)


def sb3_bytes_per_transition() -> int:
    """Bytes of one row of SB3's arrays with optimize_memory_usage (one full stack, no next)."""
    return 4 * 84 * 84 + 8 + 4 + 4 + 4  # observation, int64 action, reward, done, timeout


def make_sb3(sb3_buffers, capacity: int, n_step: int):
    """SB3's memory-optimised frame buffer (n-step variant when it allows that; else 1-step)."""
    kwargs = dict(device="cpu", n_envs=NUM_ENVS, optimize_memory_usage=True,
                  handle_timeout_termination=False)
    if n_step > 1:
        return sb3_buffers.NStepReplayBuffer(capacity, _frame_space(), _action_space(),
                                             n_steps=n_step, **kwargs)
    return sb3_buffers.ReplayBuffer(capacity, _frame_space(), _action_space(), **kwargs)


def sb3_add(buf, step: Step, infos=tuple({} for _ in range(NUM_ENVS))) -> None:
    buf.add(step.obs, step.next_obs, step.action, step.reward, step.done, list(infos))


def sb3_nbytes(buf) -> int:
    names = ("observations", "next_observations", "actions", "rewards", "dones", "timeouts")
    return sum(getattr(buf, n).nbytes for n in names if hasattr(buf, n))


def make_filled_sb3(ours_capacity: int, n_step: int, headroom: int, memory: dict,
                    notes: list[str]):
    """SB3 at the largest capacity that fits beside ours with `headroom` to spare, filled.

    Capped at ours' capacity; with 7 GB of ours resident that is about a quarter of a million
    transitions.  Returns None (with a note) where SB3 is missing or nothing fits.
    """
    if optional("stable_baselines3") is None:
        notes.append(f"B: stable-baselines3 {MISSING}")
        return None
    from stable_baselines3.common import buffers

    nstep_ok, note = sb3_nstep_support(buffers)
    fits = (mem_available() - headroom) // sb3_bytes_per_transition()
    capacity = min(fits, ours_capacity) // NUM_ENVS * NUM_ENVS
    if capacity < 4 * NUM_ENVS:
        notes.append(f"B: SB3 skipped: only {fits} transitions fit with {headroom >> 30} GiB free")
        return None
    notes.append(f"B: SB3 {version('stable-baselines3')} ReplayBuffer, optimize_memory_usage="
                 f"True, capacity {capacity} (largest fitting beside ours with {headroom >> 30} "
                 f"GiB left free, at most ours); n-step: {note}")
    before = rss()
    sb3 = make_sb3(buffers, capacity, n_step if nstep_ok else 1)
    pool = step_pool(np.random.default_rng(4), (4, 84, 84), 4)
    fill(lambda s: sb3_add(sb3, s), pool, capacity // NUM_ENVS + 1, "B: filling SB3")
    memory["sb3"] = {"capacity": capacity, "nbytes": sb3_nbytes(sb3),
                     "bytes_per_transition": sb3_nbytes(sb3) / capacity,
                     "rss_growth": rss() - before, "n_step": n_step if nstep_ok else 1}
    return sb3


def adders_for_c(capacity: int, n_step: int, notes: list[str]) -> dict:
    """name -> add(step) for case C; the buffers live as long as the returned dict."""
    uniform = ReplayBuffer(capacity, NUM_ENVS, (195,), n_step=n_step)
    prioritised = ReplayBuffer(capacity, NUM_ENVS, (195,), prioritized=True, n_step=n_step)
    adders = {"ours uniform": partial(ours_add, uniform),
              "ours prioritised": partial(ours_add, prioritised)}
    cpprb = optional("cpprb")
    if cpprb is None:
        notes.append(f"C: cpprb {MISSING}")
        return adders
    both, once = cpprb_env_dict(195, True), cpprb_env_dict(195, False)
    adders["cpprb ReplayBuffer"] = partial(cpprb_add, cpprb.ReplayBuffer(capacity, both))
    adders["cpprb PrioritizedReplayBuffer"] = partial(
        cpprb_add, cpprb.PrioritizedReplayBuffer(capacity, both))
    adders["cpprb ReplayBuffer next_of=obs"] = partial(
        cpprb_add, cpprb.ReplayBuffer(capacity, once, next_of="obs"))
    notes.append("C: cpprb gets each 64-transition step in one add() and stores obs, act, rew, "
                 "done and a next_obs column (no Nstep): its next_of and Nstep treat consecutive "
                 "rows as one stream, which would pair env k's obs with env k+1's; the "
                 "next_of='obs' variant (obs stored once, as ours) is shown for reference only. "
                 "Ours copies obs (next_obs only at episode ends) plus its own columns")
    return adders


def warm_numba() -> None:
    """Compiles (or loads from numba's cache) our kernels before anything is measured, so the
    compiler's memory and time land in neither a fill, an RSS growth nor a timing."""
    rng = np.random.default_rng(0)
    for shape, prioritized in (((195,), True), ((4, 84, 84), False)):
        buf = ReplayBuffer(32 * NUM_ENVS, NUM_ENVS, shape, prioritized=prioritized, n_step=3)
        pool = step_pool(rng, shape, 2)
        for k in range(20):
            ours_add(buf, pool[k % 2])
        batch = buf.sample(8, out=buf.empty_batch(8))
        buf.update_priorities(batch.indices, np.ones(8))
