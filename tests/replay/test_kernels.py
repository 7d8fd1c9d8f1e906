"""The storage, n-step and gather kernels against the plain-Python oracle in naive.py."""

from __future__ import annotations

import numpy as np
import pytest

from replay import ReplayBuffer, Source, storage_rows
from replay.kernels import slots_to_tickets, tickets_to_slots
from tests.replay.conftest import drive
from tests.replay.naive import NaiveReplay

CASES = [  # (capacity, num_envs, obs_shape, n_step, cut_on_source_change, steps)
    pytest.param(60, 3, (5,), 4, False, 70, id="vectors-wrapping"),
    pytest.param(60, 3, (5,), 4, True, 70, id="vectors-cut-on-source"),
    pytest.param(400, 2, (5,), 6, True, 50, id="vectors-not-full"),
    pytest.param(48, 2, (4, 3, 2), 3, False, 60, id="frames-wrapping"),
    pytest.param(48, 3, (3, 2, 2), 1, True, 45, id="frames-one-step"),
]


def _everything(buf: ReplayBuffer):
    """A batch holding every sampleable slot, in slot order."""
    slots = np.flatnonzero(buf.sampleable_S).astype(np.int64)
    return slots, buf._assemble(slots, np.ones(slots.size, np.float32), None)


@pytest.mark.parametrize("capacity,num_envs,obs_shape,n_step,cut,steps", CASES)
def test_kernels_match_the_oracle(rng, capacity, num_envs, obs_shape, n_step, cut, steps):
    buf = ReplayBuffer(capacity, num_envs, obs_shape, n_step=n_step, gamma=0.9,
                       cut_on_source_change=cut)
    naive = NaiveReplay(num_envs, buf.capacity_per_env, buf.stack)
    drive(buf, naive, steps, rng)

    expected = sorted(naive.slot(e, n) for e, n in naive.sampleable_rows())
    slots, batch = _everything(buf)
    assert slots.tolist() == expected
    assert len(expected) > 10
    for b, (env, n) in enumerate(sorted(naive.sampleable_rows(), key=lambda r: naive.slot(*r))):
        ret, disc, nxt, horizon, term = naive.nstep(env, n, n_step, 0.9, cut)
        row = naive.streams[env][n]
        assert batch.indices[b] == naive.ticket(env, n)
        assert batch.reward[b] == pytest.approx(ret, rel=1e-5, abs=1e-6)
        assert batch.discount[b] == pytest.approx(disc, rel=1e-6)
        assert (batch.horizon[b], batch.terminated[b]) == (horizon, term)
        assert (batch.action[b], batch.source[b], batch.expert_action[b]) == (
            row.action, row.source, row.expert)
        if buf.frames:
            np.testing.assert_array_equal(batch.obs[b], naive.stacked(env, n))
            np.testing.assert_array_equal(batch.next_obs[b], naive.stacked(env, nxt))
        else:
            np.testing.assert_array_equal(batch.obs[b], row.obs)
            np.testing.assert_array_equal(batch.next_obs[b], naive.streams[env][nxt].obs)


def test_episode_ends_of_both_kinds_are_exercised(rng):
    buf = ReplayBuffer(60, 3, (5,), n_step=4)
    naive = NaiveReplay(3, buf.capacity_per_env)
    drive(buf, naive, 70, rng)
    rows = [r for stream in naive.streams for r in stream]
    assert any(r.terminated for r in rows) and any(r.truncated for r in rows)
    assert any(r.final for r in rows) and len(rows) > 3 * buf.capacity_per_env


def _single_stream(rewards, terminated=(), truncated=(), sources=None, n_step=3, gamma=0.9,
                   cut=True):
    buf = ReplayBuffer(64, 1, (1,), n_step=n_step, gamma=gamma, cut_on_source_change=cut)
    for t, r in enumerate(rewards):
        obs = np.array([[float(t)]], np.float32)
        source = [Source.DQN if sources is None else sources[t]]
        buf.add(obs, [0], [r], [t in terminated], [t in truncated], obs + 100.0, source)
    return buf


