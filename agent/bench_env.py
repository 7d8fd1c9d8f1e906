"""`tempest-dqn bench env`: the environment backend alone, ours against the bare emulator.

Our ALE adapter (score bookkeeping, reset-step detection, reward clipping) against the bare
`ale_py.vector_env.AtariVectorEnv` with the same settings, random actions, 1 and 8 envs, in
interleaved rounds.  The Tempest simulator joins when it exists (issue #4).
"""

from __future__ import annotations

import time
from dataclasses import replace

import numpy as np

import config
from agent import bench_contenders as bc
from envs import measure_env_fps

GAME, ENV_ID = "pong", "ALE/Pong-v5"
SIZES = {False: {"steps": 3000, "rounds": 5}, True: {"steps": 300, "rounds": 2}}


def _bare_rate(cfg: config.EnvConfig, steps: int) -> float:
    """Agent steps/s of the bare AtariVectorEnv with the adapter's settings."""
    from ale_py.vector_env import AtariVectorEnv

    env = AtariVectorEnv(GAME, num_envs=cfg.num_envs, frameskip=cfg.frame_skip,
                         repeat_action_probability=cfg.sticky_action_prob,
                         noop_max=cfg.noop_max, stack_num=cfg.frame_stack,
                         reward_clipping=False)
    try:
        env.reset(seed=cfg.seed)
        actions = np.random.default_rng(0).integers(0, env.single_action_space.n,
                                                    (steps + 50, cfg.num_envs))
        for row in actions[:50]:
            env.step(row)
        start = time.perf_counter()
        for row in actions[50:]:
            env.step(row)
        return steps * cfg.num_envs / (time.perf_counter() - start)
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
            "targets": [{"name": f"{num_envs} envs: ours >= 0.8 of bare", "value": ratio,
                         "threshold": 0.8, "met": ratio >= 0.8}]}


def markdown(report: dict) -> str:
    lines = ["| case | contender | median | min | max | unit |",
             "| --- | --- | ---: | ---: | ---: | --- |"]
    for case in report["cases"]:
        lines += [f"| {case['case']} | {r['name']} | {r['median']:.0f} | {r['min']:.0f} | "
                  f"{r['max']:.0f} | {case['unit']} |" for r in case["contenders"]]
    lines += ["", "| target | value | threshold | met |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {t['name']} | {t['value']:.3f} | {t['threshold']} | "
              f"{'yes' if t['met'] else 'NO'} |" for c in report["cases"] for t in c["targets"]]
    return "\n".join(lines + [""] + [f"- {n}" for n in report["notes"]])


def main(quick: bool = False) -> int:
    started, size = time.perf_counter(), SIZES[bool(quick)]
    cases = [_case(n, size) for n in (1, 8)]
    notes = [f"{ENV_ID}, pong preset settings (frame skip 4, sticky actions 0.25), random "
             "actions; the Tempest simulator arrives with issue #4"]
    return bc.publish("env", quick, dict(size, env_id=ENV_ID), cases, notes, started, markdown)
