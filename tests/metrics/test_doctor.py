"""The training doctor's findings: each seed's symptoms found at their onset, no false alarm on
healthy runs (synthetic noise and a real 20M-frame Tempest run, `doctor_cases`), the rules in
detail, fire-once and re-arm, nulls.  Its advice, serialisation and settings:
test_doctor_advice.py.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from config import DoctorConfig
from metrics.doctor import (
    CODES,
    GUARD_CODES,
    SEVERITIES,
    Doctor,
    Rollback,
    diagnose,
    guard_rollbacks,
)
from metrics.schema import REQUIRED_KEYS, validate_row
from tests.metrics import doctor_traces as traces
from tests.metrics.doctor_cases import ALL_TRACES, REAL_RUN_SETTINGS, codes, real_rows

# ------------------------------------------------------------------------------------ the API


def test_codes_severities_and_guardcodes() -> None:
    assert len(CODES) == 11 and CODES[-1] == "healthy" and len(set(CODES)) == 11
    assert GUARD_CODES == {"q_divergence", "loss_explosion", "nonfinite"} <= set(CODES)
    assert SEVERITIES == ("info", "warning", "critical")


@pytest.mark.parametrize("build", ALL_TRACES)
def test_every_trace_row_is_a_complete_valid_row(build) -> None:
    for row in build().rows:
        assert validate_row(row) == []


# ------------------------------------------------------------------------------------- seeds


@pytest.mark.parametrize("build", ALL_TRACES)
def test_each_trace_is_found_at_its_onset_within_3_rows(build) -> None:
    """The right codes, nothing else, onset frames exact, detected within 3 rows of the onset
    (later only where the rule needs more rows by definition: saturation, a raise's blow-up)."""
    trace = build()
    findings = diagnose(trace.rows, settings=trace.settings)
    assert sorted(codes(findings)) == sorted(trace.expected), trace.name
    for finding in findings:
        onset = trace.expected[finding.code]
        assert finding.frame == trace.onset_frame(finding.code), (trace.name, finding.code)
        assert onset <= finding.row <= trace.detected_by(finding.code), (trace.name, finding)
        assert finding.detected_frame == trace.rows[finding.row]["frame"]


@pytest.mark.parametrize("build", ALL_TRACES)
def test_the_same_codes_are_found_without_settings(build) -> None:
    """Settings only sharpen the advice (and add the Q bound); the rows carry the evidence."""
    trace = build()
    assert set(codes(diagnose(trace.rows))) == set(trace.expected)


def test_seed_003_numbers_are_quoted() -> None:
    trace = traces.seed_003_divergence()
    found = {f.code: f for f in diagnose(trace.rows, settings=trace.settings)}
    divergence = found["q_divergence"]  # 1308.56 is 4.04x the ~324 before: one row after onset
    assert divergence.evidence["q_max"] == 1308.56 and divergence.evidence["rows"] == 2
    assert "Q max rose 324.2 → 1309 in 2 rows" in divergence.message
    assert "[-3.37, 15.95]" in found["q_collapse"].message
    reversal = found["performance_reversal"]
    assert reversal.evidence["slope"] == pytest.approx(-0.190)
    assert reversal.evidence["loss_now"] == pytest.approx(0.367)
    assert "-0.19/M" in reversal.message and "0.367" in reversal.message
    swing = found["grad_instability"]
    evidence = swing.evidence
    assert (evidence["grad_norm_min"], evidence["grad_norm_max"]) == (4.764, 8.787)
    assert (evidence["clip_delta_min"], evidence["clip_delta_max"]) == (0.569, 1.0)
    assert "swings 4.764 to 8.787 and ClipΔ 0.569 to 1 within 3 rows" in swing.message
    assert "0.003" in found["lr_too_high"].message


def test_seed_004_numbers_are_quoted() -> None:
    trace = traces.seed_004_agreement_and_loss()
    found = {f.code: f for f in diagnose(trace.rows, settings=trace.settings)}
    assert found["loss_explosion"].evidence["loss"] == 5193.607
    assert "→ 5194 in 1 row " in found["loss_explosion"].message
    agreement = found["agreement_collapse"]
    assert agreement.evidence["agreement"] == 0.5 and agreement.evidence["agreement_peak"] >= 0.84
    assert "switched from 2 to 3" in agreement.message
    assert "clipping off" in found["clip_inactive"].message


# -------------------------------------------------------------------------- no false alarms


@pytest.mark.parametrize("seed", range(6))
def test_healthy_noisy_traces_are_healthy(seed: int) -> None:
    rows = traces.healthy_rows(rows=600, seed=seed)
    findings = diagnose(rows, settings=REAL_RUN_SETTINGS)
    assert codes(findings) == ["healthy"], [f.message for f in findings]


def test_the_real_healthy_20m_frame_run_is_healthy() -> None:
    rows = real_rows()
    assert len(rows) == 1820 and rows[-1]["frame"] > 20_000_000
    assert all(set(row) == set(REQUIRED_KEYS) and validate_row(row) == [] for row in rows)
    for settings in (None, REAL_RUN_SETTINGS):
        findings = diagnose(rows, settings=settings)
        assert codes(findings) == ["healthy"], [f.message for f in findings]
    healthy = findings[0]
    assert healthy.evidence == {"rows": 1820, "judged_rows": 1819}
    assert healthy.frame == rows[-1]["frame"] and healthy.row == 1819


def test_the_real_runs_plateau_is_close_but_below_the_reversal_threshold() -> None:
    """The plateau of the real run: DQN5M ~5,400 with a slope down to about -1%/M of it."""
    rows = [r for r in real_rows() if r["frame"] > 10_000_000]
    worst = min(100 * r["dqn5m_slope"] / r["dqn_return_5m"] for r in rows)
    assert -1.5 < worst < -0.9  # the threshold (reversal_fall_pct 1.5) is not far above it


def test_agreement_drifting_down_from_0_7_as_the_agent_outgrows_the_expert_is_healthy() -> None:
    rows = traces.healthy_rows(rows=600, seed=7)
    rng = np.random.default_rng(70)
    for i, row in enumerate(rows):
        row["agreement"] = float(0.7 - 0.4 * i / 599 + rng.normal(0, 0.01))
    assert codes(diagnose(rows)) == ["healthy"]


def _imitation_trace(weights, agreements, seed: int = 11) -> list[dict]:
    rows = traces.healthy_rows(rows=len(weights), seed=seed)
    for row, weight, agreement in zip(rows, weights, agreements, strict=True):
        row.update(imitation_weight=weight, agreement=agreement)
    return rows


def test_agreement_falling_as_the_imitation_term_fades_by_plan_is_not_a_collapse() -> None:
    """lambda 1.0 holds agreement at 0.9; the gate shuts it (and later, once, an anneal
    wobbles it down again); agreement falls to 0.3 over the next 60 rows and stays there."""
    weights = [1.0] * 100 + [0.0] * 400
    weights[300] = 0.0
    agreements = [0.9] * 100 + list(np.linspace(0.9, 0.3, 60)) + [0.3] * 340
    assert codes(diagnose(_imitation_trace(weights, agreements))) == ["healthy"]
    gradual = list(np.linspace(1.0, 0.0, 200)) + [0.0] * 300  # an anneal over 200 rows
    assert codes(diagnose(_imitation_trace(gradual, agreements))) == ["healthy"]


def test_a_real_agreement_collapse_is_still_found_while_the_term_is_on() -> None:
    """lambda steady at 0.5, agreement 0.9 falls to 0.2: found within 3 rows of passing 60% of
    the peak; and the same collapse long after a fade (from a peak reached at lambda 0)."""
    agreements = [0.9] * 100 + list(np.linspace(0.9, 0.2, 20)) + [0.2] * 80
    found = diagnose(_imitation_trace([0.5] * 200, agreements))
    onset = next(i for i, a in enumerate(agreements) if a <= 0.6 * 0.9)
    collapse = next(f for f in found if f.code == "agreement_collapse")
    assert onset <= collapse.row <= onset + 3
    after_fade = [1.0] * 50 + [0.0] * 450  # the fade at row 50, then 150 rows of settling
    late = [0.9] * 300 + list(np.linspace(0.9, 0.2, 20)) + [0.2] * 180
    found = diagnose(_imitation_trace(after_fade, late))
    assert "agreement_collapse" in codes(found)


def test_a_plateau_after_learning_is_not_a_reversal() -> None:
    """DQN5M rising 5%/M, then a plateau at 5,400 dipping to -50/M (-0.93%/M), loss tiny."""
    rows = traces.healthy_rows(rows=400, seed=8, loss=1e-4, loss_end=5e-5)
    for i, row in enumerate(rows):
        row["dqn_return_5m"] = 5_400.0
        row["dqn5m_slope"] = 270.0 if i < 200 else -50.0
    assert codes(diagnose(rows)) == ["healthy"]
    for row in rows[200:]:  # the same shape falling twice as fast is a reversal
        row["dqn5m_slope"] = -100.0
    assert codes(diagnose(rows)) == ["performance_reversal"]


# ------------------------------------------------------------------------- rules in detail


def test_q_above_the_largest_possible_return_is_divergence_even_when_slow() -> None:
    """Tempest rewards are clipped to ±10 per step; with gamma 0.99 no return exceeds 1,000.
    Q creeping up 2% a row never trips the 4x rule, the bound does at the first row above it."""
    rows = traces.healthy_rows(rows=200, seed=9)
    for i, row in enumerate(rows):
        row["q_max"] = 500.0 * 1.02**i
    first_above = next(i for i, row in enumerate(rows) if row["q_max"] > 1000.0)
    findings = diagnose(rows, settings=REAL_RUN_SETTINGS)
    assert codes(findings) == ["q_divergence"]
    assert findings[0].row == first_above
    assert findings[0].evidence["q_bound"] == pytest.approx(1000.0)
    assert "above 1000" in findings[0].message
    assert codes(diagnose(rows)) == ["healthy"]  # without settings the bound is unknown


def test_a_gradient_spike_clipping_never_touches_is_clip_inactive() -> None:
    """Clipping at 10 with gradients ~0.02: a 20x spike stays under it (ClipΔ 1.0)."""
    rows = traces.healthy_rows(rows=60, seed=10)
    rows[50]["grad_norm_max"] = 20 * rows[49]["grad_norm_max"]
    findings = diagnose(rows, settings=REAL_RUN_SETTINGS)
    assert codes(findings) == ["clip_inactive"] and findings[0].row == 50
    clip = findings[0].remedy["learner.max_grad_norm"]
    assert 0 < clip < 1 and "--learner.max-grad-norm 10 never engages" in findings[0].advice


def test_a_clipped_gradient_spike_is_grad_instability() -> None:
    rows = traces.healthy_rows(rows=60, seed=11)
    rows[50].update(grad_norm_max=20 * rows[49]["grad_norm_max"], clip_frac=0.1, clip_delta=0.9)
    findings = diagnose(rows, settings=REAL_RUN_SETTINGS)
    assert codes(findings) == ["grad_instability"] and findings[0].row == 50


def test_a_single_hard_clipped_row_is_not_a_swing() -> None:
    trace = traces.seed_003_divergence()
    rows = trace.rows[:32]  # baseline, then one row clipped hard and one not
    assert "grad_instability" not in codes(diagnose(rows, settings=trace.settings))


def test_agreement_collapse_needs_a_high_peak() -> None:
    """The same 60% drop from a 0.3 peak (the healthy run's level) is no collapse."""
    trace = traces.seed_004_agreement_and_loss()
    for row in trace.rows:
        row["agreement"] = row["agreement"] / 3
    assert "agreement_collapse" not in codes(diagnose(trace.rows, settings=trace.settings))


# ------------------------------------------------------------------------ fire once, re-arm


def _with_nonfinite_increments(rows: list[dict], at: list[int]) -> list[dict]:
    total = 0
    for i, row in enumerate(rows):
        total += 3 if i in at else 0
        row["nonfinite_steps"] = total
    return rows


def test_a_condition_fires_once_and_again_only_after_rearm_rows_absent() -> None:
    rearm = DoctorConfig().rearm_rows
    again = 70 + rearm + 1  # back at 70 before re-arming; rows 71 .. 70 + rearm absent: re-armed
    rows = _with_nonfinite_increments(traces.healthy_rows(rows=120), [50, 51, 52, 70, again])
    findings = diagnose(rows)
    assert [(f.code, f.row) for f in findings] == [("nonfinite", 50), ("nonfinite", again)]
    assert findings[0].evidence["skipped_steps"] == 3 and findings[0].severity == "critical"
    shorter = dataclasses.replace(DoctorConfig(), rearm_rows=10)
    assert [f.row for f in diagnose(rows, cfg=shorter)] == [50, 70, again]


def test_live_observe_returns_only_new_findings_and_restart_keeps_them() -> None:
    rows = _with_nonfinite_increments(traces.healthy_rows(rows=60), [20, 21, 40])
    doctor = Doctor()
    new_per_row = [doctor.observe(row) for row in rows[:30]]
    assert [i for i, new in enumerate(new_per_row) if new] == [20]
    assert codes(doctor.findings) == ["nonfinite"]
    doctor.restart()  # a guard rollback: the same problem must be reported again
    assert [doctor.observe(row) != [] for row in rows[30:]].count(True) == 1
    assert [f.row for f in doctor.findings] == [20, 40]


def test_restart_forgets_baselines() -> None:
    rows = traces.seed_002_loss_explosion().rows
    doctor = Doctor()
    for row in rows[:30]:
        doctor.observe(row)
    doctor.restart()
    assert doctor.observe(rows[30]) == []  # no baseline yet: a jump cannot be judged
    assert doctor.findings == []


def test_guard_rollbacks_are_placed_at_the_row_they_happened_at() -> None:
    events = [
        {"kind": "info", "message": "learner: inline"},
        {"kind": "finding", "code": "clip_inactive", "detected_frame": 90},
        {"kind": "finding", "code": "loss_explosion", "detected_frame": 100},
        {"kind": "warning", "guard": "rollback", "changes": {"learner.lr": 0.001}},  # older
        {"kind": "finding", "code": "q_divergence", "detected_frame": 200},
        {"kind": "warning", "guard": "rollback", "frame": 210, "changes": {}},
        {"kind": "warning", "guard": "gave_up", "frame": 300},
    ]
    assert guard_rollbacks(events) == [Rollback(100, {"learner.lr": 0.001}), Rollback(210, {})]
    assert guard_rollbacks(events[3:4]) == []  # no frame and no finding before it: unplaceable


def test_diagnose_starts_over_after_a_rollback_with_its_changes() -> None:
    rows = _with_nonfinite_increments(traces.healthy_rows(rows=60), [20, 21, 40])
    settings = {"learner.lr": 0.003}
    assert [f.row for f in diagnose(rows, settings=settings)] == [20]  # still active at 40
    replayed = diagnose(rows, settings=settings,
                        rollbacks=[Rollback(rows[21]["frame"], {"learner.lr": 0.0005})])
    assert [f.row for f in replayed] == [20, 40]  # the rows keep their numbers in the file
    assert "0.003" in replayed[0].advice and "0.0005" in replayed[1].advice


# -------------------------------------------------------------------------------------- nulls


def test_nulls_and_rows_before_learning_are_tolerated() -> None:
    rows = traces.before_learning(5) + traces.healthy_rows(rows=400, seed=12)
    rng = np.random.default_rng(120)
    nullable = [
        "loss",
        "grad_norm",
        "grad_norm_max",
        "clip_delta",
        "clip_frac",
        "agreement",
        "dqn_return_5m",
        "dqn5m_slope",
        "lr",
        "greedy_top_action",
        "q_mean",
        "fps",
    ]
    for row in rows[5:]:
        for key in nullable:
            if rng.random() < 0.1:
                row[key] = None
    rows[100].update(q_min=None, q_max=None)  # learner stats missing: not judged
    assert all(validate_row(row) == [] for row in rows)
    findings = diagnose(rows)
    assert codes(findings) == ["healthy"]
    assert findings[0].evidence == {"rows": 405, "judged_rows": 399}


def test_only_rows_before_learning_give_nothing_to_judge() -> None:
    findings = diagnose(traces.before_learning(4))
    assert codes(findings) == ["healthy"] and "nothing to judge" in findings[0].message
    assert codes(diagnose([])) == ["healthy"]


def test_seed_traces_with_agreement_and_dqn_unknown_still_find_the_q_problems() -> None:
    trace = traces.seed_003_divergence()
    for row in trace.rows:
        row.update(agreement=None, dqn_return_5m=None, dqn5m_slope=None)
    found = set(codes(diagnose(trace.rows, settings=trace.settings)))
    assert found == set(trace.expected) - {"performance_reversal"}


def test_nan_in_a_row_read_leniently_is_nonfinite() -> None:
    rows = traces.healthy_rows(rows=40, seed=13)
    rows[30]["loss"] = math.nan
    findings = diagnose(rows)
    assert codes(findings) == ["nonfinite"] and "non-finite loss" in findings[0].message
