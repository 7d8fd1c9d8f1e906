"""aimodel: networks, targets, losses, clipping, accumulation, target updates, lr, checkpoints.

Hand-computed cases use a bare linear Q-network (hidden_sizes=(), dueling off): Q(s) = W s + b,
whose weights the tests set, so every expected number below can be checked on paper.
"""

from __future__ import annotations

import dataclasses
import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from aimodel import (
    SMALL_BATCH,
    Learner,
    NatureTorso,
    ReturnScaler,
    build_q_network,
    cnn_bf16,
    configure_gpu_math,
    inference_threads,
    native_bf16,
    scheduled_lr,
    select_device,
    td_loss,
)
from config import LearnerConfig
from replay.types import Batch

torch.set_num_threads(1)


def make_cfg(**overrides) -> LearnerConfig:
    """Small, deterministic defaults; tests override what they pin down."""
    base = dict(lr=1e-3, lr_warmup_steps=0, micro_batches=1, hidden_sizes=(16,),
                layer_norm=False, dueling=False, tau=1.0, hard_update_every=1,
                max_grad_norm=0.0, loss="mse", device="cpu")
    base.update(overrides)
    return dataclasses.replace(LearnerConfig(), **base)


def make_batch(obs, action, reward, discount, next_obs, *, terminated=None, expert=None,
               weights=None) -> Batch:
    obs = np.asarray(obs, dtype=np.float32)
    size = len(obs)
    discount = np.asarray(discount, dtype=np.float32)
    return Batch(
        obs=obs,
        action=np.asarray(action, dtype=np.int16),
        reward=np.asarray(reward, dtype=np.float32),
        discount=discount,
        next_obs=np.asarray(next_obs, dtype=np.float32),
        terminated=discount == 0 if terminated is None else np.asarray(terminated, dtype=bool),
        horizon=np.ones(size, dtype=np.uint8),
        source=np.zeros(size, dtype=np.uint8),
        expert_action=np.full(size, -1, np.int16) if expert is None
        else np.asarray(expert, dtype=np.int16),
        weights=np.ones(size, np.float32) if weights is None
        else np.asarray(weights, dtype=np.float32),
        indices=np.arange(size, dtype=np.int64),
    )


def random_batch(rng: np.random.Generator, size: int, dim: int, actions: int) -> Batch:
    discount = np.where(rng.random(size) < 0.2, 0.0, 0.99 ** rng.integers(1, 4, size))
    return make_batch(
        rng.normal(size=(size, dim)), rng.integers(0, actions, size), rng.normal(size=size),
        discount, rng.normal(size=(size, dim)), expert=rng.integers(-1, actions, size),
        weights=rng.uniform(0.1, 1.0, size),
    )


def linear_learner(dim: int, actions: int, weight, bias=None, action_classes=None,
                   **overrides) -> Learner:
    """Q(s) = W s + b for online and target (the target starts as a copy)."""
    learner = Learner((dim,), actions, make_cfg(hidden_sizes=(), **overrides),
                      action_classes=action_classes)
    with torch.no_grad():
        learner.online.head.weight.copy_(torch.tensor(weight, dtype=torch.float32))
        learner.online.head.bias.copy_(torch.zeros(actions) if bias is None
                                       else torch.tensor(bias, dtype=torch.float32))
    learner.hard_update()
    return learner


def params(net: torch.nn.Module) -> list[torch.Tensor]:
    return [p.detach().clone() for p in net.parameters()]


def same(a: list[torch.Tensor], b: list[torch.Tensor], atol: float = 0.0) -> bool:
    return all(torch.allclose(x, y, rtol=0, atol=atol) for x, y in zip(a, b, strict=True))


# ----------------------------------------------------------------------------------- networks


def test_mlp_shapes_and_dueling_head_is_value_plus_centred_advantage() -> None:
    cfg = make_cfg(hidden_sizes=(8, 8), layer_norm=True, dueling=True)
    net = build_q_network((5,), 3, cfg)
    obs = torch.randn(4, 5)
    q = net(obs)
    assert q.shape == (4, 3)
    value = net.value(net.body(net.torso(obs)))
    torch.testing.assert_close(q.mean(dim=1, keepdim=True), value)
    assert sum(isinstance(m, torch.nn.LayerNorm) for m in net.modules()) == 2


def test_nature_cnn_takes_uint8_frames_and_scales_them_inside() -> None:
    torso = NatureTorso(4, 84, 84)
    assert torso.out_features == 64 * 7 * 7
    net = build_q_network((4, 84, 84), 6, make_cfg(hidden_sizes=(512,)))
    frames = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    expected = net.head(net.body(net.torso.conv(frames.float() / 255.0)))
    torch.testing.assert_close(net(frames), expected)


