"""`tempest-dqn bench loop`: end-to-end agent steps/s on ALE/Pong-v5, ours against SB3's DQN.

The whole training loop is timed (env step, inference, replay add, sampling, learner step), not
one part of it: the issue's question is how many agent steps per second a user gets.  Three cases:

* **learning**: the Nature-DQN settings (batch 32, one learner step per 4 agent steps, a 100k
  replay, learning already started): our `Trainer` in the learner mode the `pong` preset gets
  on this machine (`learning_rows`) at 1 env (like for like with SB3's single env) and at 8
  (the preset's count), the other mode at 1 env, and Stable-Baselines3's `DQN` on the same
  settings.
  Ours is timed through `Trainer.step` in a loop, not `run()`, so neither metrics rows nor the
  final checkpoint (the whole replay) land in a timing.
* **learner step**: one learner step alone on a filled buffer: ours (`Trainer.learn`: sample,
  optimiser step, priorities, statistics) against SB3's `model.train(gradient_steps=1)`.
* **acting**: learning off.  The bare `AtariVectorEnv` (random actions) is the floor; our adapter
  alone, our loop with a random policy (the loop's own overhead; its actions, like the bare
  env's, drawn before the clock starts) and our loop with the network (inference included) are
  measured against it at 1 and 8 envs.

The machine is shared and noisy (DESIGN.md §7): every contender lives in this one process and
they take turns in blocks of about the same number of agent steps, each round starting with a
different contender; rates are medians of the per-block rates, with min and max.  OpenMP waits
passively unless the caller set OMP_WAIT_POLICY (see `passive_openmp`).  JSON on stdout, a
markdown table on stderr.
"""

from __future__ import annotations

import gc
import os
import statistics
import sys
import tempfile
import time

import numpy as np

import config
from agent.bench import harness
from agent.bench.harness import Block, interleave_blocks, median_of, rate_row, target
from agent.bench.loop_contenders import (
    BATCH,
    CAPACITY,
    ENV_ID,
    EPSILON,
    FRAME_SKIP,
    REPLAY_RATIO,
    TRAIN_FREQ,
    Ours,
    Sb3,
    our_config,
)

TARGET_VS_SB3 = 1.5
TARGET_VS_BARE = 0.8

SIZES = {  # agent steps (all envs together); quick: the test's sizes, < 60 s in all
    False: dict(learning_starts=1_000, warmup=1_500, learn_block=400, learn_rounds=10,
                train_reps=40, act_block=2_000, act_rounds=11, compile=None),
    True: dict(learning_starts=100, warmup=150, learn_block=40, learn_rounds=2,
               train_reps=5, act_block=200, act_rounds=2, compile=False),
}
"""compile: learner.compile for our learners, None = the preset's (quick skips compiling)."""
NUM_ENVS = (1, 8)



# -- cases ---------------------------------------------------------------------------------------

def learning_rows() -> tuple[tuple[str, int, bool, str], ...]:
    """(row name, num_envs, learner thread, learner.cnn_precision) of the learning case.

    The first row is the target: the `pong` preset as `tempest-dqn train` runs it on this
    machine (the learner thread only from `actor.learner_thread_min_cpus` CPUs), on SB3's one
    env; the second the other learner mode, for what it would give.  "auto" precision: the CNN
    computes in bfloat16 where the CPU does so natively (`aimodel.native_bf16`); the float32 row
    shows what the same loop makes without it, in SB3's own precision.
    """
    from agent.background import uses_learner_thread
    from agent.machine import usable_cpus

    default = uses_learner_thread(config.get_preset("pong").actor)
    mode = {True: "learner thread", False: "inline learner"}
    ours = f"ours, default here: {mode[default]} ({usable_cpus()} CPUs)"
    return ((f"{ours}, num_envs 1", 1, default, "auto"),
            (f"ours, {mode[not default]}, num_envs 1", 1, not default, "auto"),
            (f"{ours}, float32 CNN, num_envs 1", 1, default, "float32"),
            (f"{ours}, num_envs 8", 8, default, "auto"))


SB3_ROW = "SB3 DQN, 1 env"


