"""The learner's math by hand: n-step double-DQN targets, losses and importance weights,
clipping, accumulation over micro-batches, target updates, non-finite steps, statistics, the lr
schedule and reward normalisation (hand-computed on a bare linear Q-network: tests.learner_cases).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

from aimodel import (
    Learner,
    ReturnScaler,
    scheduled_lr,
    td_loss,
)
from replay.types import Batch
from tests.learner_cases import linear_learner, make_batch, make_cfg, params, random_batch, same

torch.set_num_threads(1)


# ------------------------------------------------------------------------------ targets, loss

# Online Q(s') = s'; target Q(s') = (2 s'_0, 3 s'_1).
ONLINE_W, TARGET_W = [[1.0, 0.0], [0.0, 1.0]], [[2.0, 0.0], [0.0, 3.0]]
NEXT = [[1.0, 0.9], [0.0, 1.0], [math.nan, math.nan]]  # row 3 is terminal: never bootstraps
REWARD, DISCOUNT = [1.0, 0.5, -2.0], [0.9**3, 0.9**2, 0.0]


def target_learner(**overrides) -> Learner:
    learner = linear_learner(2, 2, ONLINE_W, **overrides)
    with torch.no_grad():
        learner.target.head.weight.copy_(torch.tensor(TARGET_W))
    return learner


@pytest.mark.parametrize(
    ("double", "expected"),
    [
        # row 1: online picks action 0 (1 > 0.9), the target values it 2 -> 1 + 0.729 * 2;
        # plain max takes the target's 2.7 instead.  Row 2: both take 3.  Row 3: reward only.
        (True, [1.0 + 0.729 * 2.0, 0.5 + 0.81 * 3.0, -2.0]),
        (False, [1.0 + 0.729 * 2.7, 0.5 + 0.81 * 3.0, -2.0]),
    ],
)
def test_n_step_double_dqn_target_by_hand(double: bool, expected: list[float]) -> None:
    learner = target_learner(double_dqn=double)
    y = learner.compute_targets(torch.tensor(REWARD), torch.tensor(DISCOUNT), torch.tensor(NEXT))
    torch.testing.assert_close(y, torch.tensor(expected), rtol=0, atol=1e-6)
    # Through step(): obs = 0 gives Q(s, a) = 0, so the TD error is |y|.
    batch = make_batch(np.zeros((3, 2)), [0, 1, 0], REWARD, DISCOUNT, NEXT)
    stats = learner.step(batch)
    np.testing.assert_allclose(stats.td_error, np.abs(expected), rtol=0, atol=1e-6)
    assert stats.td_error.dtype == np.float32 and not stats.skipped


def test_terminated_flag_also_stops_bootstrap() -> None:
    learner = target_learner()
    y = learner.compute_targets(torch.tensor([1.0]), torch.tensor([0.5]), torch.tensor([[1.0, 0.]]),
                                torch.tensor([True]))
    assert y.tolist() == [1.0]


def test_td_target_clamp() -> None:
    learner = target_learner(td_target_clamp=2.0)
    y = learner.compute_targets(torch.tensor([5.0, -5.0, 1.0, 0.0]), torch.tensor([0.0, 0, 0, 1]),
                                torch.tensor([[0.0, 0], [0, 0], [0, 0], [3, 0]]))
    assert y.tolist() == [2.0, -2.0, 1.0, 2.0]  # last: 0 + 1 * Q_target = 6, clamped


@pytest.mark.parametrize(
    ("loss", "weights", "expected"),
    [
        # TD errors 0.5 and 3 (Q = 0, terminal). Huber(1): 0.5*0.25 = 0.125; 1*(3 - 0.5) = 2.5.
        ("huber", [1.0, 1.0], (0.125 + 2.5) / 2),
        ("mse", [1.0, 1.0], (0.25 + 9.0) / 2),
        ("huber", [2.0, 0.0], (2 * 0.125 + 0.0) / 2),
        ("mse", [0.5, 1.0], (0.5 * 0.25 + 9.0) / 2),
    ],
)
def test_loss_values_by_hand_and_importance_weights(loss, weights, expected) -> None:
    learner = linear_learner(1, 1, [[0.0]], loss=loss, huber_delta=1.0)
    batch = make_batch([[0.0], [0.0]], [0, 0], [0.5, 3.0], [0.0, 0.0], [[0.0], [0.0]],
                       weights=weights)
    assert learner.step(batch).loss == pytest.approx(expected, abs=1e-7)


def test_huber_delta_moves_the_kink() -> None:
    errors = torch.tensor([1.0, 3.0])
    got = td_loss(errors, torch.zeros(2), "huber", 2.0)
    assert got.tolist() == [0.5, 2.0 * (3.0 - 1.0)]


# ---------------------------------------------------------------------------------- clipping

# Q = w s + b with w = b = 0, s = 1, y = 3 (terminal), MSE: dL/dw = dL/db = 2 (0 - 3) = -6,
# so the total gradient norm is 6 * sqrt(2) = 8.485.
CLIP_NORM = 6.0 * math.sqrt(2.0)


def clip_batch() -> Batch:
    return make_batch([[1.0]], [0], [3.0], [0.0], [[0.0]])


def test_clipping_above_the_limit_reports_clip_delta_and_scales_gradients() -> None:
    learner = linear_learner(1, 1, [[0.0]], max_grad_norm=1.0)
    stats = learner.step(clip_batch())
    assert stats.grad_norm == pytest.approx(CLIP_NORM, rel=1e-6)
    assert stats.clip_delta == pytest.approx(1.0 / CLIP_NORM, rel=1e-6) and stats.clipped
    # The clipped gradients themselves have norm max_grad_norm.
    learner = linear_learner(1, 1, [[0.0]], max_grad_norm=1.0)
    learner.accumulate_gradients(clip_batch())
    learner._clip(learner._grad_norm())
    assert float(learner._grad_norm()) == pytest.approx(1.0, rel=1e-6)
    assert learner.online.head.weight.grad.item() == pytest.approx(-1 / math.sqrt(2), rel=1e-6)


@pytest.mark.parametrize("limit", [100.0, 0.0])
def test_no_clipping_below_the_limit_or_when_off(limit: float) -> None:
    learner = linear_learner(1, 1, [[0.0]], max_grad_norm=limit)
    stats = learner.step(clip_batch())
    assert stats.grad_norm == pytest.approx(CLIP_NORM, rel=1e-6)
    assert stats.clip_delta == 1.0 and stats.clipped is False


# ------------------------------------------------------------------------------ accumulation


def twin_learners(micro: int, dim: int = 6, **overrides) -> tuple[Learner, Learner]:
    cfg = dict(hidden_sizes=(16, 8), layer_norm=True, dueling=True, loss="huber", tau=0.5,
               hard_update_every=0, **overrides)
    return (Learner((dim,), 3, make_cfg(micro_batches=1, **cfg), seed=1),
            Learner((dim,), 3, make_cfg(micro_batches=micro, **cfg), seed=1))


@pytest.mark.parametrize("micro", [2, 4, 7])  # 7 does not divide 30: uneven chunks
def test_micro_batches_give_the_gradient_of_the_whole_batch(micro: int) -> None:
    whole, parts = twin_learners(micro)
    batch = random_batch(np.random.default_rng(3), 30, 6, 3)
    a, b = whole.accumulate_gradients(batch), parts.accumulate_gradients(batch)
    assert float(a.loss) == pytest.approx(float(b.loss), abs=1e-6)
    for p, q in zip(whole.online.parameters(), parts.online.parameters(), strict=True):
        torch.testing.assert_close(p.grad, q.grad, rtol=0, atol=1e-6)
    s, t = whole.step(batch), parts.step(batch)
    assert same(params(whole.online), params(parts.online), atol=1e-6)
    assert same(params(whole.target), params(parts.target), atol=1e-6)
    np.testing.assert_allclose(s.td_error, t.td_error, atol=1e-6)
    assert s.grad_norm == pytest.approx(t.grad_norm, rel=1e-5)


def test_batch_of_16384_feature_vectors_alone_and_in_micro_batches() -> None:
    whole, parts = twin_learners(4, dim=195, max_grad_norm=10.0)
    batch = random_batch(np.random.default_rng(4), 16_384, 195, 3)
    a, b = whole.step(batch), parts.step(batch)
    assert a.loss == pytest.approx(b.loss, rel=1e-5)
    assert a.td_error.shape == (16_384,) and a.greedy_hist.sum() == 16_384
    assert same(params(whole.online), params(parts.online), atol=1e-5)


# ---------------------------------------------------------------------------- target updates


def test_soft_update_after_every_step() -> None:
    learner = Learner((4,), 2, make_cfg(tau=0.25, hard_update_every=0, lr=0.1))
    batch = random_batch(np.random.default_rng(5), 16, 4, 2)
    for step in range(1, 4):
        before = params(learner.target)
        stats = learner.step(batch)
        for t0, online, t1 in zip(before, params(learner.online), params(learner.target),
                                  strict=True):
            torch.testing.assert_close(t1, 0.25 * online + 0.75 * t0, rtol=0, atol=1e-7)
        assert stats.target_age == step
    assert not same(params(learner.online), params(learner.target), atol=1e-6)


def test_tau_one_moves_the_target_only_on_hard_copies() -> None:
    learner = Learner((4,), 2, make_cfg(tau=1.0, hard_update_every=3, lr=0.1))
    start = params(learner.target)
    batch = random_batch(np.random.default_rng(6), 16, 4, 2)
    ages = []
    for step in range(1, 6):
        ages.append(learner.step(batch).target_age)
        if step < 3:
            assert same(params(learner.target), start)
        if step == 3:
            assert same(params(learner.target), params(learner.online))
    assert ages == [1, 2, 0, 1, 2]
    assert not same(params(learner.target), params(learner.online), atol=1e-6)


def test_soft_and_hard_updates_together() -> None:
    learner = Learner((4,), 2, make_cfg(tau=0.1, hard_update_every=2, lr=0.1))
    batch = random_batch(np.random.default_rng(7), 16, 4, 2)
    ages = [learner.step(batch).target_age for _ in range(4)]
    assert ages == [1, 0, 1, 0]
    assert same(params(learner.target), params(learner.online))


# -------------------------------------------------------------------------------- non-finite


@pytest.mark.parametrize("normalize", [False, True])
def test_nan_reward_skips_the_step_and_leaves_everything_unchanged(normalize: bool) -> None:
    learner = Learner((4,), 2, make_cfg(tau=0.5, hard_update_every=0,
                                        normalize_rewards=normalize))
    good = random_batch(np.random.default_rng(8), 8, 4, 2)
    learner.step(good)
    online, target, scaler = params(learner.online), params(learner.target), learner.scaler
    adam = {k: v.clone() for k, v in learner.state()[0].items() if k.startswith("optim.")}
    reward = good.reward.copy()
    reward[3] = np.nan
    stats = learner.step(good._replace(reward=reward))
    assert stats.skipped and stats.nonfinite_steps == 1 and stats.learner_steps == 1
    assert not math.isfinite(stats.loss) and stats.clip_delta == 1.0
    assert np.isfinite(stats.td_error).all() and stats.td_error[3] == 0.0
    assert same(params(learner.online), online) and same(params(learner.target), target)
    assert learner.scaler == scaler and learner.target_age == 1
    after = {k: v for k, v in learner.state()[0].items() if k.startswith("optim.")}
    assert all(torch.equal(adam[k], after[k]) for k in adam)
    assert all(p.grad is None for p in learner.online.parameters())
    assert learner.step(good).learner_steps == 2  # and training goes on


# -------------------------------------------------------------------------------- statistics


def test_statistics_come_from_the_training_forward_pass() -> None:
    learner = Learner((5,), 4, make_cfg(hidden_sizes=(16,), dueling=True, micro_batches=3))
    batch = random_batch(np.random.default_rng(9), 64, 5, 4)
    q = learner.q_values(batch.obs)
    greedy = q.argmax(axis=1)
    expert = np.full(64, -1, np.int16)
    expert[:10] = greedy[:10]  # 10 hits
    expert[30:] = (greedy[30:] + 1) % 4  # 34 misses; rows 10..29 unlabelled
    stats = learner.step(batch._replace(expert_action=expert))
    assert stats.q_min == pytest.approx(q.min(), abs=1e-6)
    assert stats.q_max == pytest.approx(q.max(), abs=1e-6)
    assert stats.q_mean == pytest.approx(q.mean(), abs=1e-6)
    assert stats.agreement == (10, 44)
    np.testing.assert_array_equal(stats.greedy_hist, np.bincount(greedy, minlength=4))
    assert stats.greedy_hist.sum() == 64 and stats.greedy_hist.shape == (4,)


def test_greedy_actions_match_q_values() -> None:
    learner = Learner((5,), 3, make_cfg())
    obs = np.random.default_rng(10).normal(size=(20, 5)).astype(np.float32)
    np.testing.assert_array_equal(learner.greedy_actions(obs), learner.q_values(obs).argmax(1))
    half = learner.q_values(obs.astype(np.float16))  # float16 storage is accepted
    assert half.dtype == np.float32 and half.shape == (20, 3)


# ------------------------------------------------------------------------------- lr schedule


def test_warmup_and_decay_values_by_hand() -> None:
    cfg = make_cfg(lr=1.0, lr_end=0.1, lr_warmup_steps=4, lr_decay="linear")
    assert [scheduled_lr(cfg, s, 10) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert scheduled_lr(cfg, 4 + 5, 10) == pytest.approx(0.55)
    assert scheduled_lr(cfg, 4 + 10, 10) == pytest.approx(0.1)
    assert scheduled_lr(cfg, 4 + 99, 10) == pytest.approx(0.1)
    cosine = dataclasses.replace(cfg, lr_decay="cosine")
    assert scheduled_lr(cosine, 4, 10) == pytest.approx(1.0)
    assert scheduled_lr(cosine, 4 + 5, 10) == pytest.approx(0.55)
    quarter = 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi / 4))
    assert scheduled_lr(cosine, 4 + 2.5, 10) == pytest.approx(quarter)
    flat = dataclasses.replace(cfg, lr_decay="none")
    assert scheduled_lr(flat, 100) == 1.0


def test_learner_uses_the_schedule_and_lr_scale() -> None:
    learner = Learner((3,), 2, make_cfg(lr=0.01, lr_warmup_steps=4), decay_steps=None)
    batch = random_batch(np.random.default_rng(11), 8, 3, 2)
    lrs = [learner.step(batch).lr for _ in range(3)]
    assert lrs == pytest.approx([0.0025, 0.005, 0.0075])
    learner.lr_scale = 2.0
    assert learner.step(batch).lr == pytest.approx(0.02)
    assert learner.optimizer.param_groups[0]["lr"] == pytest.approx(0.02)
    learner.lr_scale = 0.5
    assert learner.current_lr() == pytest.approx(0.005)


# ---------------------------------------------------------------------- reward normalisation


def test_return_scaler_by_hand() -> None:
    first = ReturnScaler().updated(np.array([0.0, 4.0]))
    assert (first.count, first.mean, first.m2) == (2.0, 2.0, 8.0)
    assert first.std == 2.0 and first.scale == 0.5
    second = first.updated(np.array([1.0, 1.0, 4.0]))  # all five: mean 2, variance 14/5
    assert second.mean == pytest.approx(2.0) and second.std == pytest.approx(math.sqrt(2.8))
    assert ReturnScaler().std == 1.0 and ReturnScaler().updated(np.zeros(3)).scale == 1e6


def test_normalised_rewards_are_scaled_not_shifted() -> None:
    # Returns 0 and 4 (terminal): running std 2, so targets become 0 and 2; Q = 0 gives TD errors
    # 0 and 2 and MSE (0 + 4) / 2 = 2. The 0 return stays 0: no mean is subtracted.
    learner = linear_learner(1, 1, [[0.0]], normalize_rewards=True)
    batch = make_batch([[0.0], [0.0]], [0, 0], [0.0, 4.0], [0.0, 0.0], [[0.0], [0.0]])
    stats = learner.step(batch)
    assert stats.reward_scale == 0.5 and stats.loss == pytest.approx(2.0)
    np.testing.assert_allclose(stats.td_error, [0.0, 2.0], atol=1e-6)