def test_cnn_precision_setting_resolves_per_device() -> None:
    cpu = torch.device("cpu")
    assert cnn_bf16("float32", cpu) is False
    assert cnn_bf16("bfloat16", cpu) is True
    assert cnn_bf16("auto", cpu) is native_bf16(cpu)
    with open("/proc/cpuinfo") as cpuinfo:  # the test's own oracle: every flag of the CPU
        flags = cpuinfo.read().split()
    assert native_bf16(cpu) is ("avx512_bf16" in flags or "amx_bf16" in flags)


def test_bf16_cnn_computes_learner_batches_in_bfloat16_and_actor_batches_in_float32() -> None:
    cfg = make_cfg(hidden_sizes=(64,), dueling=True)
    torch.manual_seed(0)
    mixed = build_q_network((4, 84, 84), 6, cfg, bf16_cnn=True)
    exact = build_q_network((4, 84, 84), 6, cfg, bf16_cnn=False)
    exact.load_state_dict(mixed.state_dict())
    frames = torch.randint(0, 256, (SMALL_BATCH + 4, 4, 84, 84), dtype=torch.uint8)
    with torch.no_grad():
        big_mixed, big_exact = mixed(frames), exact(frames)
        small_mixed, small_exact = mixed(frames[:SMALL_BATCH]), exact(frames[:SMALL_BATCH])
    assert big_mixed.dtype == torch.float32  # the head always answers in float32
    assert not torch.equal(big_mixed, big_exact)  # bfloat16 really ran ...
    torch.testing.assert_close(big_mixed, big_exact, atol=0.05, rtol=0.05)  # ... and is close
    torch.testing.assert_close(small_mixed, small_exact, atol=0, rtol=0)


@pytest.mark.parametrize("obs_shape,bf16", [((4, 84, 84), True), ((4, 84, 84), False),
                                            ((24,), False)])
def test_q_values_are_float32_whatever_autocast_the_caller_runs_under(obs_shape, bf16) -> None:
    """An outer bf16 autocast (what a CUDA learner used to wrap every forward in) changes
    nothing: the network sets its own precision, and the head computes in float32 on the
    hidden features, so the greedy actions are those of float32 values."""
    cfg = make_cfg(hidden_sizes=(64,), dueling=True)
    torch.manual_seed(0)
    net = build_q_network(obs_shape, 6, cfg, bf16_cnn=bf16)
    if len(obs_shape) == 3:
        obs = torch.randint(0, 256, (SMALL_BATCH + 24, *obs_shape), dtype=torch.uint8)
    else:
        obs = torch.randn(SMALL_BATCH + 24, *obs_shape) * 10
    with torch.no_grad():
        plain = net(obs)
        with torch.autocast("cpu", dtype=torch.bfloat16):
            under_autocast = net(obs)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            hidden = net.body(net.torso(obs)).float()
        advantage = hidden @ net.advantage.weight.T + net.advantage.bias  # float32 by hand
        by_hand = hidden @ net.value.weight.T + net.value.bias + advantage - advantage.mean(
            dim=1, keepdim=True)
    assert plain.dtype == under_autocast.dtype == torch.float32
    torch.testing.assert_close(under_autocast, plain, atol=0, rtol=0)
    torch.testing.assert_close(plain, by_hand, atol=1e-5, rtol=1e-5)
    assert torch.equal(plain.argmax(dim=1), by_hand.argmax(dim=1))


