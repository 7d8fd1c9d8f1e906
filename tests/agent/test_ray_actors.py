"""Ray actors on a real local cluster (2 acting processes): a Tempest run trains, checkpoints,
is killed and resumed; an acting process killed by its pid is survived; the control channel
reaches every process; an acting process stores exactly what an in-process actor would."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
import torch

import config
import envs
from agent.acting_process import ActingNetwork
from agent.actor import Actor
from agent.checkpoint import latest_checkpoint
from agent.machine import replay_that_fits
from agent.ray_actors import RayActing
from agent.ray_cluster import connect, disconnect
from agent.rundir import open_run_dir
from agent.trainer import Trainer
from expert.labels import with_expert
from metrics import read_rows
from metrics.control import send_command
from metrics.events import read_events
from replay import ReplayBuffer

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[2]


def ray_cfg(tmp_path, **overrides) -> config.Config:
    """The smoke preset on two acting processes of two Tempest envs each."""
    settings = {"actors.backend": "ray", "actors.num": 2, "actors.chunk_steps": 16,
                "actors.sync_every": 2, "run.run_dir": str(tmp_path), "run.name": "ray",
                "metrics.interval_s": 0.2, "run.frames": 3000, **overrides}
    cfg = config.apply_overrides(config.get_preset("smoke"), settings)
    config.validate(cfg)
    return cfg


@pytest.fixture(scope="module")
def cluster():
    """One local cluster for the module (a run that finds Ray running uses it as it is)."""
    ray, _ = connect(config.RayConfig(num_cpus=2))
    yield ray
    disconnect()


def envs_obs_size(cfg) -> int:
    env = envs.make_vector_env(cfg.env)
    size = env.single_observation_space.shape[0]
    env.close()
    return size


def _logged(paths, kind: str) -> list[str]:
    return [e["message"] for e in read_events(paths.events) if e["kind"] == kind]


def test_a_tempest_run_on_two_acting_processes_trains_checkpoints_and_resumes(cluster, tmp_path):
    cfg = ray_cfg(tmp_path)
    first = Trainer(cfg, open_run_dir(cfg))
    first.run()
    rows = read_rows(first.paths.metrics, strict=True)
    assert rows[-1]["frame"] >= 3000 and rows[-1]["learner_steps"] > 0
    assert rows[-1]["actors_live"] == 2 and rows[-1]["actors_lost_chunks"] == 0
    assert any(r["actors_weights_lag"] is not None for r in rows)
    streams = first.replay.write_count_N
    assert streams.shape == (4,) and (streams > 0).all()  # 2 processes x 2 envs, all written
    assert latest_checkpoint(first.paths.checkpoints) is not None
    assert any("acting on 2 Ray processes" in m for m in _logged(first.paths, "info"))
    assert (first.paths.root / "game.json").exists()  # the game view: process 0's env 0

    more = ray_cfg(tmp_path, **{"run.frames": 5000})
    resumed = Trainer(more, open_run_dir(more))
    assert resumed.resume() and resumed.actor.frame == first.actor.frame
    np.testing.assert_array_equal(resumed.replay.write_count_N, streams)
    resumed.run()
    assert resumed.actor.frame >= 5000
    assert (resumed.replay.write_count_N > streams).all()


def test_killing_an_acting_process_loses_at_most_its_request_in_flight(cluster, tmp_path):
    cfg = ray_cfg(tmp_path, **{"actors.gone_timeout_s": 60.0})
    logged: list[tuple[str, str]] = []
    acting = RayActing(cfg, replay_that_fits(cfg, (envs_obs_size(cfg),)),
                       lambda kind, message, **_: logged.append((kind, message)))
    try:
        acting.start()
        _deliver(acting, until=lambda: all(p.chunks for p in acting.processes))
        victim = acting.processes[0]
        old_pid, chunks_before = victim.pid, victim.chunks
        os.kill(old_pid, signal.SIGKILL)
        frame_at_kill = acting.frame
        _deliver(acting, until=lambda: victim.chunks >= chunks_before + 3)
        assert acting.frame > frame_at_kill and victim.pid != old_pid and not victim.dead
        assert acting.lost_chunks <= 1  # at most the request in flight
        warnings = [m for kind, m in logged if kind == "warning"]
        assert len(warnings) == 1 and f"pid {old_pid}" in warnings[0]
        assert "streams 0-1 end as truncated" in warnings[0]
        assert acting.row_fields()["actors_lost_chunks"] == acting.lost_chunks
        assert acting.live() == 2
    finally:
        acting.close()


def _deliver(acting: RayActing, until, timeout_s: float = 120.0) -> None:
    """Acts (epsilon 0.5) until `until()` holds."""
    deadline = time.monotonic() + timeout_s
    while not until():
        assert time.monotonic() < deadline, "the acting processes stopped delivering"
        acting.send(0.5, 0.0)
        acting.book()


def test_control_commands_reach_every_acting_process(cluster, tmp_path):
    cfg = ray_cfg(tmp_path, **{"run.frames": 1500})
    trainer = Trainer(cfg, open_run_dir(cfg))
    send_command(trainer.paths.root, "greedy")
    send_command(trainer.paths.root, "expert", value="on")
    trainer._follow_commands()  # as the loop does between two steps
    for _ in range(6):
        trainer.step()
    trainer.actor.flush()
    explorations = [p.exploration for p in trainer.actor.processes]
    trainer._close()
    assert explorations == [(0.0, 1.0), (0.0, 1.0)]  # epsilon 0, the expert drives


def test_an_acting_process_stores_what_an_in_process_actor_with_its_seed_stores(cluster,
                                                                                tmp_path):
    cfg = ray_cfg(tmp_path, **{"actors.sync_every": 1})
    shape = (envs_obs_size(cfg),)
    acting = RayActing(cfg, replay_that_fits(cfg, shape), lambda *a, **k: None)
    torch.manual_seed(3)
    net = ActingNetwork(shape, 44, cfg.learner)
    try:
        acting.start()
        acting.offer_weights(net.net, learner_steps=7)
        for _ in range(8):
            acting.send(0.3, 0.25)
            acting.flush()
        seed = acting.processes[0].seed
    finally:
        acting.close()
    env_cfg = config.EnvConfig(**{**cfg.env.__dict__, "seed": seed})
    env = with_expert(envs.make_vector_env(env_cfg), env_cfg, cfg.expert)
    per, count = acting.replay.capacity_per_env, cfg.env.num_envs
    direct = ReplayBuffer.from_config(dataclasses.replace(cfg.replay, capacity=per * count),
                                      count, shape, cfg.learner.gamma)
    actor = Actor(env, direct, net.greedy, envs.frames_per_step(env_cfg), seed=seed)
    for _ in range(8 * cfg.actors.chunk_steps):
        actor.step(0.3, 0.25)
    first = slice(0, count * per)  # the first process's streams
    for name in ("obs_SF", "action_S", "reward_S", "flags_S", "source_S", "expert_S"):
        np.testing.assert_array_equal(getattr(acting.replay, name)[first],
                                      getattr(direct, name)[first], err_msg=name)
    env.close()


def test_a_killed_ray_run_resumes_with_the_same_command(tmp_path):
    """kill -9 of the whole run (trainer and its local cluster), then the same command."""
    command = [sys.executable, "-m", "agent", "train", "--preset", "smoke", "--no-tui",
               "--run-dir", str(tmp_path), "--run.name", "killed", "--actors.backend", "ray",
               "--actors.num", "2", "--run.checkpoint-every-s", "2", "--frames", "100000000"]
    run = subprocess.Popen(command, cwd=REPO, start_new_session=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    checkpoints = tmp_path / "killed" / "checkpoints"
    try:
        deadline = time.monotonic() + 180
        while latest_checkpoint(checkpoints) is None:
            assert run.poll() is None and time.monotonic() < deadline
            time.sleep(0.5)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    saved = read_rows(tmp_path / "killed" / "metrics.jsonl")[-1]["frame"]
    finite = [*command[:-1], str(saved + 2000)]
    done = subprocess.run(finite, cwd=REPO, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    assert "resumed at frame" in done.stderr
    assert read_rows(tmp_path / "killed" / "metrics.jsonl")[-1]["frame"] >= saved + 2000


def test_a_run_whose_acting_processes_are_all_gone_saves_and_stops(cluster, tmp_path):
    cfg = ray_cfg(tmp_path, **{"actors.max_restarts": 0, "actors.gone_timeout_s": 3.0,
                               "run.frames": 10**9})
    trainer = Trainer(cfg, open_run_dir(cfg))

    def kill_both_once_they_deliver():
        while not (trainer.actor.processes and all(p.chunks for p in trainer.actor.processes)):
            time.sleep(0.05)
        for process in trainer.actor.processes:
            os.kill(process.pid, signal.SIGKILL)

    threading.Thread(target=kill_both_once_they_deliver, daemon=True).start()
    trainer.run()
    assert "no acting process has delivered a chunk for 3 s (2 of 2 gone for good" in (
        trainer.stop_message or "")
    assert latest_checkpoint(trainer.paths.checkpoints) is not None
    events = read_events(trainer.paths.events)
    assert [e["reason"] for e in events if "run_end" in e] == ["acting processes gone"]
    assert sum("Ray will not restart it" in e["message"] for e in events) == 2
