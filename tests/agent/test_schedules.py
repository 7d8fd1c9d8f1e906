"""Schedules by hand, and the learner pacer's long-run replay ratio."""

from __future__ import annotations

import pytest

from agent.schedules import LearnerPacer, beta_at, epsilon_at, linear


def test_linear_schedule_by_hand():
    assert linear(1.0, 0.1, 1000, 0) == 1.0
    assert linear(1.0, 0.1, 1000, 250) == pytest.approx(0.775)
    assert linear(1.0, 0.1, 1000, 1000) == 0.1
    assert linear(1.0, 0.1, 1000, 5000) == 0.1
    assert linear(1.0, 0.1, 0, 0) == 0.1  # no decay: the end value at once


def test_epsilon_and_beta_follow_their_settings():
    assert epsilon_at(500_000, 1.0, 0.01, 1_000_000) == pytest.approx(0.505)
    assert beta_at(2_500_000, 0.4, 1.0, 10_000_000) == pytest.approx(0.55)


def test_pacer_waits_for_learning_starts_then_keeps_the_ratio():
    pacer = LearnerPacer(replay_ratio=2.0, batch_size=32, learning_starts=1000)
    assert pacer.owed(999) == 0
    assert pacer.owed(1000) == 0
    total = sum(pacer.owed(frame) for frame in range(1004, 1000 + 32 * 16 + 1, 4))
    assert total == 32  # 512 frames * 2 samples per frame / 32 per step


def test_pacer_state_round_trips():
    pacer = LearnerPacer(replay_ratio=0.5, batch_size=3, learning_starts=0)
    pacer.owed(7)
    copy = LearnerPacer(replay_ratio=0.5, batch_size=3, learning_starts=0)
    copy.load_state(pacer.state())
    assert [copy.owed(f) for f in (9, 20, 33)] == [pacer.owed(f) for f in (9, 20, 33)]