def test_a_bf16_learner_acts_and_learns_on_float32_values() -> None:
    """The learner's mixed-precision path (a bf16 CNN, as on CUDA): q_values, the statistics'
    Q matrix and the TD errors are float32 and equal what a float32 head gives."""
    learner = Learner((4, 84, 84), 6, make_cfg(hidden_sizes=(64,), cnn_precision="bfloat16"),
                      seed=1)
    batch = _frames_batch(SMALL_BATCH + 24)
    q = learner.q_values(batch.obs)
    assert q.dtype == np.float32
    result = learner.accumulate_gradients(batch)
    assert result.q.dtype == result.td_error.dtype == torch.float32
    net = learner.online
    with torch.no_grad(), torch.autocast("cpu", dtype=torch.bfloat16):
        hidden = net.body(net.torso(torch.from_numpy(batch.obs)))
    head = (hidden.float() @ net.head.weight.T + net.head.bias).detach().numpy()
    np.testing.assert_allclose(q, head, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(q.argmax(axis=1), head.argmax(axis=1))


def test_a_bf16_cnn_step_takes_nearly_the_float32_gradient() -> None:
    """The learning signal survives bfloat16: on the same weights and batch, the accumulated
    gradient of the bf16 CNN points the way the float32 one does (cosine > 0.99) with a norm
    within 5%, and the loss agrees to 1%."""
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (64, 4, 84, 84), dtype=np.uint8)
    batch = make_batch(np.zeros((64, 1)), rng.integers(0, 6, 64), rng.normal(size=64),
                       np.full(64, 0.99), np.zeros((64, 1)))
    batch = batch._replace(obs=frames, next_obs=frames[::-1].copy())
    grads, losses = {}, {}
    for precision in ("float32", "bfloat16"):
        learner = Learner((4, 84, 84), 6, make_cfg(hidden_sizes=(256,), cnn_precision=precision,
                                                    loss="huber"), seed=3)
        losses[precision] = float(learner.accumulate_gradients(batch).loss)
        grads[precision] = torch.cat([p.grad.flatten() for p in learner.online.parameters()])
    exact, mixed = grads["float32"], grads["bfloat16"]
    assert torch.nn.functional.cosine_similarity(exact, mixed, dim=0) > 0.99
    assert abs(mixed.norm() / exact.norm() - 1) < 0.05
    assert losses["bfloat16"] == pytest.approx(losses["float32"], rel=0.01)


def _frames_batch(size: int, seed: int = 0) -> Batch:
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (size, 4, 84, 84), dtype=np.uint8)
    batch = make_batch(np.zeros((size, 1)), rng.integers(0, 6, size), rng.normal(size=size),
                       np.full(size, 0.99), np.zeros((size, 1)))
    return batch._replace(obs=frames, next_obs=frames[::-1].copy())


@pytest.mark.slow
def test_a_compiled_step_takes_the_eager_steps_gradient_loss_and_statistics() -> None:
    """learner.compile changes how the kernels run, not what they compute: the same weights
    and batch give the eager gradient to float rounding, over micro-batches too, and the same
    updated weights after a few steps."""
    batch = _frames_batch(32)
    learners, stats = {}, {}
    for compiled in (False, True):
        learners[compiled] = Learner((4, 84, 84), 6, make_cfg(
            hidden_sizes=(64,), cnn_precision="float32", micro_batches=2, compile=compiled,
            lr_warmup_steps=0), seed=3)
        stats[compiled] = [learners[compiled].step(batch) for _ in range(3)]
        learners[compiled].accumulate_gradients(batch)
    eager, compiled = learners[False], learners[True]
    assert compiled.compile_error is None and compiled._compiled is not None
    for a, b in zip(eager.online.parameters(), compiled.online.parameters(), strict=True):
        torch.testing.assert_close(a.grad, b.grad, atol=1e-5, rtol=1e-3)
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    for mine, theirs in zip(stats[True], stats[False], strict=True):
        assert mine.loss == pytest.approx(theirs.loss, rel=1e-4)
        assert mine.grad_norm == pytest.approx(theirs.grad_norm, rel=1e-3)
        np.testing.assert_allclose(mine.td_error, theirs.td_error, rtol=1e-3, atol=1e-5)
        assert (mine.q_min, mine.q_max) == pytest.approx((theirs.q_min, theirs.q_max), rel=1e-4)


def test_a_compiler_that_fails_leaves_the_learner_eager_and_says_why() -> None:
    learner = Learner((4,), 3, make_cfg(hidden_sizes=(8,), compile=True, lr_warmup_steps=0))

    def broken(*args):
        raise RuntimeError("no C++ compiler found\n(details)")

    learner._compiled = broken
    reference = Learner((4,), 3, make_cfg(hidden_sizes=(8,), lr_warmup_steps=0))
    batch = make_batch(np.eye(4)[:3], [0, 1, 2], [1.0, 0.0, -1.0], [0.9, 0.9, 0.0],
                       np.eye(4)[1:4])
    stats = learner.step(batch)
    assert learner._compiled is None
    assert learner.compile_error == "RuntimeError: no C++ compiler found"
    assert stats.loss == pytest.approx(reference.step(batch).loss)  # the step was still taken
    assert learner.learner_steps == 1


