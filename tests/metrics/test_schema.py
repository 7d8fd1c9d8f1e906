"""The §5 row: validate_row and IntervalAccumulator with hand-computed numbers."""

from __future__ import annotations

import math

import pytest

from metrics.schema import (
    REQUIRED_KEYS,
    VERSION_2_KEYS,
    VERSION_3_KEYS,
    IntervalAccumulator,
    validate_row,
)

STATE = dict(epsilon=0.1, expert_ratio=0.25, lr=1e-4, learner_steps=100, target_age=7,
             replay_size=5000, nonfinite_steps=1)  # fmt: skip


def _two_step_interval() -> IntervalAccumulator:
    acc = IntervalAccumulator(t=10.0, frame=1000, episodes=4)
    acc.add_learner_step(loss=1.0, grad_norm=2.0, clip_delta=1.0, clipped=False, q_min=-1.0,
                         q_max=3.0, q_mean=1.0, batch_size=2, agreement_hits=1,
                         agreement_count=2, greedy_counts=[1, 1])  # fmt: skip
    acc.add_learner_step(loss=3.0, grad_norm=6.0, clip_delta=0.5, clipped=True, q_min=-2.0,
                         q_max=2.0, q_mean=4.0, batch_size=6, agreement_hits=3,
                         agreement_count=4, greedy_counts=[0, 4, 2])  # fmt: skip
    acc.add_frames(300)
    acc.add_frames(100)
    acc.add_episode(10.0)
    acc.add_episode(20.0)
    return acc


def test_row_follows_the_definitions() -> None:
    dqn = {"dqn_return_1m": 1.5, "dqn_return_5m": 1.25, "dqn5m_slope": -0.5}
    row = _two_step_interval().row(12.0, dqn=dqn, eval_return=3.0, eval_score=300.0, **STATE)
    assert list(row) == list(REQUIRED_KEYS + VERSION_2_KEYS + VERSION_3_KEYS)
    assert validate_row(row) == []
    expected = {
        "t": 12.0, "frame": 1400, "fps": 200.0, "episodes": 6, "return_mean": 15.0,
        "loss": 2.0, "grad_norm": 4.0, "grad_norm_max": 6.0, "clip_delta": 0.75,
        "clip_frac": 0.5, "q_min": -2.0, "q_max": 3.0,
        "q_mean": (1.0 * 2 + 4.0 * 6) / 8,  # weighted by batch size: 3.25
        "agreement": 4 / 6, "greedy_top_action": 1, "greedy_top_share": 5 / 8,
        "samples_per_frame": 8 / 400, "dqn_return_1m": 1.5, "dqn_return_5m": 1.25,
        "dqn5m_slope": -0.5, "eval_return": 3.0, "eval_score": 300.0, **STATE,
    }  # fmt: skip
    for key, value in expected.items():
        assert row[key] == pytest.approx(value), key


def test_imitation_keys_follow_their_definitions() -> None:
    """imitation_loss: the plain J_E summed over the interval's labelled states, divided by
    their count (steps without the term count for nothing); imitation_weight and
    expert_eval_score: what the trainer says is in force."""
    acc = _two_step_interval()
    step = dict(loss=1.0, grad_norm=1.0, clip_delta=1.0, clipped=False, q_min=0.0, q_max=1.0,
                q_mean=0.5, batch_size=4)  # fmt: skip
    acc.add_learner_step(**step, imitation=(1.5, 3))
    acc.add_learner_step(**step, imitation=(0.5, 1))
    row = acc.row(12.0, imitation_weight=0.25, expert_eval_score=-3.5, **STATE)
    assert validate_row(row) == []
    assert row["imitation_loss"] == pytest.approx((1.5 + 0.5) / (3 + 1))
    assert (row["imitation_weight"], row["expert_eval_score"]) == (0.25, -3.5)
    off = acc.row(14.0, **STATE)  # nothing fed: the term was off
    assert (off["imitation_loss"], off["imitation_weight"], off["expert_eval_score"]) == (
        None, 0.0, None)


def test_version_2_keys_are_checked_where_present_and_may_be_absent() -> None:
    row = _two_step_interval().row(12.0, **STATE)
    older = {k: v for k, v in row.items() if k not in VERSION_2_KEYS}
    assert validate_row(older) == []  # a run written before version 2
    assert validate_row(row | {"imitation_weight": -0.1}) == [
        "imitation_weight must be 0 or more, got -0.1"]
    assert validate_row(row | {"imitation_loss": "x"}) == [
        "imitation_loss must be a number or null, got str 'x'"]
    with pytest.raises(ValueError, match="imitation_weight"):
        _two_step_interval().row(12.0, extra={"imitation_weight": 1.0}, **STATE)


