"""A sum tree (with a parallel min tree) over slot priorities, for proportional prioritised replay.

Layout: one float64 array per tree, length 2P with P the power of two at or above the slot count;
node 1 is the root, the children of node i are 2i and 2i+1, and slot s is leaf P + s.  Leaves hold
priority**alpha; a zero leaf is a slot that cannot be sampled (empty, FINAL, or still waiting for
its next observation).  The min tree holds +inf for those, so it answers "smallest sampleable
priority", which normalises importance weights exactly as the PER paper does (global, not per
batch).

        [2.5]             sum tree of 4 slots with priorities 0.5, 1.0, 0.5, 0.5
     [1.5]  [1.0]
  [0.5 1.0 0.5 0.5]

Random numbers come from the caller (`find(targets)`), so the tree owns no generator.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_KERNEL = {"cache": True, "nogil": True}


@njit(**_KERNEL)
def tree_set(sum_T, min_T, slots_K, values_K):
    """Set leaves (in order: a repeated slot keeps its last value) and repair their ancestors.

    Ancestors are repaired level by level, each shared parent once per run of equal parents:
    for the sorted slots of a stratified batch that is 3.3x fewer node updates than a walk to
    the root per leaf (16,384 of 1M: 100k against 328k) and every level is swept in order.
    Unsorted input is still correct, merely repairs some nodes twice.
    """
    leaves = sum_T.shape[0] // 2
    nodes_K = np.empty(slots_K.shape[0], np.int64)
    for k in range(slots_K.shape[0]):
        node = leaves + slots_K[k]
        sum_T[node] = values_K[k]
        min_T[node] = values_K[k] if values_K[k] > 0.0 else np.inf
        nodes_K[k] = node
    count = slots_K.shape[0]
    while count > 0 and nodes_K[0] > 1:
        kept, previous = 0, -1
        for k in range(count):
            parent = nodes_K[k] // 2
            if parent != previous:
                sum_T[parent] = sum_T[2 * parent] + sum_T[2 * parent + 1]
                min_T[parent] = min(min_T[2 * parent], min_T[2 * parent + 1])
                nodes_K[kept] = parent
                kept += 1
                previous = parent
        count = kept


@njit(**_KERNEL)
def tree_rebuild(sum_T, min_T):
    """Recompute every internal node from the leaves (after a load): O(P), not O(P log P)."""
    leaves = sum_T.shape[0] // 2
    for node in range(leaves, 2 * leaves):
        min_T[node] = sum_T[node] if sum_T[node] > 0.0 else np.inf
    for node in range(leaves - 1, 0, -1):
        sum_T[node] = sum_T[2 * node] + sum_T[2 * node + 1]
        min_T[node] = min(min_T[2 * node], min_T[2 * node + 1])


@njit(**_KERNEL)
def tree_find(sum_T, targets_B):
    """Inverse-CDF lookup: for each target in [0, total), the slot whose cumulative range holds it.

    Rounding can leave a target at or past a subtree's sum; the descent then never steps into an
    empty (zero-sum) subtree, so it always ends on a sampleable leaf.
    """
    leaves = sum_T.shape[0] // 2
    slots_B = np.empty(targets_B.shape[0], np.int64)
    for b in range(targets_B.shape[0]):
        target, node = targets_B[b], 1
        while node < leaves:
            left = 2 * node
            if target < sum_T[left] or sum_T[left + 1] <= 0.0:
                node = left
            else:
                target -= sum_T[left]
                node = left + 1
        slots_B[b] = node - leaves
    return slots_B


@njit(**_KERNEL)
def stratified_sample(sum_T, min_T, u_B, beta, first, strata, slots_B, weights_B):
    """Stratified proportional draw with importance weights, into `slots_B` and `weights_B`.

    Draw b is target (first + b + u_b) * total / strata: one target in each of `strata` equal
    slices of [0, total), so slots come out sorted and a batch can be drawn in parts (`first`
    is where this part starts).  The descent runs level by level for the whole part rather than
    root-to-leaf per target: the loads of one level are independent, so the processor overlaps
    their cache misses (1M slots, 16,384 draws, caches cold: 1.3 ms against 2.9 ms per target).
    Weights: w_i = (N * P(i))**-beta / max_j w_j, which reduces to (p_min / p_i)**beta.
    """
    size = u_B.shape[0]
    leaves = sum_T.shape[0] // 2
    width = sum_T[1] / strata
    target_B = np.empty(size, np.float64)
    for b in range(size):
        target_B[b] = (first + b + u_B[b]) * width
        slots_B[b] = 1
    depth = 1
    while depth < leaves:
        for b in range(size):  # branch-free: the direction is a coin flip, 13% faster
            left = 2 * slots_B[b]
            right = (target_B[b] >= sum_T[left]) & (sum_T[left + 1] > 0.0)
            target_B[b] -= sum_T[left] * right
            slots_B[b] = left + right
        depth *= 2
    for b in range(size):
        weights_B[b] = (min_T[1] / sum_T[slots_B[b]]) ** beta
        slots_B[b] -= leaves
    return slots_B, weights_B


@njit(**_KERNEL)
def importance_weights(sum_T, min_T, slots_B, beta):
    """The weights of `stratified_sample` for given slots: (p_min / p_i)**beta."""
    leaves = sum_T.shape[0] // 2
    weights_B = np.empty(slots_B.shape[0], np.float32)
    for b in range(slots_B.shape[0]):
        weights_B[b] = (min_T[1] / sum_T[leaves + slots_B[b]]) ** beta
    return weights_B


class SumTree:
    """Proportional sampling structure over `size` slots; values are priority**alpha."""

    def __init__(self, size: int):
        leaves = 1 << max(0, int(size - 1).bit_length())
        self.size = size
        self.sum_T = np.zeros(2 * leaves, np.float64)
        self.min_T = np.full(2 * leaves, np.inf, np.float64)

    @property
    def total(self) -> float:
        """Sum of all leaves: the normaliser of the sampling distribution."""
        return float(self.sum_T[1])

    @property
    def leaves(self) -> np.ndarray:
        """A view of the `size` leaf values (priority**alpha, 0 = not sampleable)."""
        start = self.sum_T.shape[0] // 2
        return self.sum_T[start : start + self.size]

    def set(self, slots: np.ndarray, values: np.ndarray) -> None:
        """Set leaf values; later entries win over earlier ones for a repeated slot."""
        tree_set(self.sum_T, self.min_T, slots.astype(np.int64, copy=False),
                 values.astype(np.float64, copy=False))

    def find(self, targets: np.ndarray) -> np.ndarray:
        """Slots for targets in [0, total) (inverse CDF)."""
        return tree_find(self.sum_T, targets.astype(np.float64, copy=False))

    def sample(self, u: np.ndarray, beta: float = 0.0, first: int = 0, strata: int = 0,
               out: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Stratified proportional draw of len(u) slots from uniform numbers u in [0, 1).

        `first` and `strata` draw part of a larger batch: draws first..first+len(u) of `strata`
        (default: the whole batch, len(u) strata).

        Returns:
            (slots in ascending order, importance weights with exponent beta).
        """
        size = u.shape[0]
        slots, weights = out if out is not None else (np.empty(size, np.int64),
                                                      np.empty(size, np.float32))
        return stratified_sample(self.sum_T, self.min_T, u.astype(np.float64, copy=False),
                                 float(beta), first, strata or size, slots, weights)

    def weights(self, slots: np.ndarray, beta: float) -> np.ndarray:
        """Importance-sampling weights of `slots`, normalised by the smallest priority stored."""
        return importance_weights(self.sum_T, self.min_T, slots, float(beta))

    def load_leaves(self, values: np.ndarray) -> None:
        """Replace every leaf and rebuild the tree (used by `load`)."""
        self.sum_T[:] = 0.0
        self.leaves[:] = values
        tree_rebuild(self.sum_T, self.min_T)