def test_small_inference_batches_run_on_one_thread_then_restore_the_count() -> None:
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with inference_threads(SMALL_BATCH):
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 2
        with inference_threads(SMALL_BATCH + 1):
            assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_channels_last_cnn_state_saves_as_contiguous_safetensors(tmp_path) -> None:
    learner = Learner((4, 84, 84), 3, make_cfg(hidden_sizes=(8,)))
    conv = learner.online.torso.conv[0].weight
    assert conv.is_contiguous(memory_format=torch.channels_last)
    tensors, _ = learner.state()
    assert all(t.is_contiguous() for t in tensors.values())
    save_file(tensors, tmp_path / "m.safetensors")
    torch.testing.assert_close(load_file(tmp_path / "m.safetensors")["online.torso.conv.0.weight"],
                               conv.detach())


def test_cnn_learner_steps_on_uint8_frame_batches() -> None:
    learner = Learner((4, 84, 84), 4, make_cfg(hidden_sizes=(32,), micro_batches=2))
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (6, 4, 84, 84), dtype=np.uint8)
    batch = make_batch(np.zeros((6, 1)), rng.integers(0, 4, 6), np.ones(6), np.full(6, 0.9),
                       np.zeros((6, 1)))
    batch = batch._replace(obs=frames, next_obs=frames[::-1].copy())
    stats = learner.step(batch)
    assert stats.learner_steps == 1 and not stats.skipped
    assert learner.greedy_actions(frames).shape == (6,)


def test_bad_shapes_are_refused_with_clear_messages() -> None:
    with pytest.raises(ValueError, match="obs_shape"):
        build_q_network((2, 3), 2, make_cfg())
    with pytest.raises(ValueError, match="too small"):
        build_q_network((4, 10, 10), 2, make_cfg())
    learner = Learner((3,), 2, make_cfg())
    with pytest.raises(ValueError, match=r"batch.obs must have shape \(B, 3\)"):
        learner.step(make_batch(np.zeros((2, 4)), [0, 1], [0, 0], [0, 0], np.zeros((2, 4))))
    with pytest.raises(ValueError, match="decay_steps"):
        Learner((3,), 2, make_cfg(lr_decay="linear"))


def test_device_selection() -> None:
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto", "cpu") == torch.device("cpu")
    if not torch.cuda.is_available():
        assert select_device("auto") == torch.device("cpu")
        with pytest.raises(ValueError, match="--learner.device cpu"):
            select_device("cuda")


def test_gpu_math_keeps_matrix_products_in_full_float32(monkeypatch) -> None:
    """TF32 inside convolutions only; the products that rank actions stay float32."""
    monkeypatch.setattr(torch.backends.cudnn, "benchmark", False)
    monkeypatch.setattr(torch.backends.cudnn, "allow_tf32", False)
    before = torch.get_float32_matmul_precision()
    try:
        torch.set_float32_matmul_precision("high")  # what a user's code may have set
        configure_gpu_math()
        assert torch.backends.cudnn.benchmark and torch.backends.cudnn.allow_tf32
        assert torch.get_float32_matmul_precision() == "highest"
    finally:
        torch.set_float32_matmul_precision(before)


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


# ------------------------------------------------------------------------------- checkpoints


def checkpoint_cfg(**overrides) -> LearnerConfig:
    base = dict(hidden_sizes=(16,), layer_norm=True, dueling=True, micro_batches=2,
                normalize_rewards=True, tau=0.1, hard_update_every=3, lr_warmup_steps=2,
                max_grad_norm=1.0)
    return make_cfg(**{**base, **overrides})


def save_and_load(learner: Learner, tmp_path) -> tuple[dict, dict]:
    tensors, meta = learner.state()
    save_file(tensors, str(tmp_path / "learner.safetensors"))
    (tmp_path / "learner.json").write_text(json.dumps(meta))
    return load_file(str(tmp_path / "learner.safetensors")), json.loads(
        (tmp_path / "learner.json").read_text())


def test_state_round_trip_through_safetensors_resumes_exactly(tmp_path) -> None:
    rng = np.random.default_rng(12)
    first, second = random_batch(rng, 32, 5, 3), random_batch(rng, 32, 5, 3)
    original = Learner((5,), 3, checkpoint_cfg(), seed=0)
    original.step(first)
    original.step(first)
    original.lr_scale = 2.0
    tensors, meta = save_and_load(original, tmp_path)
    assert {k.split(".")[0] for k in tensors} == {"online", "target", "optim"}
    restored = Learner((5,), 3, checkpoint_cfg(), seed=99)
    restored.load_state(tensors, meta)
    assert restored.scaler == original.scaler and restored.lr_scale == 2.0
    assert torch.equal(torch.get_rng_state(), torch.tensor(meta["torch_rng_state"],
                                                           dtype=torch.uint8))
    a, b = original.step(second), restored.step(second)
    assert same(params(original.online), params(restored.online))
    assert same(params(original.target), params(restored.target))
    assert (a.loss, a.lr, a.learner_steps, a.target_age) == (b.loss, b.lr, b.learner_steps,
                                                             b.target_age)
    np.testing.assert_array_equal(a.td_error, b.td_error)


