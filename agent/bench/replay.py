"""`tempest-dqn bench replay`: our replay buffer vs cpprb, Stable-Baselines3 and the memory floor.

The machine is shared and noisy, so absolute times mean little (DESIGN.md §7): every contender of
a case lives in this one process, all are warmed up first (numba compiles on the first call), and
then they take turns rep by rep, each rep starting with a different contender, so a burst of noise
hits all of them alike.  Results are medians with min and max, and ratios against ours.

Cases: A prioritised sample + priority update of 16,384 Tempest vectors with 12-step returns;
B uniform samples of ALE 4-frame stacks (3-step) against SB3, plus memory per transition;
C add throughput of 64-env steps.  JSON on stdout, a markdown table on stderr.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

import numpy as np

from agent.bench import harness
from agent.bench import replay_contenders as rc
from agent.bench.harness import Thunk, fixed, interleave, median_of, summarise, target
from replay import ReplayBuffer

SIZES = {  # quick: ~20x smaller buffers and fewer reps, for the test (< 60 s in all)
    False: dict(capacity=1_000_000, reps_a=30, reps_b=200, reps_c=60, warmup=3),
    True: dict(capacity=50_000, reps_a=6, reps_b=30, reps_c=10, warmup=2),
}
BATCH_A, N_STEP_A, GAMMA, BETA = 16_384, 12, 0.99, 0.4
BATCHES_B, N_STEP_B = (32, 256), 3
STEPS_PER_CALL_C = 32  # one timed call adds this many steps: a single add is a few microseconds
HEADROOM = 5 * 2**30   # left free when sizing SB3's buffer next to ours (brief: >= 4 GiB)
NSTEP_CPPRB = {"size": N_STEP_A, "gamma": GAMMA, "rew": "rew", "next": "next_obs"}

def case_a(size: dict, notes: list[str]) -> dict:
    """Prioritised sample + update: ours (fresh, out=), cpprb, and the bare gather floor."""
    cap, rng = size["capacity"], np.random.default_rng(1)
    pool, steps = rc.step_pool(rng, (195,), 8), cap // rc.NUM_ENVS + 16
    before = harness.rss()
    ours = ReplayBuffer(cap, rc.NUM_ENVS, (195,), prioritized=True, n_step=N_STEP_A, gamma=GAMMA)
    rc.fill(lambda s: rc.ours_add(ours, s), pool, steps, "A: filling ours")
    memory = {"ours": {"nbytes": ours.nbytes, "rss_growth": harness.rss() - before}}
    td, out = rng.random(BATCH_A) + 0.1, ours.empty_batch(BATCH_A)

    def ours_call(reuse: bool, threads: int) -> Thunk:
        def call() -> None:
            ours.sample_threads = threads
            batch = ours.sample(BATCH_A, beta=BETA, out=out if reuse else None)
            ours.update_priorities(batch.indices, td)
        return call

    floor = rng.standard_normal((cap, 195), dtype=np.float32)
    idx_rng, taken = np.random.default_rng(2), np.empty((2, BATCH_A, 195), np.float32)

    def floor_call(take: bool) -> Callable[[], Thunk]:
        def make() -> Thunk:  # fresh indices every call: repeats would measure the cache
            idx = idx_rng.integers(0, cap, BATCH_A)
            nxt = (idx + N_STEP_A) % cap
            if take:
                return lambda: (np.take(floor, idx, 0, taken[0], "clip"),
                                np.take(floor, nxt, 0, taken[1], "clip"))
            return lambda: (floor[idx], floor[nxt])
        return make

    contenders = {"ours (fresh arrays)": fixed(ours_call(False, 1)),
                  "ours (out= reuse)": fixed(ours_call(True, 1)),
                  "ours, 2 threads (fresh arrays)": fixed(ours_call(False, 2)),
                  "ours, 2 threads (out= reuse)": fixed(ours_call(True, 2)),
                  "floor: numpy fancy index": floor_call(False),
                  "floor: np.take(out=)": floor_call(True)}
    cpprb, rb = harness.optional("cpprb"), None
    if cpprb is None:
        notes.append(f"A: cpprb {harness.MISSING}")
    else:
        before = harness.rss()
        rb, how = rc.make_cpprb_per(cpprb, cap, 195, NSTEP_CPPRB)
        notes.append(f"A: cpprb PrioritizedReplayBuffer with Nstep={NSTEP_CPPRB}; {how}; its "
                     "Nstep add() rewrites the caller's reward array in place (cpprb 11.0.0), "
                     "so the fill hands it copies")
        rc.fill(lambda s: rc.cpprb_nstep_add(rb, s), pool, steps, "A: filling cpprb")
        memory["cpprb"] = {"rss_growth": harness.rss() - before}

        def cpprb_call() -> None:
            sample = rb.sample(BATCH_A, BETA)
            rb.update_priorities(sample["indexes"], td)
        contenders["cpprb PrioritizedReplayBuffer"] = fixed(cpprb_call)
    rows = summarise(interleave(contenders, size["reps_a"], size["warmup"]), 1e3)
    return dict(case="A", title=f"prioritised sample + update, batch {BATCH_A}, n_step "
                f"{N_STEP_A}, {cap} Tempest vectors", unit="ms/call", contenders=rows,
                memory=memory, **ratios_a(rows))


OURS = ("ours (fresh arrays)", "ours (out= reuse)", "ours, 2 threads (fresh arrays)",
        "ours, 2 threads (out= reuse)")
"""Our variants: fresh output arrays or reused ones, one thread or two assembling a batch."""


def ratios_a(rows: list[dict]) -> dict:
    """The issue's floor is the bare fancy-index gather; np.take(out=) is reported as the
    stricter like-with-like pairing for out= reuse (both skip fresh allocations)."""
    fancy = median_of(rows, "floor: numpy fancy index")
    take = median_of(rows, "floor: np.take(out=)")
    has_cpprb = any(r["name"].startswith("cpprb") for r in rows)
    ratios, targets = {}, []
    for name in OURS:
        ours = median_of(rows, name)
        ratios[f"{name} / floor fancy"] = ours / fancy
        ratios[f"{name} / floor take"] = ours / take
        targets.append(target(f"A: {name} within 1.5x of the gather floor (fancy index)",
                              ours / fancy, 1.5, at_least=False))
        if has_cpprb:
            ratios[f"cpprb / {name}"] = median_of(rows, "cpprb PrioritizedReplayBuffer") / ours
            targets.append(target(f"A: {name} >= 3x faster than cpprb",
                                  ratios[f"cpprb / {name}"], 3.0))
    return dict(ratios={k: round(v, 4) for k, v in ratios.items()}, targets=targets)


def case_b(size: dict, notes: list[str]) -> dict:
    """Uniform frame-stack samples, ours against SB3's memory-optimised buffer; memory per row."""
    cap, rng = size["capacity"], np.random.default_rng(3)
    pool = rc.step_pool(rng, (4, 84, 84), 4)
    before = harness.rss()
    ours = ReplayBuffer(cap, rc.NUM_ENVS, (4, 84, 84), n_step=N_STEP_B, gamma=GAMMA)
    rc.fill(lambda s: rc.ours_add(ours, s), pool, cap // rc.NUM_ENVS + 4, "B: filling ours")
    memory = {"ours": {"capacity": ours.capacity, "nbytes": ours.nbytes,
                       "bytes_per_transition": ours.nbytes / ours.capacity,
                       "rss_growth": harness.rss() - before}}
    sb3 = rc.make_filled_sb3(cap, N_STEP_B, HEADROOM, memory, notes)
    rows, result = [], {"ratios": {}, "targets": []}
    for batch in BATCHES_B:
        out = ours.empty_batch(batch)
        contenders = {name: fixed(_sampler(ours, batch, out if "out=" in name else None,
                                           2 if "2 threads" in name else 1)) for name in OURS}
        if sb3 is not None:
            contenders["SB3 ReplayBuffer (torch tensors)"] = fixed(lambda b=batch: sb3.sample(b))
        rows += summarise(interleave(contenders, size["reps_b"], size["warmup"]), 1e3,
                          batch=batch)
        if sb3 is not None:
            theirs = median_of(rows, "SB3 ReplayBuffer (torch tensors)", batch=batch)
            for name in OURS:
                ratio = theirs / median_of(rows, name, batch=batch)
                result["ratios"][f"SB3 / {name}, batch {batch}"] = round(ratio, 4)
                result["targets"].append(target(f"B: {name} >= 3x faster than SB3 (batch "
                                                f"{batch})", ratio, 3.0))
    if sb3 is not None:
        share = memory["ours"]["bytes_per_transition"] / memory["sb3"]["bytes_per_transition"]
        result["ratios"]["ours_over_sb3_bytes_per_transition"] = round(share, 4)
        result["ratios"]["sb3_over_ours_bytes_per_transition"] = round(1 / share, 4)
        mine, theirs = (memory[k]["bytes_per_transition"] for k in ("ours", "sb3"))
        notes.append(f"B: bytes per transition: ours {mine:.0f} (one frame, 7056, + per-row "
                     f"columns), SB3 {theirs:.0f} (a whole 4-frame stack, 28224, + columns)")
        result["targets"].append(target("B: ours <= 1/4 of SB3's memory per transition",
                                        share, 0.25, at_least=False))
    return dict(case="B", title=f"uniform sample of 4x84x84 stacks, n_step {N_STEP_B}, {cap} "
                "ALE frames", unit="ms/call", contenders=rows, memory=memory, **result)


def _sampler(buf: ReplayBuffer, batch: int, out, threads: int) -> Thunk:
    def call() -> None:
        buf.sample_threads = threads
        buf.sample(batch, out=out)
    return call


def case_c(size: dict, notes: list[str]) -> dict:
    """Add throughput of 64-env steps into full buffers (the ring wraps: steady state)."""
    cap = size["capacity"]
    pool = rc.step_pool(np.random.default_rng(5), (195,), 8)
    adders = rc.adders_for_c(cap, N_STEP_A, notes)
    for name, add in adders.items():
        rc.fill(add, pool, cap // rc.NUM_ENVS + 16, f"C: filling {name}")
    block = [pool[k % len(pool)] for k in range(STEPS_PER_CALL_C)]

    def adding(add) -> Thunk:
        def call() -> None:
            for step in block:
                add(step)
        return call

    times = interleave({name: fixed(adding(add)) for name, add in adders.items()},
                       size["reps_c"], size["warmup"])
    rows = summarise(times, 1e6 / STEPS_PER_CALL_C)
    for row in rows:
        row["transitions_per_s"] = round(rc.NUM_ENVS * 1e6 / row["median"])
    return dict(case="C", title=f"add throughput, steps of {rc.NUM_ENVS} Tempest vectors into "
                f"{cap}-transition buffers", unit="us/step", contenders=rows, memory={},
                **ratios_c(rows))


def ratios_c(rows: list[dict]) -> dict:
    """Ratios > 1 mean ours is faster; the targets pair like with like (uniform, prioritised)."""
    names = {r["name"] for r in rows}
    pairs = [("cpprb ReplayBuffer", "ours uniform", True),
             ("cpprb PrioritizedReplayBuffer", "ours prioritised", True),
             ("cpprb ReplayBuffer next_of=obs", "ours uniform", False)]
    ratios, targets = {}, []
    for theirs, ours, is_target in pairs:
        if theirs not in names:
            continue
        key = f"{theirs.replace(' ', '_').replace('=', '_')}_over_{ours.replace(' ', '_')}"
        ratios[key] = round(median_of(rows, theirs) / median_of(rows, ours), 4)
        if is_target:
            targets.append(target(f"C: {ours} at least as fast as {theirs}", ratios[key], 1.0))
    return dict(ratios=ratios, targets=targets)


def markdown(report: dict) -> str:
    """The human-readable summary for stderr: one row per contender, then targets and notes."""
    lines = ["| case | contender | batch | median | min | max | unit | x ours |",
             "| --- | --- | --- | ---: | ---: | ---: | --- | ---: |"]
    for case in report["cases"]:
        for row in case["contenders"]:
            mine = [r for r in case["contenders"] if r["name"].startswith("ours")
                    and r.get("batch") == row.get("batch")][0]
            lines.append(f"| {case['case']} | {row['name']} | {row.get('batch', '')} | "
                         f"{row['median']:.3f} | {row['min']:.3f} | {row['max']:.3f} | "
                         f"{case['unit']} | {row['median'] / mine['median']:.2f} |")
    lines += harness.targets_markdown(report)
    for case in report["cases"]:
        for who, mem in case["memory"].items():
            lines.append(f"\n{case['case']} memory, {who}: " + ", ".join(
                f"{k}={v:,.1f}" if isinstance(v, float) else f"{k}={v:,}" for k, v in mem.items()))
    lines += [""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines)


def main(quick: bool = False) -> int:
    """Runs cases A, B, C; prints the JSON report on stdout and the table on stderr."""
    size, notes, cases = SIZES[bool(quick)], [], []
    started = time.perf_counter()
    rc.warm_numba()
    for run in (case_a, case_b, case_c):
        print(f"bench replay: case {run.__name__[-1].upper()} ...", file=sys.stderr, flush=True)
        cases.append(run(size, notes))  # the case's buffers die with its frame here ...
        gc.collect()  # ... and any cycle now, before the next case: B needs most of the memory
        cases[-1]["rss_after_case"] = harness.rss()
    params = dict(size, batch_a=BATCH_A, n_step_a=N_STEP_A, gamma=GAMMA, beta=BETA,
                  batches_b=list(BATCHES_B), n_step_b=N_STEP_B,
                  steps_per_call_c=STEPS_PER_CALL_C, num_envs=rc.NUM_ENVS,
                  p_terminated=rc.P_TERMINATED, headroom_bytes=HEADROOM)
    return harness.publish("replay", quick, params, cases, notes, started, markdown)
