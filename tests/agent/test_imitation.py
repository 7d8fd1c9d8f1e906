"""agent.imitation: lambda's schedule, QDagger's gate and the scores it keeps, by hand."""

from __future__ import annotations

import pytest

from agent.imitation import TeacherScores, gate, imitation_weight_at
from config import ImitationConfig


def test_the_gate_is_qdaggers_ratio_clipped_to_0_1() -> None:
    assert gate(None, 8.0) == gate(3.0, None) == 1.0  # nothing measured yet: open
    assert gate(2.0, 8.0) == pytest.approx(0.75)
    assert gate(8.0, 8.0) == 0.0 and gate(12.0, 8.0) == 0.0  # matched or passed: shut
    assert gate(-21.0, 8.0) == 1.0  # far below the teacher: no more than lambda_0


def test_a_teacher_at_or_below_zero_opens_the_gate_only_below_its_score() -> None:
    assert gate(-10.0, -5.0) == 1.0 and gate(-5.0, -5.0) == 0.0 and gate(3.0, 0.0) == 0.0


def test_the_floor_counts_both_scores_from_the_worst_play() -> None:
    # Pong: a teacher at +12, counted from a 21-0 loss: the gap is 33 points.
    assert gate(-6.0, 12.0, floor=-21.0) == pytest.approx(1 - 15 / 33)
    assert gate(-21.0, 12.0, floor=-21.0) == 1.0 and gate(12.0, 12.0, floor=-21.0) == 0.0
    assert gate(-6.0, 12.0) == 1.0  # from 0, QDagger's ratio: not started
    assert gate(-25.0, -21.0, floor=-21.0) == 1.0 and gate(-21.0, -21.0, floor=-21.0) == 0.0


def test_the_weight_reads_the_configured_floor() -> None:
    cfg = ImitationConfig(weight=1.0, gate_floor=-21.0)
    assert imitation_weight_at(0, cfg, 0.0, 12.0) == pytest.approx(1 - 21 / 33)


def test_weight_start_anneal_stop_and_gate() -> None:
    cfg = ImitationConfig(weight=2.0, anneal_frames=1000, stop_frame=800, gate=True)
    assert imitation_weight_at(0, cfg) == 2.0
    assert imitation_weight_at(250, cfg) == pytest.approx(1.5)  # 2 x (1 - 250/1000)
    assert imitation_weight_at(250, cfg, 2.0, 8.0) == pytest.approx(1.5 * 0.75)
    assert imitation_weight_at(799, cfg) > 0 and imitation_weight_at(800, cfg) == 0.0
    constant = ImitationConfig(weight=2.0, gate=False)
    assert imitation_weight_at(10**9, constant, 100.0, 8.0) == 2.0  # no anneal, no gate
    assert imitation_weight_at(0, ImitationConfig(weight=0.0)) == 0.0


def test_scores_round_trip_and_old_checkpoints_have_none() -> None:
    scores = TeacherScores(expert_score=6643.0, net_score=None)
    assert TeacherScores.from_state(scores.state()) == scores
    assert TeacherScores.from_state(None) == TeacherScores()