def case_learning(size: dict, run_dir: str, notes: list[str]) -> dict:
    """Training at one learner step per 4 agent steps; then the learner step alone."""
    starts, rows_ = size["learning_starts"] * FRAME_SKIP, learning_rows()
    target_row, other_row = rows_[0][0], rows_[1][0]
    ours = {name: Ours(our_config(n, run_dir, f"learn-{n}-{int(thread)}-{precision}", True,
                                  starts, learner_thread=thread, cnn_precision=precision,
                                  compiled=size["compile"]))
            for name, n, thread, precision in rows_}
    for o in ours.values():  # fill past learning_starts, compile numba, warm the optimiser
        o.steps(size["warmup"])
    logs = {name: [] for name in [*ours, SB3_ROW]}
    contenders = {name: o.block(size["learn_block"], log=logs[name]) for name, o in ours.items()}
    sb3 = None
    if harness.optional("stable_baselines3") is None:
        notes.append(f"learning: stable-baselines3 {harness.MISSING}; SB3 rows skipped")
    else:
        sb3 = Sb3(size["learning_starts"], notes)
        sb3.learn(size["warmup"])
        contenders[SB3_ROW] = sb3.block(size["learn_block"], logs[SB3_ROW])
    rates = interleave_blocks(contenders, size["learn_rounds"])
    rows = [rate_row(name, r, "agent steps/s", num_envs=int(name.rsplit(" ", 1)[1])
                if name in ours else 1) for name, r in rates.items()]
    for r in rows:  # learner steps per agent step actually taken while timed: 0.25 expected
        r["learner_steps_per_agent_step"] = round(statistics.mean(logs[r["name"]]), 4)
    ratios, targets = {}, []
    if sb3 is not None:
        theirs = median_of(rows, SB3_ROW)
        ratios = {f"{name} / SB3": round(median_of(rows, name) / theirs, 4) for name in ours}
        targets.append(target(f"learning: {target_row} >= {TARGET_VS_SB3}x SB3 DQN agent "
                              "steps/s", ratios[f"{target_row} / SB3"], TARGET_VS_SB3))
    ratios["default / other learner mode, num_envs 1"] = round(
        median_of(rows, target_row) / median_of(rows, other_row), 4)
    learning = dict(case="learning", title=f"{ENV_ID}, batch {BATCH}, one learner step per "
                    f"{TRAIN_FREQ} agent steps, replay {CAPACITY:,}, learning started",
                    unit="agent steps/s", contenders=rows, ratios=ratios, targets=targets)
    learner = case_learner_step(ours, rows_, sb3, size)
    for o in ours.values():
        o.close()
    if sb3 is not None:
        sb3.close()
    return dict(learning=learning, learner_step=learner)


def case_learner_step(ours: dict[str, Ours], rows_: tuple, sb3: Sb3 | None,
                      size: dict) -> dict:
    """One learner step alone, on the buffers the learning case filled (ms per call)."""
    by_mode = {thread: ours[name] for name, n, thread, precision in rows_[:2]}
    calls = {"ours Trainer.learn, inline (sample, step, priorities, stats)":
             by_mode[False].learn_call,
             "ours Trainer.learn, learner thread's (+ acting-copy sync)":
             by_mode[True].learn_call}
    if sb3 is not None:
        calls["SB3 model.train(gradient_steps=1)"] = sb3.train_call
    times = {name: [] for name in calls}
    names = list(calls)
    for call in calls.values():
        call()
    for rep in range(size["train_reps"]):
        for name in names[rep % len(names):] + names[:rep % len(names)]:
            start = time.perf_counter()
            calls[name]()
            times[name].append((time.perf_counter() - start) * 1e3)
    rows = [dict(name=name, num_envs=1, unit="ms/call", median=statistics.median(t), min=min(t),
                 max=max(t), blocks=len(t)) for name, t in times.items()]
    ratios = {}
    if sb3 is not None:
        ratios["SB3 train / ours learn (inline)"] = round(rows[-1]["median"] / rows[0]["median"],
                                                          4)
    return dict(case="learner step", title=f"one learner step alone, batch {BATCH}, on the "
                "learning case's buffers", unit="ms/call", contenders=rows, ratios=ratios,
                targets=[])


