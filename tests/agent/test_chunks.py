"""Chunks: an acting process's recorded steps, written into the learner's replay, are exactly
what an in-process actor with the same seed stores; what a chunk weighs; the acting process."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import config
import envs
from agent.acting_process import ActingNetwork, ActingProcess, actor_seed, weights_of
from agent.actor import Actor
from agent.chunks import ChunkRecorder, write_chunk
from agent.ray_actors import ladder_epsilon
from expert.labels import with_expert
from replay import ReplayBuffer

STORAGE = ("obs_SF", "action_S", "reward_S", "flags_S", "source_S", "expert_S", "sampleable_S",
           "write_count_N", "episode_start_N")

ENVS = {  # and the vector steps it takes until both have ended episodes
    "tempest": (config.EnvConfig(num_envs=3, seed=11), 3000),
    # Breakout: frame stacks, lives lost mid-game (continuing streams) and the pipelined adapter
    "breakout": (config.EnvConfig(id="ALE/Breakout-v5", num_envs=2, seed=11), 600),
}


def _labelled_env(env_cfg):
    return with_expert(envs.make_vector_env(env_cfg), env_cfg, config.ExpertConfig())


def _replay(env, streams: int) -> ReplayBuffer:
    """20,000 rows per stream, whatever the number of streams."""
    return ReplayBuffer(20_000 * streams, streams, env.single_observation_space.shape,
                        n_step=3, gamma=0.9, prioritized=True)


def _network(env) -> ActingNetwork:
    torch.manual_seed(5)
    return ActingNetwork(env.single_observation_space.shape, int(env.single_action_space.n),
                         config.LearnerConfig(hidden_sizes=(32,)))


@pytest.mark.parametrize("game", sorted(ENVS))
def test_chunks_written_into_their_streams_are_what_an_in_process_actor_stores(game):
    env_cfg, steps = ENVS[game]
    chunk_steps = 32
    env_a, env_b = _labelled_env(env_cfg), _labelled_env(env_cfg)
    net = _network(env_a)
    direct = _replay(env_a, env_cfg.num_envs)
    fps = envs.frames_per_step(env_cfg)
    in_process = Actor(env_a, direct, net.greedy, fps, seed=3)
    recorder = ChunkRecorder(env_cfg.num_envs, stacked=len(env_a.single_observation_space.shape)
                             == 3)
    remote = Actor(env_b, recorder, net.greedy, fps, seed=3)
    # the shipped chunks go to the second process's streams of a replay with room for two
    shipped = _replay(env_a, 2 * env_cfg.num_envs)
    for step in range(steps):
        in_process.step(0.3, 0.25)
        remote.step(0.3, 0.25)
        if (step + 1) % chunk_steps == 0:
            write_chunk(shipped, recorder.take(), first_stream=env_cfg.num_envs)
    write_chunk(shipped, recorder.take(), first_stream=env_cfg.num_envs)
    ended = (direct.flags_S & 8).sum()
    assert ended > 0, "the run should have ended some episodes (their final rows travel too)"
    for name in STORAGE:  # the second half of each shipped column: the second process's
        mine, theirs = getattr(direct, name), getattr(shipped, name)
        np.testing.assert_array_equal(mine, theirs[len(mine):], err_msg=name)
    assert (shipped.write_count_N[:env_cfg.num_envs] == 0).all()  # the first process's: empty
    leaves = direct.tree.leaves
    np.testing.assert_array_equal(leaves, shipped.tree.leaves[leaves.size:])
    env_a.close()
    env_b.close()


def test_a_chunk_weighs_a_stored_row_plus_fourteen_bytes_per_transition():
    """Tempest's feature vectors (float32) and Pong's frames (the newest of the stack)."""
    for env_cfg, row_bytes in ((config.EnvConfig(num_envs=4), None),
                               (config.EnvConfig(id="ALE/Pong-v5", num_envs=2), 84 * 84)):
        env = _labelled_env(env_cfg)
        shape = env.single_observation_space.shape
        row_bytes = row_bytes or 4 * shape[0]
        recorder = ChunkRecorder(env_cfg.num_envs, stacked=len(shape) == 3)
        actor = Actor(env, recorder, _network(env).greedy, envs.frames_per_step(env_cfg))
        for _ in range(20):
            actor.step(1.0)
        chunk = recorder.take()
        ended = chunk.next_obs.shape[0]
        steps = chunk.step_sizes.size  # Pong's adapter is pipelined: 19 booked, 1 in flight
        assert steps == (19 if env_cfg.id.startswith("ALE/") else 20)
        expected = chunk.transitions * (row_bytes + 14) + ended * row_bytes + 4 * steps
        assert chunk.nbytes == expected
        env.close()


def test_the_acting_process_acts_with_the_weights_it_was_sent():
    cfg = config.get_preset("smoke")
    process = ActingProcess(config.to_dict(cfg), index=0, seed=actor_seed(7, 0))
    info = process.describe()
    assert info["num_envs"] == cfg.env.num_envs and info["obs_shape"] == (
        process.env.single_observation_space.shape)
    chunk = process.act(5, 0.5, 0.0)
    assert chunk.frames == 5 * cfg.env.num_envs and chunk.version == -1
    assert chunk.has_expert and chunk.epsilon == 0.5 and chunk.game_view is not None
    torch.manual_seed(1)
    other = ActingNetwork(info["obs_shape"], info["num_actions"], cfg.learner)
    process.set_weights(12, weights_of(other.net))
    obs = np.random.default_rng(0).normal(size=(8, *info["obs_shape"])).astype(np.float32)
    np.testing.assert_array_equal(process.network.greedy(obs), other.greedy(obs))
    assert process.act(1, 0.0, 0.0).version == 12
    process.close()


def test_seeds_of_acting_processes_differ_and_the_first_is_the_runs():
    assert actor_seed(5, 0) == 5
    assert len({actor_seed(5, i) for i in range(8)}) == 8


def test_the_epsilon_ladder_is_ape_xs():
    # epsilon ** (1 + i / (N - 1) * alpha): 0.4 ** 1, 0.4 ** 2, 0.4 ** 8 for N = 8, alpha = 7
    assert ladder_epsilon(0.4, 0, 8, 7.0) == pytest.approx(0.4)
    assert ladder_epsilon(0.4, 1, 8, 7.0) == pytest.approx(0.16)
    assert ladder_epsilon(0.4, 7, 8, 7.0) == pytest.approx(0.4 ** 8)
    assert ladder_epsilon(0.3, 0, 1, 7.0) == 0.3  # one actor: the schedule's
