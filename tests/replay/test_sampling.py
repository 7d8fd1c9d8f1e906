"""Sampling distributions (chi-square against the intended ones), priorities and determinism."""

from __future__ import annotations

import numpy as np
import pytest

from replay import ReplayBuffer
from tests.replay.conftest import drive


# 99.9th percentile of chi-square with `dof` degrees of freedom, Wilson-Hilferty approximation;
# with a fixed seed the test is deterministic, and the bound is loose enough to be honest.
def _chi2_bound(dof: int, z: float = 3.09) -> float:
    return dof * (1 - 2 / (9 * dof) + z * np.sqrt(2 / (9 * dof))) ** 3


def _chi2(counts: np.ndarray, probabilities: np.ndarray) -> float:
    expected = probabilities * counts.sum()
    return float(((counts - expected) ** 2 / expected).sum())


def _filled_buffer(rng, prioritized: bool, **kwargs) -> ReplayBuffer:
    buf = ReplayBuffer(120, 3, (2,), prioritized=prioritized, n_step=3, seed=7, **kwargs)
    drive(buf, None, 60, rng)
    return buf


def test_uniform_sampling_is_uniform_over_sampleable_rows(rng):
    buf = _filled_buffer(rng, prioritized=False)
    valid = np.flatnonzero(buf.sampleable_S)
    counts = np.zeros(buf.capacity)
    for _ in range(40):
        np.add.at(counts, buf._uniform_slots(buf.rng.random(1000)), 1)
    assert counts[buf.sampleable_S == 0].sum() == 0
    stat = _chi2(counts[valid], np.full(valid.size, 1 / valid.size))
    assert stat < _chi2_bound(valid.size - 1)


def test_prioritized_frequencies_follow_priorities(rng):
    buf = _filled_buffer(rng, prioritized=True, alpha=0.7)
    batch = buf.sample(256)
    buf.update_priorities(batch.indices, rng.random(256) * 5)
    leaves = buf.tree.leaves.copy()
    counts = np.zeros(buf.capacity)
    for _ in range(100):
        np.add.at(counts, buf.tree.sample(buf.rng.random(512))[0], 1)
    valid = leaves > 0
    assert counts[~valid].sum() == 0
    stat = _chi2(counts[valid], leaves[valid] / leaves.sum())
    assert stat < _chi2_bound(int(valid.sum()) - 1)


def test_priorities_are_td_plus_eps_to_the_alpha_and_new_rows_get_the_max(rng):
    buf = _filled_buffer(rng, prioritized=True, alpha=0.5, priority_eps=0.01)
    batch = buf.sample(4, u=np.array([0.1, 0.3, 0.5, 0.7]))
    buf.update_priorities(batch.indices, np.array([-3.99, 0.0, 8.99, 1.0]))
    slots = buf.sampleable_S.nonzero()[0]
    leaf = buf.tree.leaves
    picked = [s for s in slots if leaf[s] != 1.0]
    assert sorted(leaf[picked].tolist()) == pytest.approx(sorted([2.0, 0.1, 3.0, 1.0049876]))
    assert buf.max_priority == pytest.approx(9.0)
    before = set(np.flatnonzero(buf.sampleable_S))
    drive(buf, None, 1, rng, p_end=0.0, p_skip=0.0)
    fresh = set(np.flatnonzero(buf.sampleable_S)) - before
    assert fresh and all(leaf[s] == pytest.approx(3.0) for s in fresh)  # 9 ** 0.5


def test_weights_use_the_smallest_stored_priority(rng):
    buf = _filled_buffer(rng, prioritized=True, alpha=1.0, priority_eps=0.0)
    valid = np.flatnonzero(buf.sampleable_S)
    tickets = buf._assemble(valid.astype(np.int64), np.ones(valid.size, np.float32), None)[-1]
    buf.update_priorities(tickets, np.linspace(1.0, 4.0, valid.size))
    batch = buf.sample(64, beta=0.5)
    assert buf.tree.min_T[1] == 1.0  # the smallest priority stored normalises the weights
    expected = (1.0 / buf.tree.leaves[_slots_of(buf, batch.indices)]) ** 0.5
    np.testing.assert_allclose(batch.weights, expected, rtol=1e-6)


