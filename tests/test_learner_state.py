"""The learner's state: exact round trips through safetensors, refused mismatched or damaged
checkpoints, and Q-learning converging on a two-state problem.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch
from safetensors.torch import load_file, save_file

from aimodel import (
    Learner,
)
from config import LearnerConfig
from tests.learner_cases import make_batch, make_cfg, params, random_batch, same

torch.set_num_threads(1)


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