def test_the_next_interval_starts_empty() -> None:
    acc = _two_step_interval()
    acc.row(12.0, **STATE)
    row = acc.row(14.0, **STATE)
    assert validate_row(row) == []
    assert (row["frame"], row["episodes"], row["fps"]) == (1400, 6, 0.0)
    for key in ("return_mean", "loss", "grad_norm", "grad_norm_max", "clip_delta", "clip_frac",
                "q_min", "q_max", "q_mean", "agreement", "greedy_top_action",
                "greedy_top_share", "samples_per_frame", "dqn_return_1m", "dqn5m_slope",
                "eval_return"):  # fmt: skip
        assert row[key] is None, key


def test_agreement_is_null_without_expert_labels_and_ties_pick_the_lowest_action() -> None:
    acc = IntervalAccumulator()
    acc.add_learner_step(loss=1.0, grad_norm=1.0, clip_delta=1.0, clipped=False, q_min=0.0,
                         q_max=1.0, q_mean=0.5, batch_size=4, greedy_counts=[0, 2, 2])  # fmt: skip
    acc.add_frames(4)
    row = acc.row(1.0, **STATE)
    assert row["agreement"] is None
    assert (row["greedy_top_action"], row["greedy_top_share"]) == (1, 0.5)
    assert acc.row(1.0, **STATE)["fps"] is None  # no time passed: no rate


def test_accumulator_refuses_impossible_input() -> None:
    acc = IntervalAccumulator()
    step = dict(loss=1.0, grad_norm=1.0, clip_delta=1.0, clipped=False, q_min=0.0, q_max=1.0,
                q_mean=0.5)  # fmt: skip
    with pytest.raises(ValueError, match="batch_size"):
        acc.add_learner_step(**step, batch_size=0)
    with pytest.raises(ValueError, match="agreement_hits"):
        acc.add_learner_step(**step, batch_size=2, agreement_hits=3, agreement_count=2)
    with pytest.raises(ValueError, match="frames"):
        acc.add_frames(-1)
    with pytest.raises(ValueError, match="loss"):
        acc.row(1.0, extra={"loss": 0.0}, **STATE)
    assert acc.row(1.0, extra={"my_key": 1}, **STATE)["my_key"] == 1


def _valid_row() -> dict:
    return IntervalAccumulator().row(1.0, **STATE)


def test_validate_row_names_missing_keys_and_wrong_types() -> None:
    row = _valid_row()
    del row["loss"]
    row["frame"] = 1.5
    row["episodes"] = True
    row["epsilon"] = "high"
    problems = validate_row(row)
    assert "missing required key 'loss'" in problems
    assert any(p.startswith("frame must be an integer") for p in problems)
    assert any(p.startswith("episodes must be an integer") for p in problems)
    assert any(p.startswith("epsilon must be a number or null") for p in problems)
    assert len(problems) == 4


def test_validate_row_nulls_ranges_and_non_finite() -> None:
    assert validate_row(_valid_row() | {"loss": None, "fps": None}) == []
    assert validate_row(_valid_row() | {"frame": None}) == ["frame is null but always exists"]
    assert validate_row(_valid_row() | {"q_max": math.inf})[0].startswith("q_max is inf")
    assert "within [0, 1]" in validate_row(_valid_row() | {"clip_frac": 1.5})[0]
    assert "0 or more" in validate_row(_valid_row() | {"replay_size": -1})[0]
    assert validate_row(_valid_row() | {"q_min": -5, "extra": "anything"}) == []
    assert validate_row([1, 2]) == ["a row must be a JSON object, got list"]


def test_feeding_from_threads_loses_nothing() -> None:
    import threading

    acc = IntervalAccumulator()

    def feed() -> None:
        for _ in range(2_000):
            acc.add_learner_step(loss=1.0, grad_norm=1.0, clip_delta=1.0, clipped=True,
                                 q_min=0.0, q_max=1.0, q_mean=0.5, batch_size=1)  # fmt: skip
            acc.add_frames(1)

    threads = [threading.Thread(target=feed) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert acc.row(1.0, **STATE)["samples_per_frame"] == 1.0 and acc.frame == 8_000


def test_curriculum_keys_are_the_trainer_s_and_checked_where_present() -> None:
    """curriculum_frontier: an integer wave or null; curriculum_clear_rate: a share or null;
    rows written before version 3 have neither."""
    row = _two_step_interval().row(12.0, curriculum_frontier=13, curriculum_clear_rate=0.4,
                                   **STATE)
    assert (row["curriculum_frontier"], row["curriculum_clear_rate"]) == (13, 0.4)
    assert validate_row(row) == []
    off = _two_step_interval().row(12.0, **STATE)
    assert (off["curriculum_frontier"], off["curriculum_clear_rate"]) == (None, None)
    older = {k: v for k, v in off.items() if k not in VERSION_3_KEYS}
    assert validate_row(older) == []
    assert validate_row(row | {"curriculum_clear_rate": 1.5}) == [
        "curriculum_clear_rate must be within [0, 1], got 1.5"]
    assert validate_row(row | {"curriculum_frontier": 13.5}) == [
        "curriculum_frontier must be an integer, got float 13.5"]
