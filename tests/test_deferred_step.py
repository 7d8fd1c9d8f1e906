"""The learner's deferred step (`Learner(deferred=True)`, the default on a GPU): the same step
as the host-decided one, no host synchronisation while it is queued, its numbers read a step
later.  Run here on the CPU, where both modes exist: the arithmetic is the device's either way.
"""

from __future__ import annotations

import contextlib

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from aimodel import Learner
from tests.learner_cases import make_cfg, params, random_batch, same

torch.set_num_threads(1)

CFG = dict(hidden_sizes=(16, 8), layer_norm=True, dueling=True, loss="huber", tau=0.25,
           hard_update_every=3, max_grad_norm=0.5)


def twins(**overrides) -> tuple[Learner, Learner]:
    """(host-decided, deferred) learners with the same weights and settings."""
    cfg = make_cfg(**{**CFG, **overrides})
    return Learner((6,), 3, cfg, seed=2, deferred=False), Learner((6,), 3, cfg, seed=2,
                                                                   deferred=True)


def batches(count: int, nan_at: int | None = None) -> list:
    rng = np.random.default_rng(11)
    out = [random_batch(rng, 32, 6, 3) for _ in range(count)]
    if nan_at is not None:
        reward = out[nan_at].reward.copy()
        reward[5] = np.nan
        out[nan_at] = out[nan_at]._replace(reward=reward)
    return out


def adam_state(learner: Learner) -> dict[str, torch.Tensor]:
    return {k: v.clone() for k, v in learner.state()[0].items() if k.startswith("optim.")}


class SyncCounter(TorchDispatchMode):
    """Counts the ops by which a value reaches the host: `_local_scalar_dense` is what every
    `item()`, `bool()`, `float()` and `int()` of a tensor runs, from Python or from C++."""

    def __init__(self) -> None:
        super().__init__()
        self.count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        if func is torch.ops.aten._local_scalar_dense.default:
            self.count += 1
        return func(*args, **(kwargs or {}))


@contextlib.contextmanager
def host_reads():
    """Counts host synchronisations: the dispatcher's scalar reads, plus `.cpu()`, `.numpy()`
    and `.tolist()` called on tensors (which do not pass through it)."""
    counter = SyncCounter()
    originals = {name: getattr(torch.Tensor, name) for name in ("cpu", "numpy", "tolist")}

    def counting(name):
        def wrapper(self, *args, **kwargs):
            counter.count += 1
            return originals[name](self, *args, **kwargs)
        return wrapper

    try:
        for name in originals:
            setattr(torch.Tensor, name, counting(name))
        with counter:
            yield counter
    finally:
        for name, original in originals.items():
            setattr(torch.Tensor, name, original)


def test_a_deferred_step_reads_nothing_back_while_it_is_queued() -> None:
    host, deferred = twins()
    learner_batches = batches(3)
    deferred.imitation_weight = host.imitation_weight = 0.5
    deferred.imitation_margin = host.imitation_margin = 0.8
    for learner in (host, deferred):
        learner.step(learner_batches[0])  # the optimiser's state exists
    with host_reads() as on_host:
        host.step_async(learner_batches[1])
    with host_reads() as on_deferred:
        pending = deferred.step_async(learner_batches[2])
    assert on_host.count >= 1  # the instrument sees the host-decided step's read ...
    assert on_deferred.count == 0  # ... and none in the deferred one
    assert deferred.resolve(pending).learner_steps == 2


def test_deferred_steps_train_as_the_host_decided_ones() -> None:
    """Same weights, target, Adam state and statistics over steps that clip, soft-update,
    hard-copy and imitate, with each step resolved after the next one is queued."""
    host, deferred = twins()
    for learner in (host, deferred):
        learner.imitation_weight, learner.imitation_margin = 0.5, 0.8
    expected, got, pending = [], [], None
    for batch in batches(7):
        expected.append(host.step(batch))
        queued = deferred.step_async(batch)
        if pending is not None:
            got.append(deferred.resolve(pending))
        pending = queued
    got.append(deferred.resolve(pending))
    assert same(params(host.online), params(deferred.online), atol=1e-6)
    assert same(params(host.target), params(deferred.target), atol=1e-6)
    adam_host, adam_deferred = adam_state(host), adam_state(deferred)
    assert all(torch.allclose(adam_host[k], adam_deferred[k], atol=1e-7) for k in adam_host)
    assert any(s.clipped for s in expected)  # clipping really ran
    for a, b in zip(expected, got, strict=True):
        assert b.loss == pytest.approx(a.loss, rel=1e-5)
        assert b.grad_norm == pytest.approx(a.grad_norm, rel=1e-5)
        assert (b.clip_delta, b.clipped) == (pytest.approx(a.clip_delta, rel=1e-5), a.clipped)
        assert (b.q_min, b.q_max, b.q_mean) == pytest.approx((a.q_min, a.q_max, a.q_mean),
                                                             rel=1e-5)
        assert b.agreement == a.agreement and b.imitation == pytest.approx(a.imitation)
        np.testing.assert_array_equal(b.greedy_hist, a.greedy_hist)
        np.testing.assert_allclose(b.td_error, a.td_error, rtol=1e-5, atol=1e-6)
        assert (b.learner_steps, b.target_age, b.lr) == (a.learner_steps, a.target_age, a.lr)


def test_a_non_finite_step_is_skipped_on_the_device() -> None:
    """A NaN reward: weights, target and Adam's moments and step count stay as they were
    (fused Adam's found_inf), and the host books the skip when it resolves the step."""
    _, deferred = twins(hard_update_every=0)
    good, bad = batches(2, nan_at=1)
    deferred.step(good)
    online, target, adam = params(deferred.online), params(deferred.target), adam_state(deferred)
    pending = deferred.step_async(bad)
    assert deferred.learner_steps == 2  # not known yet: counted
    stats = deferred.resolve(pending)
    assert stats.skipped and deferred.nonfinite_steps == 1 and deferred.learner_steps == 1
    assert np.isfinite(stats.td_error).all() and stats.td_error[5] == 0.0
    assert same(params(deferred.online), online) and same(params(deferred.target), target)
    after = adam_state(deferred)
    assert all(torch.equal(adam[k], after[k]) for k in adam)
    assert deferred.step(good).learner_steps == 2 and not deferred.optimizer.found_inf.item()


def test_a_skipped_deferred_step_copies_nothing_into_the_target() -> None:
    """The hard copy due on a skipped step is masked too."""
    _, deferred = twins(hard_update_every=2, tau=1.0)
    good, bad = batches(2, nan_at=1)
    deferred.step(good)
    before = params(deferred.target)
    with torch.no_grad():
        for p in deferred.online.parameters():
            p.add_(1.0)  # online and target now differ
    deferred.resolve(deferred.step_async(bad))  # step 2: the copy is due, and masked
    assert same(params(deferred.target), before)
