"""An actor thread adding while a learner thread samples; the memory budgets of the issue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from replay import ReplayBuffer
from tests.replay.conftest import drive


def test_add_from_one_thread_while_another_samples_and_updates(rng):
    buf = ReplayBuffer(2000, 4, (8,), prioritized=True, n_step=3)
    drive(buf, None, 20, rng)
    errors: list[BaseException] = []
    stop = threading.Event()

    def learner():
        try:
            while not stop.is_set():
                batch = buf.sample(64)
                assert np.isfinite(batch.reward).all() and (batch.horizon >= 1).all()
                buf.update_priorities(batch.indices, np.abs(batch.reward) + 0.1)
                time.sleep(0.0005)  # a learner does other work between batches
        except BaseException as err:  # reported to the main thread below
            errors.append(err)

    thread = threading.Thread(target=learner)
    thread.start()
    try:
        drive(buf, None, 600, np.random.default_rng(4))
    finally:
        stop.set()
        thread.join()
    assert not errors, errors
    valid = np.flatnonzero(buf.sampleable_S)
    np.testing.assert_allclose(buf.tree.total, buf.tree.leaves[valid].sum())
    assert (buf.tree.leaves[buf.sampleable_S == 0] == 0).all()


_MEASURE = """
import json, sys
import numpy as np
from replay import ReplayBuffer

def resident():
    with open("/proc/self/status", encoding="ascii") as status:
        return int(next(l for l in status if l.startswith("VmRSS:")).split()[1]) * 1024

capacity, shape, n_step = json.loads(sys.argv[1])
before = resident()
buf = ReplayBuffer(capacity, 64, tuple(shape), prioritized=True, n_step=n_step)
for array in (buf.obs_SF, buf.action_S, buf.reward_S, buf.flags_S, buf.source_S, buf.expert_S,
              buf.sampleable_S, buf.tree.sum_T, buf.tree.min_T):
    array.fill(1)
print(json.dumps({"grown": resident() - before, "nbytes": buf.nbytes, "rows": buf.capacity}))
"""


def _bytes_per_transition(capacity: int, obs_shape: tuple[int, ...], n_step: int) -> float:
    """Memory a filled buffer really holds per transition, measured in a fresh interpreter (the
    allocator's history in this one could hand back pages it already holds): every page of every
    column touched (np.zeros maps pages lazily), the growth of the resident set measured, and
    checked against the buffer's own `nbytes`."""
    argument = json.dumps([capacity, list(obs_shape), n_step])
    result = subprocess.run([sys.executable, "-c", _MEASURE, argument], capture_output=True,
                            text=True, check=True, cwd=Path(__file__).resolve().parents[2])
    measured = json.loads(result.stdout)
    assert measured["grown"] == pytest.approx(measured["nbytes"], rel=0.1)  # nbytes tells the truth
    return measured["grown"] / measured["rows"]


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the resident set")
def test_one_million_ale_transitions_fit_in_8_gb():
    """Measured on 50,000 filled transitions and scaled: one 84x84 frame per transition (the
    stacks are rebuilt at sample time), so about 7 KB each."""
    per_transition = _bytes_per_transition(50_000, (4, 84, 84), 3)
    assert 1_000_000 * per_transition <= 8 * 10**9
    assert per_transition < 2 * 84 * 84  # not four frames per transition


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="reads the resident set")
def test_one_million_tempest_vectors_fit_in_1_gb():
    per_transition = _bytes_per_transition(100_000, (195,), 12)
    assert 1_000_000 * per_transition <= 10**9
