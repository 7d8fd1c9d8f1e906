"""`tempest-dqn bench env`: the environment backend alone, ours against the bare emulator.

Two tables, each contender interleaved round by round in one process:

* ALE: our adapter (score bookkeeping, reset-step detection, reward clipping) against the bare
  `ale_py.vector_env.AtariVectorEnv` with the same settings, random actions, 1 and 8 envs.
* Tempest: `Tempest-v0` game frames/s at 1, 64 and 256 envs with random actions and with the
  expert labelling every state (as the trainer runs it), beside ALE Pong's bare AtariVectorEnv
  with as many envs (emulator frames/s, frame skip 4).  Targets: >= 100,000 frames/s at 256
  envs; the expert costs at most half of that.
"""

from __future__ import annotations

import time
from dataclasses import replace
from typing import Any

import numpy as np

import config
import envs
from agent.bench import harness

GAME, ENV_ID = "pong", "ALE/Pong-v5"
SIZES = {False: {"steps": 3000, "rounds": 5}, True: {"steps": 300, "rounds": 2}}
TEMPEST_SIZES = {False: {"frames": 300_000, "rounds": 3, "ale_max_envs": 256},
                 True: {"frames": 20_000, "rounds": 1, "ale_max_envs": 64}}
"""Game frames per contender and round (all envs together), so every env count costs alike;
ALE Pong's reference row only up to `ale_max_envs` envs (building 256 emulators takes 30 s,
more than the rest of a quick run)."""
TEMPEST_TARGET_FPS = 100_000
ALE_ROW = "ALE Pong bare AtariVectorEnv"
"""The Tempest table's reference contender: ALE Pong's bare vector env with as many envs."""


def measure_env_fps(
    cfg: config.EnvConfig, steps: int = 2_000, *, warmup: int = 50, seed: int = 0
) -> dict[str, Any]:
    """Env throughput, the backend alone: random actions (drawn before the clock starts), the
    adapter included, construction and the first reset excluded.  Frames are emulator frames
    (agent steps x frame_skip for ALE), the unit of the `frame` and `fps` metrics.

    Steps `cfg`'s vector env `steps` times with uniform random actions and times it.

    Returns:
        {"env_id", "num_envs", "frame_skip", "vector_steps", "agent_steps", "frames",
         "seconds", "agent_steps_per_s", "frames_per_s"}; agent steps count every env
        (vector steps x num_envs).
    """
    if steps < 1 or warmup < 0:
        raise ValueError(f"steps must be >= 1 and warmup >= 0, got steps={steps} warmup={warmup}")
    env = envs.make_vector_env(cfg)
    try:
        seconds = timed_random_steps(env, steps, warmup, seed, reset_seed=cfg.seed)
    finally:
        env.close()
    frame_skip = envs.frames_per_step(cfg)
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


def _bare_rate(cfg: config.EnvConfig, steps: int) -> float:
    """Agent steps/s of the bare AtariVectorEnv with the adapter's settings."""
    from ale_py.vector_env import AtariVectorEnv

    env = AtariVectorEnv(GAME, num_envs=cfg.num_envs, frameskip=cfg.frame_skip,
                         repeat_action_probability=cfg.sticky_action_prob,
                         noop_max=cfg.noop_max, stack_num=cfg.frame_stack,
                         reward_clipping=False)
    try:
        return steps * cfg.num_envs / timed_random_steps(env, steps, 50, 0, reset_seed=cfg.seed)
    finally:
        env.close()


def _case(num_envs: int, size: dict) -> dict:
    cfg = replace(config.get_preset("pong").env, id=ENV_ID, num_envs=num_envs)
    rates: dict[str, list[float]] = {"ours (AleVectorEnv)": [], "bare AtariVectorEnv": []}
    for _ in range(size["rounds"]):
        rates["ours (AleVectorEnv)"].append(
            measure_env_fps(cfg, size["steps"])["agent_steps_per_s"])
        rates["bare AtariVectorEnv"].append(_bare_rate(cfg, size["steps"]))
    rows = [{"name": name, "median": float(np.median(v)), "min": min(v), "max": max(v),
             "reps": len(v)} for name, v in rates.items()]
    ratio = rows[0]["median"] / rows[1]["median"]
    return {"case": f"{num_envs} envs", "unit": "agent steps/s", "contenders": rows,
            "ratios": {"ours / bare": round(ratio, 4)},
            "targets": [harness.target(f"{num_envs} envs: ours >= 0.8 of bare", ratio, 0.8)]}