def _slots_of(buf: ReplayBuffer, tickets: np.ndarray) -> np.ndarray:
    from replay.kernels import tickets_to_slots

    return tickets_to_slots(tickets, buf.write_count_N, buf.capacity_per_env)


def test_stale_tickets_are_ignored(rng):
    buf = _filled_buffer(rng, prioritized=True)
    batch = buf.sample(32)
    drive(buf, None, buf.capacity_per_env + 5, rng)  # every sampled row is overwritten
    before = buf.tree.sum_T.copy()
    buf.update_priorities(batch.indices, np.full(32, 100.0))
    np.testing.assert_array_equal(buf.tree.sum_T, before)


def test_nonfinite_td_errors_are_refused(rng):
    buf = _filled_buffer(rng, prioritized=True)
    batch = buf.sample(2)
    with pytest.raises(ValueError, match="finite"):
        buf.update_priorities(batch.indices, np.array([1.0, np.nan]))


@pytest.mark.parametrize("prioritized", [False, True])
def test_sampling_is_reproducible_from_the_seed(rng, prioritized):
    seeds = np.random.default_rng(3), np.random.default_rng(3)
    buffers = [ReplayBuffer(90, 3, (2,), prioritized=prioritized, seed=11) for _ in seeds]
    for buf, data_rng in zip(buffers, seeds, strict=True):
        drive(buf, None, 40, data_rng)
    first, second = (b.sample(16) for b in buffers)
    for a, b in zip(first, second, strict=True):
        np.testing.assert_array_equal(a, b)


def test_caller_random_numbers_decide_the_draw(rng):
    buf = _filled_buffer(rng, prioritized=True)
    u = np.linspace(0.05, 0.95, 8)
    np.testing.assert_array_equal(buf.sample(8, u=u).indices, buf.sample(8, u=u).indices)


def test_sampling_an_empty_buffer_says_why():
    for prioritized in (False, True):
        buf = ReplayBuffer(100, 2, (3,), prioritized=prioritized)
        with pytest.raises(ValueError, match="no transition that can be sampled"):
            buf.sample(4)


@pytest.mark.parametrize("obs_shape", [(3,), (2, 3, 3)])
def test_sampling_into_reused_arrays_equals_a_fresh_sample(rng, obs_shape):
    buf = ReplayBuffer(120, 3, obs_shape, prioritized=True, n_step=3)
    drive(buf, None, 50, rng)
    u = rng.random(16)
    out = buf.empty_batch(16)
    filled = buf.sample(16, u=u, out=out)
    assert filled is out
    for a, b in zip(out, buf.sample(16, u=u), strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="out.obs must be"):
        buf.sample(8, out=out)


@pytest.mark.parametrize("prioritized", [False, True])
@pytest.mark.parametrize("obs_shape", [(3,), (2, 3, 3)])
def test_threaded_assembly_equals_single_threaded(rng, prioritized, obs_shape):
    buffers = [ReplayBuffer(6000, 4, obs_shape, prioritized=prioritized, n_step=4, seed=1,
                            sample_threads=threads) for threads in (1, 3)]
    for buf in buffers:
        drive(buf, None, 900, np.random.default_rng(8))
    u = rng.random(4096)  # large enough to be cut into three parts
    single, threaded = (buf.sample(4096, beta=0.7, u=u) for buf in buffers)
    for a, b in zip(single, threaded, strict=True):
        np.testing.assert_array_equal(a, b)


def test_caller_random_numbers_are_checked(rng):
    buf = _filled_buffer(rng, prioritized=True)
    for bad in (np.full(4, 1.0), np.full(3, 0.5), np.array([0.1, -0.1, 0.2, 0.3])):
        with pytest.raises(ValueError, match=r"u must hold 4 numbers in \[0, 1\)"):
            buf.sample(4, u=bad)
