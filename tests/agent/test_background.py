"""The learner thread: its torch thread count, its pacing and its failures."""

from __future__ import annotations

import threading

import pytest
import torch

from agent.background import BackgroundLearner


@pytest.fixture
def torch_threads():
    """Restores the caller's torch thread count after the test."""
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_the_learner_thread_keeps_its_thread_count_when_started_during_a_small_forward(
        torch_threads):
    """torch fixes a new thread's count at its first op from the process-wide value; the
    actor lowers that value to 1 around each small forward pass.  A learner thread born in
    such a moment must still learn on the count it was built with."""
    seen: list[int] = []
    torch.set_num_threads(2)
    learner = BackgroundLearner(lambda: seen.append(torch.get_num_threads()))
    torch.set_num_threads(1)  # the actor's inference_threads(1) at the wrong moment
    learner.start()
    learner.give(1)
    learner.drain()
    torch.set_num_threads(2)
    learner.give(1)
    learner.stop()
    assert seen == [2, 2]


def test_an_explicit_thread_count_is_what_the_learner_thread_uses(torch_threads):
    seen: list[int] = []
    learner = BackgroundLearner(lambda: seen.append(torch.get_num_threads()), torch_threads=1)
    learner.start()
    learner.give(2)
    learner.stop()
    assert seen == [1, 1]


def test_the_actor_waits_when_the_learner_is_more_than_max_pending_behind():
    release, taken = threading.Event(), []

    def slow_step() -> None:
        release.wait(timeout=10)
        taken.append(1)

    learner = BackgroundLearner(slow_step, max_pending=2)
    learner.start()
    giver = threading.Thread(target=learner.give, args=(3,))
    giver.start()
    giver.join(timeout=0.2)
    assert giver.is_alive()  # 3 owed > 2 allowed: the actor is held back
    release.set()
    giver.join(timeout=10)
    learner.stop()
    assert not giver.is_alive() and len(taken) == 3


def test_a_failing_learner_step_is_raised_in_the_actor():
    def broken() -> None:
        raise ValueError("bad batch")

    learner = BackgroundLearner(broken)
    learner.start()
    with pytest.raises(RuntimeError, match="learner thread failed") as caught:
        learner.give(1)
        learner.drain()
    assert isinstance(caught.value.__cause__, ValueError)
