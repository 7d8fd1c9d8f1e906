"""The actor's copy of the network: where it runs, and that it changes only when refreshed."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from agent.acting import ActingCopy, acting_device
from aimodel import build_q_network
from config import LearnerConfig

CPU, GPU = torch.device("cpu"), torch.device("cuda")
FRAMES, VECTORS = (4, 84, 84), (195,)


@pytest.mark.parametrize(("setting", "learner", "obs_shape", "expected"), [
    ("auto", CPU, FRAMES, CPU), ("learner", CPU, VECTORS, CPU),  # a CPU learner: the CPU
    ("auto", GPU, FRAMES, GPU),  # convs: the GPU
    ("auto", GPU, VECTORS, CPU),  # a small MLP: the CPU, the GPU left to the learner
    ("learner", GPU, VECTORS, GPU), ("cpu", GPU, FRAMES, CPU),  # as asked
])  # fmt: skip
def test_where_the_actor_acts(setting, learner, obs_shape, expected) -> None:
    assert acting_device(setting, learner, obs_shape) == expected


def test_the_copy_acts_on_the_weights_of_its_last_refresh() -> None:
    torch.manual_seed(0)
    online = build_q_network((6,), 4, LearnerConfig(hidden_sizes=(16,)))
    acting = ActingCopy(online, CPU)
    obs = np.random.default_rng(0).normal(size=(64, 6)).astype(np.float32)
    with torch.no_grad():
        before = online(torch.from_numpy(obs)).argmax(dim=1).numpy()
        np.testing.assert_array_equal(acting.greedy(obs), before)
        for p in online.parameters():
            p.add_(torch.randn_like(p))
        after = online(torch.from_numpy(obs)).argmax(dim=1).numpy()
    assert not np.array_equal(before, after)
    np.testing.assert_array_equal(acting.greedy(obs), before)  # not refreshed yet
    acting.sync(online)
    np.testing.assert_array_equal(acting.greedy(obs), after)