def test_hand_computed_nstep_return():
    buf = _single_stream([1.0, 2.0, 3.0, 4.0, 5.0])
    _, batch = _everything(buf)
    # row 0: 1 + 0.9*2 + 0.81*3 = 5.23, bootstrap gamma^3 = 0.729 from row 3
    assert batch.reward[0] == pytest.approx(5.23)
    assert batch.discount[0] == pytest.approx(0.729)
    assert batch.next_obs[0, 0] == 3.0
    # row 2: the window may not use row 4's reward (its next observation is not stored yet)
    assert batch.reward[2] == pytest.approx(3.0 + 0.9 * 4.0)
    assert batch.discount[2] == pytest.approx(0.81)
    assert batch.horizon.tolist() == [3, 3, 2, 1]


def test_terminal_stops_bootstrap_and_truncation_bootstraps_from_final_obs():
    buf = _single_stream([1.0, 1.0, 1.0, 1.0, 1.0, 1.0], terminated={1}, truncated={4})
    _, batch = _everything(buf)
    # rows: 0, 1(term), FINAL, 2(first), 3, 4(trunc), FINAL, 5(first, newest)
    assert batch.obs[:, 0].tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert batch.reward.tolist() == pytest.approx([1.9, 1.0, 2.71, 1.9, 1.0])
    assert batch.discount.tolist() == pytest.approx([0.0, 0.0, 0.729, 0.81, 0.9])
    assert batch.terminated.tolist() == [True, True, False, False, False]
    assert batch.next_obs[3:, 0].tolist() == [104.0, 104.0]  # the truncated episode's last obs


def test_window_ends_where_the_behaviour_source_changes():
    sources = [Source.EXPERT, Source.EXPERT, Source.DQN, Source.DQN, Source.DQN, Source.DQN]
    rewards = [1.0, 2.0, 4.0, 8.0, 16.0, 32.0]
    cut = _everything(_single_stream(rewards, sources=sources))[1]
    assert cut.reward[0] == pytest.approx(1.0 + 0.9 * 2.0)
    assert cut.horizon[0] == 2 and cut.next_obs[0, 0] == 2.0
    mixed = _everything(_single_stream(rewards, sources=sources, cut=False))[1]
    assert mixed.reward[0] == pytest.approx(1.0 + 0.9 * 2.0 + 0.81 * 4.0)


def test_tickets_survive_until_the_row_is_overwritten(rng):
    buf = ReplayBuffer(40, 2, (3,), n_step=1)
    drive(buf, None, 15, rng, p_end=0.0, p_skip=0.0)
    slots = np.flatnonzero(buf.sampleable_S).astype(np.int64)
    tickets = slots_to_tickets(slots, buf.write_count_N, buf.capacity_per_env)
    assert tickets_to_slots(tickets, buf.write_count_N, buf.capacity_per_env).tolist() == (
        slots.tolist())
    drive(buf, None, buf.capacity_per_env, rng, p_end=0.0, p_skip=0.0)
    assert (tickets_to_slots(tickets, buf.write_count_N, buf.capacity_per_env) == -1).all()


def test_float16_storage_round_trips_at_half_precision(rng):
    buf = ReplayBuffer(100, 2, (7,), obs_dtype="float16")
    naive = NaiveReplay(2, buf.capacity_per_env)
    drive(buf, naive, 20, rng)
    slots, batch = _everything(buf)
    assert batch.obs.dtype == np.float16
    env, n = naive.sampleable_rows()[0]
    np.testing.assert_array_equal(batch.obs[list(slots).index(naive.slot(env, n))],
                                  naive.streams[env][n].obs)
    assert buf.obs_SF.nbytes == buf.capacity * 7 * 2


@pytest.mark.parametrize("kwargs,message", [
    (dict(capacity=10, num_envs=2, obs_shape=(3,), n_step=5), "rows per stream"),
    (dict(capacity=100, num_envs=2, obs_shape=(3,), n_step=0), "n_step"),
    (dict(capacity=100, num_envs=0, obs_shape=(3,)), "num_envs"),
    (dict(capacity=100, num_envs=1, obs_shape=(3,), gamma=1.5), "gamma"),
    (dict(capacity=100, num_envs=1, obs_shape=(3,), obs_dtype="int32"), "obs_dtype"),
])
def test_bad_arguments_say_what_is_wrong(kwargs, message):
    with pytest.raises(ValueError, match=message):
        ReplayBuffer(**kwargs)


