"""`tempest-dqn bench learner`: our full learner iteration against a bare torch step.

"Ours" is one whole iteration as the trainer runs it: `replay.sample(B, beta, out=reused)`, then
`Learner.step(batch)` (conversion, double-DQN target, importance-weighted loss, gradient norm
and clipping, Adam, target update, statistics), then `replay.update_priorities`.  "Bare" is the
same arithmetic in plain torch on tensors already in memory: the same network
(`aimodel.build_q_network`, a copy as target), online(s') and target(s') without gradients,
online(s) with them, Huber loss, backward, Adam step; no sampling, conversion, statistics or
clipping; compiled with torch.compile wherever the preset compiles ours (`learner.compile`).
The issue's target: ours costs at most 1.15x the bare step.  In the presets' own cases (the
Nature CNN at batch 32, the Tempest MLP at 4,096) a third contender runs our iteration with the
imitation term on (lambda 1, margin 0.8 in Q units): its target, at most 1.05x our step without.

The machine is shared and noisy (DESIGN.md §7), so both contenders of a case live in this one
process, are warmed up first, then take turns rep by rep (`agent.bench.harness.interleave`); the
report gives medians with min and max, and the ratio of the medians.  Ours is also timed in its
three parts (sample, learner step, priorities) to show where any overhead sits.

Cases: the Nature CNN (Pong preset, 4x84x84 uint8 frames, 6 actions) at batch 32 and 256; the
Tempest MLP (195 floats, 44 actions, 2x512, LayerNorm, dueling) at batch 4,096, 16,384, and
16,384 as 4 micro-batches of 4,096.  JSON on stdout, a markdown table on stderr.
"""

from __future__ import annotations

import copy
import dataclasses
import gc
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

import config
from agent.bench import harness
from agent.bench import replay_contenders as rc
from agent.bench.harness import interleave, summarise, target
from aimodel import Learner, build_q_network, cnn_bf16, host_batch
from replay import ReplayBuffer, Source

TORCH_THREADS = 2
TARGET_RATIO = 1.15
IMITATION_TARGET = 1.05
"""The imitation term may cost at most 5% of our learner iteration."""
IMITATION = "ours, imitation term on"
BETA = 0.4
POOL_STEPS = 4  # pregenerated env steps cycled through by a fill
P_LABELLED = 0.5  # share of rows with an expert label, so the agreement statistic has work


@dataclass(frozen=True)
class Case:
    """One comparison: a network, a batch, and how many micro-batches it is split into."""

    key: str
    family: str  # "nature" or "mlp": which replay and LearnerConfig the case uses
    batch: int
    micro_batches: int = 1
    imitation: bool = False
    """Also time our iteration with the imitation term on."""
    conv_stack: str = "nature"
    """The "nature" family's conv stack (`learner.conv_stack`)."""

    @property
    def title(self) -> str:
        net = {"nature": "Nature CNN", "nips": "2013 CNN"}[self.conv_stack] \
            if self.family == "nature" else "Tempest MLP 2x512"
        split = f" as {self.micro_batches} x {self.batch // self.micro_batches:,}" \
            if self.micro_batches > 1 else ""
        return f"{net}, batch {self.batch:,}{split}"


CASES = (Case("nature-32", "nature", 32, imitation=True), Case("nature-256", "nature", 256),
         Case("nips-32", "nature", 32, conv_stack="nips"),
         Case("mlp-4096", "mlp", 4_096, imitation=True), Case("mlp-16384", "mlp", 16_384),
         Case("mlp-16384-acc4", "mlp", 16_384, micro_batches=4))

SIZES = {  # quick: small replays, a few reps and no compiling: well under a minute in all
    False: dict(nature_rows=50_000, mlp_rows=200_000, warmup=3, compile=None,
                reps={"nature-32": 100, "nature-256": 40, "nips-32": 100, "mlp-4096": 40,
                      "mlp-16384": 20, "mlp-16384-acc4": 20}),
    True: dict(nature_rows=8_000, mlp_rows=40_000, warmup=2, compile=False,
               reps={"nature-32": 10, "nature-256": 4, "nips-32": 10, "mlp-4096": 4, "mlp-16384": 2,
                     "mlp-16384-acc4": 2}),
}
"""compile: learner.compile for both contenders, None = the preset's."""
PAPER_HIDDEN = {"nature": (512,), "nips": (256,)}
"""Each conv stack's hidden layer as its paper had it (Mnih et al. 2015, 2013)."""
FAMILIES = {  # obs shape, dtype, actions, envs writing the replay, n_step
    "nature": dict(obs_shape=(4, 84, 84), num_actions=6, num_envs=8, n_step=3),
    "mlp": dict(obs_shape=(195,), num_actions=44, num_envs=64, n_step=12),
}


