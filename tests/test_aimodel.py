"""aimodel's networks: shapes, the dueling head, the Nature CNN, precision (bf16, float32 heads),
compilation, threads, devices.  The learner's math is in test_learner_math.py, its state and a
small learning problem in test_learner_state.py.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from aimodel import (
    SMALL_BATCH,
    ConvTorso,
    Learner,
    build_q_network,
    cnn_bf16,
    configure_gpu_math,
    inference_threads,
    native_bf16,
    select_device,
)
from tests.learner_cases import frames_batch, make_batch, make_cfg

torch.set_num_threads(1)


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
    torso = ConvTorso(4, 84, 84)
    assert torso.out_features == 64 * 7 * 7
    net = build_q_network((4, 84, 84), 6, make_cfg(hidden_sizes=(512,)))
    frames = torch.randint(0, 256, (2, 4, 84, 84), dtype=torch.uint8)
    expected = net.head(net.body(net.torso.conv(frames.float() / 255.0)))
    torch.testing.assert_close(net(frames), expected)


def test_nips_conv_stack_is_the_2013_papers_two_convolutions() -> None:
    # Mnih et al. 2013: 16 8x8 filters, stride 4 (84 -> 20), then 32 4x4, stride 2 (20 -> 9)
    net = build_q_network((4, 84, 84), 6, make_cfg(hidden_sizes=(256,), conv_stack="nips"))
    convs = [m for m in net.torso.conv if isinstance(m, torch.nn.Conv2d)]
    assert [(c.in_channels, c.out_channels, c.kernel_size, c.stride) for c in convs] == [
        (4, 16, (8, 8), (4, 4)), (16, 32, (4, 4), (2, 2))]
    assert net.torso.out_features == 32 * 9 * 9
    weights = sum(p.numel() for p in net.parameters())
    assert weights == (4 * 64 * 16 + 16) + (16 * 16 * 32 + 32) + (2592 * 256 + 256) + (256 * 6 + 6)
    assert net(torch.zeros(3, 4, 84, 84, dtype=torch.uint8)).shape == (3, 6)
    with pytest.raises(ValueError, match="unknown conv stack 'lenet'"):
        ConvTorso(4, 84, 84, stack="lenet")


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
    batch = frames_batch(SMALL_BATCH + 24)
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


@pytest.mark.slow
def test_a_compiled_step_takes_the_eager_steps_gradient_loss_and_statistics() -> None:
    """learner.compile changes how the kernels run, not what they compute: the same weights
    and batch give the eager gradient to float rounding, over micro-batches too, and the same
    updated weights after a few steps."""
    batch = frames_batch(32)
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