def timed_random_steps(env, steps: int, warmup: int, seed: int,
                       reset_seed: int | None = None) -> float:
    """Seconds for `steps` vector steps of `env` with uniform random actions, drawn (with
    `seed`) before the clock starts, after a reset (`reset_seed`, default `seed`) and `warmup`
    untimed steps."""
    env.reset(seed=seed if reset_seed is None else reset_seed)
    actions = np.random.default_rng(seed).integers(0, env.single_action_space.n,
                                                   (warmup + steps, env.num_envs))
    for row in actions[:warmup]:
        env.step(row)
    start = time.perf_counter()
    for row in actions[warmup:]:
        env.step(row)
    return time.perf_counter() - start


def _tempest_contenders(num_envs: int, with_ale: bool) -> dict:
    """name -> (env factory, frames per agent step); ALE Pong's bare env only `with_ale`."""
    from ale_py.vector_env import AtariVectorEnv

    from expert.labels import with_expert

    cfg = config.Config()
    env_cfg = replace(cfg.env, num_envs=num_envs)
    pong = config.get_preset("pong").env
    contenders = {
        "Tempest-v0 random": (lambda: envs.make_vector_env(env_cfg), 1),
        "Tempest-v0 + expert": (
            lambda: with_expert(envs.make_vector_env(env_cfg), env_cfg, cfg.expert), 1),
    }
    if with_ale:
        contenders[ALE_ROW] = (
            lambda: AtariVectorEnv(GAME, num_envs=num_envs, frameskip=pong.frame_skip,
                                   repeat_action_probability=pong.sticky_action_prob,
                                   noop_max=pong.noop_max, reward_clipping=False),
            pong.frame_skip)
    return contenders


def _tempest_case(num_envs: int, size: dict) -> dict:
    contenders = _tempest_contenders(num_envs, num_envs <= size["ale_max_envs"])
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(size["rounds"]):
        for name, (make, frame_skip) in contenders.items():
            steps = max(size["frames"] // (num_envs * frame_skip * (8 if frame_skip > 1 else 1)),
                        10)
            env = make()
            try:
                seconds = timed_random_steps(env, steps, 20, 0)
                rates[name].append(steps * num_envs * frame_skip / seconds)
            finally:
                env.close()
    rows = [{"name": name, "median": float(np.median(v)), "min": min(v), "max": max(v),
             "reps": len(v)} for name, v in rates.items()]
    medians = {row["name"]: row["median"] for row in rows}
    sim, expert = medians["Tempest-v0 random"], medians["Tempest-v0 + expert"]
    ratios = {"with expert / random": round(expert / sim, 4)}
    if ALE_ROW in medians:
        ratios["Tempest / ALE Pong"] = round(sim / medians[ALE_ROW], 2)
    case = {"case": f"Tempest {num_envs} envs", "unit": "game frames/s", "contenders": rows,
            "ratios": ratios, "targets": []}
    if num_envs == 256:
        case["targets"] = [
            harness.target("256 envs: Tempest random frames/s", sim, TEMPEST_TARGET_FPS),
            harness.target("256 envs: Tempest + expert frames/s (>= half the target)", expert,
                           TEMPEST_TARGET_FPS / 2)]
    return case


def markdown(report: dict) -> str:
    lines = ["| case | contender | median | min | max | unit |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    for case in report["cases"]:
        lines += [f"| {case['case']} | {r['name']} | {r['median']:.0f} | {r['min']:.0f} | "
                  f"{r['max']:.0f} | {case['unit']} |" for r in case["contenders"]]
    lines += harness.targets_markdown(report)
    return "\n".join(lines + [""] + [f"- {n}" for n in report["notes"]])


def main(quick: bool = False) -> int:
    started, size = time.perf_counter(), SIZES[bool(quick)]
    cases = [_case(n, size) for n in (1, 8)]
    cases += [_tempest_case(n, TEMPEST_SIZES[bool(quick)]) for n in (1, 64, 256)]
    notes = [f"{ENV_ID}, pong preset settings (frame skip 4, sticky actions 0.25), random "
             "actions",
             "Tempest-v0: default preset settings (wave 1, one life per episode, 44 actions); "
             "'+ expert' adds the expert's label for every state, as the trainer runs it; ALE "
             "Pong's frames are emulator frames (4 per agent step), ALE's own fast path; "
             "Pong gets 1/8 of Tempest's frame budget per round to keep the run short"]
    if quick:
        notes.append("quick: no ALE Pong row above 64 envs (building 256 emulators takes "
                     "30 s)")
    return harness.publish("env", quick, dict(size, env_id=ENV_ID), cases, notes, started, markdown)
