"""`tempest-dqn bench actors`: acting throughput in process against Ray acting processes with the
same total number of envs, on Tempest and on ALE Pong, and what shipping a chunk costs.

Per game (its preset's envs, network and expert labels), three contenders take turns block by
block in this one process (harness.interleave_blocks), each acting with epsilon 0.05 (a forward
pass of the network every step) and writing the learner's replay, no learner steps:

* in-process: the trainer's own `Actor` on all the envs;
* Ray, 1 process: one acting process with all the envs (`agent.ray_actors.RayActing`);
* Ray, 2 processes: two with half the envs each.

A block runs for `block_s` seconds and counts the frames booked into the replay (a Ray block
ends by booking the requests in flight), after one untimed block each.  Between blocks the Ray
processes idle.  Target (issue
17), ALE Pong on this 2-core machine: 2 processes deliver at least 0.8x the in-process rate.

The shipping cost per transition is measured apart: a Ray process holding a recorded chunk
returns it on request (serialise, object store, deserialise: what a chunk pays on top of
acting), and the chunk's adds into the replay (`write_chunk`, which an in-process actor pays
as its own adds); with the bytes a transition weighs on the wire.
"""

from __future__ import annotations

import dataclasses
import statistics
import time

import config
import envs
from agent.acting_process import ActingNetwork, actor_seed
from agent.actor import Actor
from agent.bench import harness
from agent.chunks import Chunk, ChunkRecorder, write_chunk
from agent.machine import usable_cpus
from agent.ray_actors import RayActing
from agent.ray_cluster import connect, disconnect
from expert.labels import with_expert
from replay import ReplayBuffer

GAMES = {"tempest": "tempest", "pong": "pong"}
"""Case name -> preset: its env, envs per process, network and expert."""
SIZES = {False: {"block_s": 5.0, "rounds": 4, "echo_calls": 200},
         True: {"block_s": 0.5, "rounds": 1, "echo_calls": 5}}
EPSILON = 0.05
WARMUP_S = 1.0
REPLAY_ROWS = 50_000
PONG_TARGET = 0.8


def _cfg(preset: str, processes: int, envs_each: int) -> config.Config:
    backend = "ray" if processes else "inprocess"
    return config.apply_overrides(config.get_preset(preset), {
        "env.num_envs": envs_each, "actors.backend": backend, "actors.num": max(1, processes),
        "replay.capacity": REPLAY_ROWS, "tui.enabled": False})


def _replay(cfg: config.Config, obs_shape) -> ReplayBuffer:
    return ReplayBuffer.from_config(cfg.replay, config.replay_streams(cfg), obs_shape,
                                    cfg.learner.gamma)


class InProcess:
    """The trainer's in-process acting: `Actor` on all the envs, into the replay."""

    def __init__(self, cfg: config.Config):
        self.env = with_expert(envs.make_vector_env(cfg.env), cfg.env, cfg.expert)
        shape = self.env.single_observation_space.shape
        self.network = ActingNetwork(shape, int(self.env.single_action_space.n), cfg.learner)
        self.actor = Actor(self.env, _replay(cfg, shape), self.network.greedy,
                           envs.frames_per_step(cfg.env), seed=cfg.env.seed)

    def block(self, seconds: float) -> tuple[int, float]:
        start, frame = time.perf_counter(), self.actor.frame
        while time.perf_counter() - start < seconds:
            self.actor.step(EPSILON)
        self.actor.flush()
        return self.actor.frame - frame, time.perf_counter() - start

    def close(self) -> None:
        self.env.close()


class OnRay:
    """`RayActing` with its processes started, into the replay."""

    def __init__(self, cfg: config.Config, obs_shape):
        self.acting = RayActing(cfg, _replay(cfg, obs_shape), lambda *_, **__: None)
        self.acting.start()

    def block(self, seconds: float) -> tuple[int, float]:
        start, frame = time.perf_counter(), self.acting.frame
        while time.perf_counter() - start < seconds:
            self.acting.send(EPSILON)
            self.acting.book()
        self.acting.flush()
        return self.acting.frame - frame, time.perf_counter() - start

    def close(self) -> None:
        self.acting.close()


