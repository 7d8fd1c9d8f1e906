"""Builders shared by the learner's tests: a config, hand-made batches, and a bare linear
Q-network (hidden_sizes=(), dueling off): Q(s) = W s + b, whose weights the tests set, so every
expected number can be checked on paper."""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from aimodel import Learner
from config import LearnerConfig
from replay.types import Batch


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


def frames_batch(size: int, seed: int = 0) -> Batch:
    """B random stacks of four 84x84 frames (the Nature CNN's input), random actions and rewards."""
    rng = np.random.default_rng(seed)
    frames = rng.integers(0, 256, (size, 4, 84, 84), dtype=np.uint8)
    batch = make_batch(np.zeros((size, 1)), rng.integers(0, 6, size), rng.normal(size=size),
                       np.full(size, 0.99), np.zeros((size, 1)))
    return batch._replace(obs=frames, next_obs=frames[::-1].copy())