def case_acting(size: dict, run_dir: str, notes: list[str]) -> dict:
    """Learning off: the bare AtariVectorEnv, our adapter, our loop (random policy, network).

    Besides the rates, each row has the process CPU time per agent step (every thread: ALE's
    emulator threads, the actor, torch's), a cost that a neighbour's load inflates far less
    than it does the wall-clock rate.
    """
    from envs.ale import make_ale_vector_env

    contenders, closers = {}, []
    for n in NUM_ENVS:
        ours = Ours(our_config(n, run_dir, f"act-{n}", False, 0))
        adapter = make_ale_vector_env(ours.cfg.env)  # same arguments as the trainer's env
        bare = adapter.env  # the AtariVectorEnv inside it, same arguments as ours
        contenders[f"bare AtariVectorEnv, num_envs {n}"] = env_block(bare, n, size["act_block"])
        contenders[f"our adapter (AleVectorEnv), num_envs {n}"] = env_block(adapter, n,
                                                                            size["act_block"])
        contenders[f"ours, random policy, num_envs {n}"] = ours.block(size["act_block"],
                                                                      "random")
        contenders[f"ours, network policy, num_envs {n}"] = ours.block(size["act_block"])
        ours.steps(max(size["act_block"] // 4, 2 * n))  # warm: first reset, numba, torch
        closers += [ours.close, adapter.close]
    cpu = {name: [] for name in contenders}
    timed = {name: with_cpu(block, cpu[name]) for name, block in contenders.items()}
    rates = interleave_blocks(timed, size["act_rounds"])
    for close in closers:
        close()
    rows = [rate_row(name, r, "agent steps/s", num_envs=int(name.rsplit(" ", 1)[1]),
                cpu_us_per_agent_step=round(statistics.median(cpu[name]), 2))
            for name, r in rates.items()]
    ratios, targets = {}, []
    for n in NUM_ENVS:
        bare = median_of(rows, f"bare AtariVectorEnv, num_envs {n}")
        bare_cpu = cpu_of(rows, f"bare AtariVectorEnv, num_envs {n}")
        for who in ("our adapter (AleVectorEnv)", "ours, random policy", "ours, network policy"):
            ratios[f"{who} / bare, num_envs {n}"] = round(
                median_of(rows, f"{who}, num_envs {n}") / bare, 4)
            ratios[f"bare / {who}, CPU per agent step, num_envs {n}"] = round(
                bare_cpu / cpu_of(rows, f"{who}, num_envs {n}"), 4)
        targets.append(target(f"acting: ours (random policy, num_envs {n}) >= "
                              f"{TARGET_VS_BARE} of the bare AtariVectorEnv",
                              ratios[f"ours, random policy / bare, num_envs {n}"],
                              TARGET_VS_BARE))
    notes.append("acting: the targets use the random-policy rows (the loop's own overhead: "
                 "actor, adapter, replay add, pacing, metrics); the network-policy rows add one "
                 "CPU forward pass per vector step, which the bare env does not pay")
    return dict(case="acting", title=f"{ENV_ID}, learning off, random actions for the bare env",
                unit="agent steps/s", contenders=rows, ratios=ratios, targets=targets)


def with_cpu(block: Block, log: list[float]) -> Block:
    """`block`, also logging the process CPU time (all threads) per agent step, in us."""
    def run() -> tuple[int, float]:
        start = time.process_time()
        steps, seconds = block()
        log.append((time.process_time() - start) / steps * 1e6)
        return steps, seconds
    return run


def cpu_of(rows: list[dict], name: str) -> float:
    return next(r["cpu_us_per_agent_step"] for r in rows if r["name"] == name)


def env_block(env, num_envs: int, agent_steps: int) -> Block:
    """Random actions, drawn before the clock starts, on `env` (reset once, lazily)."""
    vector_steps = max(1, agent_steps // num_envs)
    rng, state = np.random.default_rng(11), {"reset": False}
    actions = int(env.single_action_space.n)

    def run() -> tuple[int, float]:
        if not state["reset"]:
            env.reset(seed=0)
            state["reset"] = True
        drawn = rng.integers(0, actions, (vector_steps, num_envs))
        start = time.perf_counter()
        for a in drawn:
            env.step(a)
        return vector_steps * num_envs, time.perf_counter() - start
    run()  # warm
    return run


# -- report --------------------------------------------------------------------------------------

def reference(case: dict, row_: dict) -> float | None:
    """What the table's ratio column divides by: SB3 (learning), bare env (acting), ours (ms)."""
    rows = case["contenders"]
    if case["case"] == "learning":
        sb3 = [r for r in rows if r["name"].startswith("SB3")]
        return row_["median"] / sb3[0]["median"] if sb3 else None
    if case["case"] == "acting":
        bare = median_of(rows, f"bare AtariVectorEnv, num_envs {row_['num_envs']}")
        return row_["median"] / bare
    return row_["median"] / rows[0]["median"]


def markdown(report: dict) -> str:
    lines = ["| case | contender | envs | median | min | max | unit | ratio |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: |"]
    for case in report["cases"]:
        for r in case["contenders"]:
            ratio = reference(case, r)
            lines.append(f"| {case['case']} | {r['name']} | {r['num_envs']} | {r['median']:.1f} |"
                         f" {r['min']:.1f} | {r['max']:.1f} | {r['unit']} | "
                         f"{'' if ratio is None else f'{ratio:.2f}'} |")
    lines += ["", "ratio: learning = / SB3 DQN; learner step = / ours; acting = / bare "
              "AtariVectorEnv with the same num_envs"]
    lines += cpu_markdown(report)
    lines += harness.targets_markdown(report)
    lines += [""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines)


def cpu_markdown(report: dict) -> list[str]:
    """The acting rows' CPU time per agent step (all threads), bare env's over ours."""
    acting = next((c for c in report["cases"] if c["case"] == "acting"), None)
    if acting is None:
        return []
    lines = ["", "| acting: CPU per agent step (all threads) | envs | us | bare / this |",
             "| --- | ---: | ---: | ---: |"]
    for r in acting["contenders"]:
        bare = cpu_of(acting["contenders"], f"bare AtariVectorEnv, num_envs {r['num_envs']}")
        lines.append(f"| {r['name']} | {r['num_envs']} | {r['cpu_us_per_agent_step']:.1f} | "
                     f"{bare / r['cpu_us_per_agent_step']:.2f} |")
    return lines


def passive_openmp(notes: list[str]) -> str:
    """Sets OMP_WAIT_POLICY=PASSIVE before torch loads OpenMP, unless the caller chose one.

    Waiting OpenMP threads then sleep instead of spinning, so one contender's idle threads do
    not burn the core another contender's block runs on in this shared process.  It is no
    shield against outside load: with another process spinning on one of the 2 cores, every
    2-thread learner step took 3-5x longer under any policy (the barriers wait for the
    preempted partner).  A run with libgomp's default gave the same ratios (inline 1.54x SB3,
    before learner.compile); the note says which policy applied.
    """
    if "torch" in sys.modules:
        policy = os.environ.get("OMP_WAIT_POLICY", "unset (libgomp's default)")
        notes.append(f"OMP_WAIT_POLICY: torch was loaded before the bench: {policy}")
        return policy
    chosen = "OMP_WAIT_POLICY" in os.environ
    policy = os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    why = "set by the caller" if chosen else "set by the bench: idle OpenMP threads sleep"
    notes.append(f"OMP_WAIT_POLICY={policy} ({why})")
    return policy


def main(quick: bool = False) -> int:
    """Runs the learning, learner-step and acting cases; JSON on stdout, a table on stderr."""
    size, notes = SIZES[bool(quick)], []
    omp_wait_policy = passive_openmp(notes)
    started = time.perf_counter()
    if quick:
        notes.append("quick: tiny blocks and warm-ups (learning still started for both "
                     "learners), learner.compile off; the rates say nothing about the targets")
    with tempfile.TemporaryDirectory(prefix="bench-loop-") as run_dir:
        print("bench loop: learning ...", file=sys.stderr, flush=True)
        learning = case_learning(size, run_dir, notes)
        gc.collect()
        print("bench loop: acting ...", file=sys.stderr, flush=True)
        acting = case_acting(size, run_dir, notes)
    cases = [learning["learning"], learning["learner_step"], acting]
    params = dict(size, env_id=ENV_ID, batch_size=BATCH, replay_capacity=CAPACITY,
                  frame_skip=FRAME_SKIP, train_freq=TRAIN_FREQ,
                  replay_ratio=REPLAY_RATIO, epsilon=EPSILON,
                  num_envs=list(NUM_ENVS), preset="pong",
                  omp_wait_policy=omp_wait_policy,
                  sb3_warmup_past_learning_starts=True, units="agent steps: "
                  "vector steps x num_envs; each is frame_skip emulator frames")
    return harness.publish("loop", quick, params, cases, notes, started, markdown)