def test_fresh_learner_state_has_no_optimiser_tensors_and_loads(tmp_path) -> None:
    tensors, meta = save_and_load(Learner((5,), 3, checkpoint_cfg()), tmp_path)
    assert not any(k.startswith("optim.") for k in tensors)
    Learner((5,), 3, checkpoint_cfg(), seed=4).load_state(tensors, meta)


@pytest.mark.parametrize(
    ("shape", "actions", "overrides", "message"),
    [
        ((5,), 3, {"hidden_sizes": (8,)}, r"online\.body\.0\.weight: checkpoint shape \(16, 5\)"),
        ((5,), 4, {}, r"num_actions: checkpoint 3, learner 4"),
        ((6,), 3, {}, r"obs_shape"),
        ((5,), 3, {"dueling": False}, r"architecture dueling"),
    ],
)
def test_mismatched_checkpoint_is_refused_and_changes_nothing(
    tmp_path, shape, actions, overrides, message
) -> None:
    source = Learner((5,), 3, checkpoint_cfg(), seed=0)
    source.step(random_batch(np.random.default_rng(13), 16, 5, 3))
    tensors, meta = save_and_load(source, tmp_path)
    other = Learner(shape, actions, checkpoint_cfg(**overrides), seed=1)
    before, state_before = params(other.online), other.state()[1]
    with pytest.raises(ValueError, match=message):
        other.load_state(tensors, meta)
    assert same(params(other.online), before)
    after = other.state()[1]
    assert {k: v for k, v in after.items() if k != "torch_rng_state"} == {
        k: v for k, v in state_before.items() if k != "torch_rng_state"}


def test_damaged_checkpoints_are_refused(tmp_path) -> None:
    source = Learner((5,), 3, checkpoint_cfg(), seed=0)
    source.step(random_batch(np.random.default_rng(14), 16, 5, 3))
    tensors, meta = save_and_load(source, tmp_path)
    target = Learner((5,), 3, checkpoint_cfg(), seed=1)
    cases = [
        ({k: v for k, v in tensors.items() if k != "optim.0.exp_avg_sq"}, meta,
         r"optim\.0\.exp_avg_sq missing from the checkpoint"),
        ({**tensors, "optim.0.exp_avg.x": torch.zeros(1)}, meta, "missing from the learner"),
        (tensors, {**meta, "torch_rng_state": [0, 1, 2]}, "torch_rng_state"),
        ({**tensors, "online.head.weight": torch.zeros(3)}, meta, "missing from the learner"),
        ({**tensors, "target.value.bias": torch.tensor([math.nan])}, meta, "non-finite"),
        (tensors, {k: v for k, v in meta.items() if k != "lr_scale"}, "lacks"),
        (tensors, {**meta, "format": 99}, "format"),
    ]
    for bad_tensors, bad_meta, message in cases:
        with pytest.raises(ValueError, match=message):
            target.load_state(bad_tensors, bad_meta)
    assert target.learner_steps == 0


# --------------------------------------------------------------------------------- learning


def test_q_converges_on_a_two_state_two_action_problem() -> None:
    """s0: a0 -> r 1, s1; a1 -> r 0, s0.  s1: a0 -> r 0, terminal; a1 -> r 2, s0.  gamma 0.5.
    V0 = 1 + V1/2, V1 = 2 + V0/2 -> V0 = 8/3, V1 = 10/3; Q*(s0) = (8/3, 4/3), Q*(s1) = (0, 10/3).
    """
    s0, s1 = [1.0, 0.0], [0.0, 1.0]
    batch = make_batch([s0, s0, s1, s1], [0, 1, 0, 1], [1.0, 0.0, 0.0, 2.0],
                       [0.5, 0.5, 0.0, 0.5], [s1, s0, s0, s0])
    learner = Learner((2,), 2, make_cfg(hidden_sizes=(32,), lr=1e-2, tau=0.05,
                                        hard_update_every=0, gamma=0.5), seed=0)
    for _ in range(1500):
        learner.step(batch)
    q = learner.q_values(np.array([s0, s1], dtype=np.float32))
    np.testing.assert_allclose(q, [[8 / 3, 4 / 3], [0.0, 10 / 3]], atol=0.05)
    np.testing.assert_array_equal(learner.greedy_actions(np.array([s0, s1], np.float32)), [0, 1])