def family_configs(family: str, micro_batches: int, compiled: bool | None = None,
                   device: str = "cpu", conv_stack: str = "nature",
                   ) -> tuple[config.ReplayConfig, config.LearnerConfig]:
    """The preset's replay and learner settings with the benchmark's network and split
    (`compiled`: learner.compile, None = the preset's) on `device`; frames go through
    `conv_stack` and the hidden layer its paper used (Nature 512, 2013 256)."""
    if family == "nature":
        preset = config.PRESETS["pong"]
        learner = dataclasses.replace(preset.learner, hidden_sizes=PAPER_HIDDEN[conv_stack],
                                      conv_stack=conv_stack)
    else:
        preset = config.PRESETS["tempest"]
        learner = dataclasses.replace(preset.learner, hidden_sizes=(512, 512))
    replay = dataclasses.replace(preset.replay, n_step=FAMILIES[family]["n_step"])
    compiled = learner.compile if compiled is None else compiled
    return replay, dataclasses.replace(learner, micro_batches=micro_batches, device=device,
                                       compile=compiled)


# -- the replay ------------------------------------------------------------------------------

def filled_replay(family: str, rows: int, rng: np.random.Generator) -> ReplayBuffer:
    """A replay of `rows` random transitions (ALE-shaped frames or Tempest vectors)."""
    fam, (cfg, learner) = FAMILIES[family], family_configs(family, 1)
    envs, shape = fam["num_envs"], fam["obs_shape"]
    buf = ReplayBuffer.from_config(dataclasses.replace(cfg, capacity=rows), envs, shape,
                                   learner.gamma)
    pool = []
    for _ in range(POOL_STEPS):
        obs = rc.random_observations(rng, envs, shape)
        expert = rng.integers(0, fam["num_actions"], envs).astype(np.int16)
        expert[rng.random(envs) >= P_LABELLED] = -1
        pool.append((obs, rng.integers(0, fam["num_actions"], envs).astype(np.int16),
                     rng.standard_normal(envs, dtype=np.float32),
                     rng.random(envs) < rc.P_TERMINATED, np.zeros(envs, np.bool_), expert))
    source = np.full(envs, Source.DQN, np.uint8)
    steps = rows // envs + fam["n_step"] + 4  # enough to wrap every stream's ring once
    for t in range(steps):
        obs, action, reward, terminated, truncated, expert = pool[t % POOL_STEPS]
        buf.add(obs, action, reward, terminated, truncated, pool[(t + 1) % POOL_STEPS][0],
                source, expert)
        harness.progress(f"filling the {family} replay", t, steps)
    return buf


# -- the contenders ----------------------------------------------------------------------------

Thunk = Callable[[], object]
PARTS = ("sample", "learner.step", "update_priorities")


def ours(case: Case, replay: ReplayBuffer, parts: dict[str, list[float]],
         compiled: bool | None = None, imitation_weight: float = 0.0,
         device: str = "cpu") -> Thunk:
    """One full iteration; each part's seconds are appended to `parts` as it runs.
    `imitation_weight` > 0 turns the imitation term on (margin 0.8).  On a GPU the step is
    read back at once (`Learner.step`), so each rep ends with the device idle: a latency."""
    fam = FAMILIES[case.family]
    _, cfg = family_configs(case.family, case.micro_batches, compiled, device, case.conv_stack)
    learner = Learner(fam["obs_shape"], fam["num_actions"], cfg, seed=0, device=device,
                      imitation_margin=0.8)
    learner.imitation_weight = imitation_weight
    out = host_batch(replay.empty_batch(case.batch), learner.device)

    def call() -> None:
        t0 = time.perf_counter()
        batch = replay.sample(case.batch, beta=BETA, out=out)
        t1 = time.perf_counter()
        stats = learner.step(batch)
        t2 = time.perf_counter()
        replay.update_priorities(batch.indices, stats.td_error)
        t3 = time.perf_counter()
        for name, seconds in zip(PARTS, (t1 - t0, t2 - t1, t3 - t2), strict=True):
            parts[name].append(seconds)
    return call


