"""The sum tree against numpy cumulative sums, and importance weights by hand."""

from __future__ import annotations

import numpy as np
import pytest

from replay.sumtree import SumTree


def test_tree_nodes_for_the_docstring_example():
    #         [2.5]
    #      [1.5]  [1.0]
    #   [0.5 1.0 0.5 0.5]
    tree = SumTree(4)
    tree.set(np.arange(4), np.array([0.5, 1.0, 0.5, 0.5]))
    assert tree.sum_T[1:4].tolist() == [2.5, 1.5, 1.0]
    assert tree.min_T[1] == 0.5
    assert tree.find(np.array([0.0, 0.49, 0.5, 1.49, 1.5, 2.49])).tolist() == [0, 0, 1, 1, 2, 3]


def test_random_updates_match_cumsum_search(rng):
    size = 1000  # not a power of two: the padded leaves stay empty
    tree, naive = SumTree(size), np.zeros(size)
    for _ in range(50):
        slots = rng.integers(0, size, 64)
        values = rng.random(64) * (rng.random(64) > 0.3)
        tree.set(slots, values)
        # sequential: a repeated slot keeps the last value
        for s, v in zip(slots, values, strict=True):
            naive[s] = v
    assert tree.total == pytest.approx(naive.sum())
    assert tree.min_T[1] == naive[naive > 0].min()
    targets = rng.random(5000) * naive.sum()
    expected = np.searchsorted(np.cumsum(naive), targets, side="right")
    assert (tree.find(targets) == expected).all()


def test_zero_leaves_are_never_found(rng):
    tree = SumTree(64)
    values = np.where(np.arange(64) % 3 == 0, 1.0, 0.0)
    tree.set(np.arange(64), values)
    edges = np.nextafter(np.cumsum(values), 0.0)  # targets just below each boundary
    found = tree.find(np.concatenate([edges, [tree.total, tree.total * 2]]))
    assert (values[found] > 0).all()


def test_stratified_draw_puts_one_target_in_each_slice():
    tree = SumTree(8)
    tree.set(np.arange(8), np.ones(8))
    # 4 strata of width 2 over total 8: u=0.5 lands mid-stratum, i.e. slots 1, 3, 5, 7
    assert tree.sample(np.full(4, 0.5))[0].tolist() == [1, 3, 5, 7]


def test_rebuild_from_leaves_equals_incremental_updates(rng):
    tree, rebuilt = SumTree(300), SumTree(300)
    values = rng.random(300) * (rng.random(300) > 0.5)
    tree.set(np.arange(300), values)
    rebuilt.load_leaves(values)
    np.testing.assert_allclose(rebuilt.sum_T, tree.sum_T)
    np.testing.assert_array_equal(rebuilt.min_T, tree.min_T)


def test_importance_weights_by_hand():
    # leaves p^alpha = [4, 1, 2, 0(empty)], total 7, N = 3 sampleable.
    # w_i = (N P(i))^-beta / max_j w_j with beta = 0.5:
    #   N P = [12/7, 3/7, 6/7]; w = [0.7638, 1.5275, 1.0801]; max = 1.5275 (the smallest p)
    #   normalised: [0.5, 1.0, 0.7071]
    tree = SumTree(4)
    tree.set(np.arange(4), np.array([4.0, 1.0, 2.0, 0.0]))
    weights = tree.weights(np.array([0, 1, 2]), 0.5)
    assert weights.tolist() == pytest.approx([0.5, 1.0, 2 ** -0.5])
    assert tree.weights(np.array([0, 1, 2]), 0.0).tolist() == [1.0, 1.0, 1.0]


def test_sampled_weights_equal_the_weights_of_the_sampled_slots(rng):
    tree = SumTree(500)
    tree.set(np.arange(500), rng.random(500) * (rng.random(500) > 0.2))
    slots, weights = tree.sample(rng.random(64), beta=0.6)
    assert (np.diff(slots) >= 0).all()
    np.testing.assert_array_equal(weights, tree.weights(slots, 0.6))


def test_unsorted_and_repeated_updates_repair_every_ancestor(rng):
    tree, naive = SumTree(777), np.zeros(777)
    slots = rng.integers(0, 777, 3000)  # unsorted, with many repeats
    values = rng.random(3000)
    tree.set(slots, values)
    for s, v in zip(slots, values, strict=True):
        naive[s] = v
    rebuilt = SumTree(777)
    rebuilt.load_leaves(naive)
    np.testing.assert_allclose(tree.sum_T, rebuilt.sum_T)
    np.testing.assert_array_equal(tree.min_T, rebuilt.min_T)