def case_throughput(game: str, block_s: float, rounds: int) -> dict:
    """Frames/s booked into the replay by each contender, and the Ray/in-process ratios."""
    preset = GAMES[game]
    total = config.get_preset(preset).env.num_envs
    inprocess = InProcess(_cfg(preset, 0, total))
    shape = inprocess.env.single_observation_space.shape
    contenders = {"in-process": inprocess,
                  "ray, 1 process": OnRay(_cfg(preset, 1, total), shape),
                  "ray, 2 processes": OnRay(_cfg(preset, 2, total // 2), shape)}
    try:
        for contender in contenders.values():  # untimed: first forward passes, pages, caches
            contender.block(min(block_s, WARMUP_S))
        rates = harness.interleave_blocks(
            {name: (lambda c=c: c.block(block_s)) for name, c in contenders.items()}, rounds)
    finally:
        for contender in contenders.values():
            contender.close()
    rows = [harness.rate_row(name, values, "frames/s", envs=total)
            for name, values in rates.items()]
    base = harness.median_of(rows, "in-process")
    ratios = {name: harness.median_of(rows, name) / base for name in rates if name != "in-process"}
    targets = ([harness.target("pong: 2 Ray processes / in-process", ratios["ray, 2 processes"],
                               PONG_TARGET)] if game == "pong" else [])
    return {"case": f"throughput/{game}", "rows": rows, "ratios": ratios, "targets": targets}


def recorded_chunk(preset: str, steps: int) -> tuple[Chunk, tuple[int, ...]]:
    """One chunk as an acting process ships it (`steps` vector steps of the preset's envs),
    and the envs' observation shape."""
    cfg = _cfg(preset, 1, config.get_preset(preset).env.num_envs)
    env = with_expert(envs.make_vector_env(cfg.env), cfg.env, cfg.expert)
    shape = env.single_observation_space.shape
    recorder = ChunkRecorder(env.num_envs, len(shape) == 3)
    network = ActingNetwork(shape, int(env.single_action_space.n), cfg.learner)
    actor = Actor(env, recorder, network.greedy, envs.frames_per_step(cfg.env),
                  seed=actor_seed(0, 0))
    for _ in range(steps + actor.pipelined):  # a pipelined env books a step late
        actor.step(EPSILON)
    env.close()
    return recorder.take(), shape


class _Echo:
    """A Ray process that holds a chunk and returns it on request: transport alone."""

    def __init__(self, chunk: Chunk):
        self.chunk = chunk

    def get(self) -> Chunk:
        return self.chunk


def case_shipping(game: str, calls: int) -> dict:
    """Per transition: bytes on the wire, seconds to ship (a Ray round trip of a chunk) and
    seconds to write into the replay."""
    preset = GAMES[game]
    cfg = _cfg(preset, 1, config.get_preset(preset).env.num_envs)
    chunk, shape = recorded_chunk(preset, cfg.actors.chunk_steps)
    ray, _ = connect(cfg.ray)
    echo = ray.remote(num_cpus=0)(_Echo).remote(chunk)
    ray.get(echo.get.remote())  # started, and its first copy made
    shipped = []
    for _ in range(calls):
        start = time.perf_counter()
        ray.get(echo.get.remote())
        shipped.append(time.perf_counter() - start)
    ray.kill(echo)
    replay = _replay(cfg, shape)
    written = []
    for _ in range(max(3, calls // 10)):
        start = time.perf_counter()
        write_chunk(replay, chunk, 0)
        written.append(time.perf_counter() - start)
    n = chunk.transitions
    return {"case": f"shipping/{game}", "transitions_per_chunk": n,
            "bytes_per_transition": chunk.nbytes / n,
            "ship_us_per_transition": statistics.median(shipped) / n * 1e6,
            "write_us_per_transition": statistics.median(written) / n * 1e6,
            "targets": []}


def render(report: dict) -> str:
    lines = ["| game | contender | envs | frames/s (median) | min | max | x in-process |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: |"]
    for case in report["cases"]:
        if not case["case"].startswith("throughput/"):
            continue
        game = case["case"].split("/")[1]
        for row in case["rows"]:
            ratio = case["ratios"].get(row["name"], 1.0)
            lines.append(f"| {game} | {row['name']} | {row['envs']} | {row['median']:,.0f} | "
                         f"{row['min']:,.0f} | {row['max']:,.0f} | {ratio:.2f} |")
    lines += ["", "| game | transitions per chunk | bytes per transition | shipping, us per "
              "transition | replay write, us per transition |",
              "| --- | ---: | ---: | ---: | ---: |"]
    for case in report["cases"]:
        if case["case"].startswith("shipping/"):
            lines.append(f"| {case['case'].split('/')[1]} | {case['transitions_per_chunk']} | "
                         f"{case['bytes_per_transition']:,.0f} | "
                         f"{case['ship_us_per_transition']:.2f} | "
                         f"{case['write_us_per_transition']:.2f} |")
    return "\n".join(lines + harness.targets_markdown(report))


def main(quick: bool = False) -> int:
    started = time.perf_counter()
    size = SIZES[quick]
    # 3 CPUs at least: the contenders' three processes (1 + 2) take turns, one set acting at a
    # time, and each asks Ray for a CPU
    connect(config.RayConfig(num_cpus=max(3, usable_cpus())))
    try:
        cases = [case_throughput(game, size["block_s"], size["rounds"]) for game in GAMES]
        cases += [case_shipping(game, size["echo_calls"]) for game in GAMES]
    finally:
        disconnect()
    params = {"epsilon": EPSILON, **dataclasses.asdict(config.ActorsConfig()), **size,
              "cpus": usable_cpus()}
    return harness.publish("actors", quick, params, cases, [], started, render)