def bare(case: Case, compiled: bool | None = None, device: str = "cpu") -> Thunk:
    """The same arithmetic in plain torch on preallocated tensors: the floor ours is held to."""
    fam = FAMILIES[case.family]
    _, cfg = family_configs(case.family, case.micro_batches, compiled, device, case.conv_stack)
    shape, actions, size = fam["obs_shape"], fam["num_actions"], case.batch
    gen = torch.Generator().manual_seed(1)
    torch.manual_seed(0)
    online = build_q_network(shape, actions, cfg,  # the Learner's conv precision: same arithmetic
                             cnn_bf16(cfg.cnn_precision, torch.device(device))).to(device)
    target_net = copy.deepcopy(online).requires_grad_(False)
    optimizer = torch.optim.Adam(online.parameters(), lr=cfg.lr, eps=cfg.adam_eps,
                                 fused=True)  # as the Learner: the ratio measures overhead only

    def observations() -> torch.Tensor:
        if len(shape) == 3:
            return torch.randint(0, 256, (size, *shape), generator=gen, dtype=torch.uint8)
        return torch.randn((size, *shape), generator=gen)

    tensors = tuple(t.to(device) for t in (
        observations(), torch.randint(0, actions, (size,), generator=gen),
        torch.randn(size, generator=gen), torch.full((size,), cfg.gamma ** fam["n_step"]),
        observations()))
    chunks = list(zip(*(torch.tensor_split(t, case.micro_batches) for t in tensors), strict=True))

    def chunk_loss(obs, action, reward, discount, next_obs) -> torch.Tensor:
        with torch.no_grad():
            best = online(next_obs).argmax(dim=1, keepdim=True)
            y = reward + discount * target_net(next_obs).gather(1, best).squeeze(1)
        q_sa = online(obs).gather(1, action.unsqueeze(1)).squeeze(1)
        return F.huber_loss(q_sa, y, reduction="sum", delta=cfg.huber_delta) / size

    if cfg.compile:  # compiled as the Learner compiles its own (learner.compile)
        chunk_loss = torch.compile(chunk_loss, dynamic=False)

    def call() -> None:
        optimizer.zero_grad(set_to_none=True)
        for chunk in chunks:
            chunk_loss(*chunk).backward()
        optimizer.step()
        if device != "cpu":
            torch.cuda.synchronize()  # as ours, which reads its step back
    return call


# -- a case ------------------------------------------------------------------------------------

def run_case(case: Case, replay: ReplayBuffer, size: dict, device: str = "cpu") -> dict:
    """Interleaved reps of ours and bare; ms per step, samples/s, the ratio and its target."""
    parts: dict[str, list[float]] = {name: [] for name in PARTS}
    reps = size["reps"][case.key]
    contenders = {"ours": ours(case, replay, parts, size["compile"], device=device),
                  "bare torch": bare(case, size["compile"], device)}
    if case.imitation:
        contenders[IMITATION] = ours(case, replay, {name: [] for name in PARTS},
                                     size["compile"], imitation_weight=1.0, device=device)
    times = interleave({name: (lambda c=call: c) for name, call in contenders.items()},
                       reps, size["warmup"])
    rows = summarise(times, 1e3)
    for row in rows:
        row["samples_per_s"] = round(case.batch * 1e3 / row["median"], 1)
    mine, floor = (next(r for r in rows if r["name"] == n) for n in ("ours", "bare torch"))
    ratio = mine["median"] / floor["median"]
    breakdown = {name: round(statistics.median(t[-reps:]) * 1e3, 3) for name, t in parts.items()}
    paired = statistics.median(a / b for a, b in zip(times["ours"], times["bare torch"],
                                                     strict=True))
    goals = [target(f"{case.title}: ours within {TARGET_RATIO}x of the bare step", ratio,
                    TARGET_RATIO, at_least=False)]
    if case.imitation:
        term = next(r for r in rows if r["name"] == IMITATION)["median"] / mine["median"]
        goals.append(target(f"{case.title}: the imitation term costs at most "
                            f"{IMITATION_TARGET - 1:.0%} of our step", term, IMITATION_TARGET,
                            at_least=False))
    return dict(case=case.key, title=case.title, batch=case.batch,
                micro_batches=case.micro_batches, unit="ms/step", contenders=rows,
                ours_parts_median_ms=breakdown,
                ratios={"ours / bare (medians)": round(ratio, 4),
                        "ours / bare (mins)": round(mine["min"] / floor["min"], 4),
                        "ours / bare (median of per-rep ratios)": round(paired, 4),
                        "learner.step / bare (medians)":
                            round(breakdown["learner.step"] / floor["median"], 4)},
                targets=goals)


