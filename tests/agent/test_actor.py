"""The actor on the fake chain env: replay writes, the autoreset step, episode bookkeeping."""

from __future__ import annotations

import numpy as np

from agent.actor import Actor, pipelined
from replay import ReplayBuffer, Source
from tests.fakes import ChainVectorEnv, PipelinedChainVectorEnv


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


# ------------------------------------------------------------------------------- pipelining


def _pair(num_envs=3, length=4):
    """The same actor on the plain chain and on its step_async/step_wait twin."""
    actors = []
    for kind in (ChainVectorEnv, PipelinedChainVectorEnv):
        env = kind(num_envs=num_envs, length=length, time_limit=6)
        replay = ReplayBuffer(300, num_envs, (length,), n_step=2, gamma=0.5)
        actors.append((Actor(env, replay, always(1), seed=5), replay))
    return actors


def test_only_envs_with_the_async_pair_are_pipelined():
    assert not pipelined(ChainVectorEnv()) and pipelined(PipelinedChainVectorEnv())


def test_a_pipelined_actor_books_each_step_one_step_later_and_flush_books_the_last():
    (plain, plain_replay), (piped, piped_replay) = _pair()
    plain.reset(seed=0)
    piped.reset(seed=0)
    plain_reports = [plain.step(epsilon=0.3) for _ in range(40)]
    piped_reports = [piped.step(epsilon=0.3) for _ in range(40)] + [piped.flush()]
    assert piped_reports[0].frames == 0  # nothing booked yet: the first step is in flight
    assert [r.frames for r in piped_reports[1:]] == [r.frames for r in plain_reports]
    assert [r.episodes for r in piped_reports[1:]] == [r.episodes for r in plain_reports]
    assert [r.env_ids for r in piped_reports[1:]] == [r.env_ids for r in plain_reports]
    assert piped.frame == plain.frame and piped.flush().frames == 0
    for column in ("obs_SF", "action_S", "reward_S", "flags_S", "source_S", "expert_S",
                   "write_count_N"):
        np.testing.assert_array_equal(getattr(piped_replay, column),
                                      getattr(plain_replay, column), err_msg=column)


def test_a_pipelined_step_books_and_lets_the_caller_work_between_send_and_receive():
    (_, _), (actor, _) = _pair()
    env, seen = actor.env, []
    actor.reset(seed=0)
    for _ in range(2):
        actor.send(epsilon=0.0)
        report = actor.book()
        seen.append((report.frames, list(env.calls[-1:])))  # the caller's work goes here
        actor.receive()
    assert seen == [(0, ["async"]), (3, ["async"])]  # the env's step is started, not collected
    assert env.calls == ["async", "wait", "async", "wait"]


def test_a_plain_actor_books_the_step_it_just_sent():
    (actor, _), _ = _pair()
    actor.reset(seed=0)
    actor.send(epsilon=0.0)
    assert actor.book().frames == 3
    before = actor.obs_N
    actor.receive()
    assert actor.obs_N is not before  # the answer's observations are current now
