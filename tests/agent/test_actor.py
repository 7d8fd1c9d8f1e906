"""The actor on the fake chain env: replay writes, the autoreset step, episode bookkeeping."""

from __future__ import annotations

import numpy as np

from agent.actor import Actor
from replay import ReplayBuffer, Source
from tests.fakes import ChainVectorEnv


def always(action: int):
    return lambda obs: np.full(obs.shape[0], action)


def _actor(epsilon_policy=1, num_envs=3, length=4, frames_per_step=1):
    env = ChainVectorEnv(num_envs=num_envs, length=length)
    replay = ReplayBuffer(300, num_envs, (length,), n_step=1, gamma=0.5)
    return Actor(env, replay, always(epsilon_policy), frames_per_step=frames_per_step), replay


def test_episodes_are_counted_and_the_reset_step_is_not_stored():
    actor, replay = _actor(frames_per_step=4)
    actor.reset(seed=0)
    reports = [actor.step(epsilon=0.0) for _ in range(5)]
    # steps 1-3 reach the goal (length 4); step 4 is the autoreset step; step 5 moves again
    assert [len(r.episodes) for r in reports] == [0, 0, 3, 0, 0]
    episode = reports[2].episodes[0]
    assert (episode.score, episode.dqn_return, episode.length) == (1.0, 1.0, 3)
    assert episode.end_frame == 3 * 3 * 4 and actor.frame == 5 * 3 * 4
    # per env: 3 transitions + the FINAL row, no row for the reset step, then 1 transition
    assert replay.write_count_N.tolist() == [5, 5, 5]
    assert replay.flags_S[:5].tolist()[3] == 8  # the FINAL row after the terminal step


def test_stored_transitions_chain_observations_and_carry_expert_labels():
    actor, replay = _actor()
    actor.reset(seed=0)
    for _ in range(5):
        actor.step(epsilon=0.0)
    slots = np.flatnonzero(replay.sampleable_S).astype(np.int64)
    batch = replay._assemble(slots, np.ones(slots.size, np.float32), None)
    position = batch.obs.argmax(1)
    next_position = batch.next_obs.argmax(1)
    assert (next_position == position + 1).all()  # always right, never across a reset
    assert (batch.reward == (next_position == 3)).all()
    assert (batch.expert_action == 1).all() and (batch.source == Source.DQN).all()


def test_epsilon_one_acts_randomly_and_still_counts_as_the_network():
    actor, replay = _actor(epsilon_policy=0)  # greedy says left; exploration overrides
    actor.reset(seed=0)
    for _ in range(200):
        for episode in actor.step(epsilon=1.0).episodes:
            assert episode.dqn_return == episode.score  # epsilon actions are the network's
    assert (replay.source_S[replay.flags_S != 8] == Source.RANDOM).all()  # the ring is full