def test_add_rejects_wrong_shapes():
    buf = ReplayBuffer(100, 2, (3,))
    obs = np.zeros((2, 4), np.float32)
    with pytest.raises(ValueError, match=r"shape \(2, 3\)"):
        buf.add(obs, [0, 0], [0, 0], [0, 0], [0, 0], obs, [0, 0])
    good = np.zeros((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"need shape \(2,\): one per env"):
        buf.add(good, [0], [0, 0], [0, 0], [0, 0], good, [0, 0])


@pytest.mark.parametrize("streams", [None, [0, 2]], ids=["every stream", "some streams"])
@pytest.mark.parametrize("obs_shape", [(4,), (3, 2, 2)])
def test_truncating_streams_keeps_episodes_apart(rng, obs_shape, streams):
    """A resume ends every stream; a Ray acting process that died ends its own."""
    buf = ReplayBuffer(90, 3, obs_shape, n_step=4, gamma=0.9)
    naive = NaiveReplay(3, buf.capacity_per_env, buf.stack)
    drive(buf, naive, 12, rng)
    flags_before = buf.flags_S.reshape(3, -1).copy()
    buf.truncate_streams(streams)
    naive.truncate_streams(streams)
    if streams is not None:  # stream 1 untouched
        np.testing.assert_array_equal(buf.flags_S.reshape(3, -1)[1], flags_before[1])
    drive(buf, naive, 6, rng)
    slots, batch = _everything(buf)
    rows = sorted(naive.sampleable_rows(), key=lambda r: naive.slot(*r))
    assert slots.tolist() == [naive.slot(e, n) for e, n in rows]
    for b, (env, n) in enumerate(rows):
        ret, disc, nxt, horizon, term = naive.nstep(env, n, 4, 0.9, True)
        assert batch.reward[b] == pytest.approx(ret, rel=1e-5, abs=1e-6)
        assert (batch.discount[b], batch.horizon[b]) == (pytest.approx(disc), horizon)
        expected_next = (naive.stacked(env, nxt) if buf.frames
                         else naive.streams[env][nxt].obs)
        np.testing.assert_array_equal(batch.next_obs[b], expected_next)


class _RowsWriter:
    """The buffer, with `add` going through `add_rows` as a Ray acting process's chunk does."""

    def __init__(self, buf: ReplayBuffer):
        self.buf = buf

    def __getattr__(self, name):
        return getattr(self.buf, name)

    def add(self, obs, action, reward, terminated, truncated, next_obs, source,
            expert_action=None, env_ids=None, continues=None):
        self.buf.add_rows(storage_rows(np.asarray(obs), self.buf.frames),
                          action, reward, terminated, truncated,
                          storage_rows(np.asarray(next_obs), self.buf.frames), source,
                          expert_action, env_ids, continues)


@pytest.mark.parametrize(("obs_shape", "dtype"), [((4,), np.float32), ((4,), np.float16),
                                                  ((3, 2, 2), np.float32)])
def test_adding_storage_rows_stores_what_adding_observations_does(obs_shape, dtype):
    direct = ReplayBuffer(90, 3, obs_shape, n_step=4, gamma=0.9, obs_dtype=dtype,
                          prioritized=True)
    by_rows = ReplayBuffer(90, 3, obs_shape, n_step=4, gamma=0.9, obs_dtype=dtype,
                           prioritized=True)
    drive(direct, None, 40, np.random.default_rng(4))
    drive(_RowsWriter(by_rows), None, 40, np.random.default_rng(4))
    for name in ("obs_SF", "action_S", "reward_S", "flags_S", "source_S", "expert_S",
                 "sampleable_S", "write_count_N", "episode_start_N"):
        np.testing.assert_array_equal(getattr(direct, name), getattr(by_rows, name), name)
    np.testing.assert_array_equal(direct.tree.leaves, by_rows.tree.leaves)