def run_family(family: str, size: dict, rng: np.random.Generator,
               device: str = "cpu") -> list[dict]:
    """Fills the family's replay once and runs its cases against it."""
    replay = filled_replay(family, size[f"{family}_rows"], rng)
    results = []
    for case in (c for c in CASES if c.family == family):
        print(f"bench learner: {case.title} on {device} ...", file=sys.stderr, flush=True)
        results.append(run_case(case, replay, size, device))
        gc.collect()
    return results


def markdown(report: dict) -> str:
    """The human-readable summary for stderr: one row per contender, then targets and notes."""
    lines = ["| case | contender | median ms | min ms | max ms | samples/s | x bare |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for case in report["cases"]:
        floor = next(r for r in case["contenders"] if r["name"] == "bare torch")
        lines += [f"| {case['title']} | {r['name']} | {r['median']:.1f} | {r['min']:.1f} | "
                  f"{r['max']:.1f} | {r['samples_per_s']:,.0f} | "
                  f"{r['median'] / floor['median']:.3f} |" for r in case["contenders"]]
    lines += ["", "| case | sample ms | learner.step ms | update_priorities ms | "
              "step / bare | ours / bare (mins) | ours / bare | target | met |",
              "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for case in report["cases"]:
        parts, ratios, goal = case["ours_parts_median_ms"], case["ratios"], case["targets"][0]
        lines.append(f"| {case['title']} | {parts['sample']:.2f} | {parts['learner.step']:.1f} "
                     f"| {parts['update_priorities']:.2f} | "
                     f"{ratios['learner.step / bare (medians)']:.3f} | "
                     f"{ratios['ours / bare (mins)']:.3f} | {goal['value']:.3f} | "
                     f"<= {goal['threshold']} | {'yes' if goal['met'] else 'NO'} |")
    lines += ["", "| target | value | threshold | met |", "| --- | ---: | ---: | --- |"]
    lines += [f"| {goal['name']} | {goal['value']:.3f} | <= {goal['threshold']} | "
              f"{'yes' if goal['met'] else 'NO'} |"
              for case in report["cases"] for goal in case["targets"][1:]]
    lines += [""] + [f"- {note}" for note in report["notes"]]
    return "\n".join(lines)


def main(quick: bool = False, device: str = "cpu") -> int:
    """Runs every case on `device`; prints the JSON report on stdout and the table on stderr."""
    size, started = SIZES[bool(quick)], time.perf_counter()
    torch.set_num_threads(TORCH_THREADS)
    rc.warm_numba()
    rng = np.random.default_rng(7)
    cases = [result for family in FAMILIES for result in run_family(family, size, rng, device)]
    notes = [f"torch threads {torch.get_num_threads()} (interop {torch.get_num_interop_threads()})"
             "; ours and bare take turns rep by rep in this process after "
             f"{size['warmup']} warm-up step(s) each",
             "ours = replay.sample(B, beta, out=reused) + Learner.step + "
             "replay.update_priorities; bare = online(s), online(s') and target(s') without "
             "grad, Huber, backward, Adam on tensors already in memory",
             "Nature CNN: pong preset (uniform replay, n_step 3, tau 1, hard update every 2,500 "
             "steps; update_priorities is a no-op; learner.compile on, so both contenders "
             "compile their forward and loss); Tempest MLP: tempest preset with "
             "hidden_sizes (512, 512) (PER, LayerNorm, dueling, tau 0.005), n_step 12",
             "2013 CNN: the pong preset with learner.conv_stack nips (16 and 32 channels, two "
             "convolutions) and hidden_sizes (256,), Mnih et al. 2013's network"]
    if quick:
        notes.append("quick: small replays and 2-10 reps (2 for the batch 16,384 cases); the "
                     "ratios are indicative only, the full run checks the target")
    params = dict(size, device=device, torch_threads=torch.get_num_threads(), beta=BETA,
                  target_ratio=TARGET_RATIO,
                  families={k: {**v, "obs_shape": list(v["obs_shape"])}
                            for k, v in FAMILIES.items()},
                  replay_sample_threads={
                      f: family_configs(f, 1)[0].sample_threads for f in FAMILIES})
    return harness.publish("learner", quick, params, cases, notes, started, markdown)
