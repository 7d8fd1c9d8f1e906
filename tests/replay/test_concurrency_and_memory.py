"""An actor thread adding while a learner thread samples; the memory budgets of the issue."""

from __future__ import annotations

import threading
import time

import numpy as np

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


def test_one_million_ale_transitions_fit_in_8_gb():
    # np.zeros maps untouched pages lazily, so this allocates almost nothing for real.
    buf = ReplayBuffer(1_000_000, 64, (4, 84, 84), prioritized=True, n_step=3)
    assert buf.capacity >= 999_936
    assert buf.nbytes <= 8 * 10**9
    assert buf.obs_SF.shape[1] == 84 * 84  # one frame per transition, stacks rebuilt


def test_one_million_tempest_vectors_fit_in_1_gb():
    buf = ReplayBuffer(1_000_000, 64, (195,), prioritized=True, n_step=12)
    assert buf.nbytes <= 10**9
