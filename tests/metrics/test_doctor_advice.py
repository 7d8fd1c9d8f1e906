"""The training doctor's advice (from the run's own settings), its serialisation and report,
and its configuration section."""

from __future__ import annotations

import dataclasses
import json
import math
import re

import pytest

import config
from config import Config, ConfigError, DoctorConfig
from metrics.doctor import (
    CODES,
    SEVERITIES,
    Finding,
    diagnose,
    format_report,
)
from tests.metrics import doctor_traces as traces
from tests.metrics.doctor_cases import ALL_TRACES, REAL_RUN_SETTINGS, codes

# ------------------------------------------------------------------------------------- advice


def _flags(advice: str) -> set[str]:
    return {m.replace("-", "_") for m in re.findall(r"--([a-z_]+\.[a-z_-]+)", advice)}


def test_advice_uses_the_runs_own_settings_seed_003() -> None:
    trace = traces.seed_003_divergence()
    found = {f.code: f for f in diagnose(trace.rows, settings=trace.settings)}
    advice = found["q_divergence"].advice
    assert advice.startswith("1) lower --learner.lr from 0.003 to 0.001")
    assert "--learner.tau 0.012 → 0.005" in advice and "--replay.n-step 8 → 5" in advice
    assert "--learner.batch-size 16384 → 65536" in advice
    assert "--learner.micro-batches 1 → 4" in advice
    assert "--learner.td-target-clamp 650" in advice  # 2x the pre-divergence |Q| of ~325
    assert "--fresh" in advice and "--doctor.guard true" in advice
    assert found["q_divergence"].remedy == {"learner.lr": 0.001}
    assert "--expert.ratio-floor 0.05 → 0.1" in found["performance_reversal"].advice
    assert found["lr_too_high"].remedy == {"learner.lr": 0.001}


def test_advice_uses_the_runs_own_settings_seed_004() -> None:
    trace = traces.seed_004_agreement_and_loss()
    found = {f.code: f for f in diagnose(trace.rows, settings=trace.settings)}
    explosion = found["loss_explosion"]
    assert explosion.advice.startswith("1) enable --learner.max-grad-norm 10")
    assert explosion.remedy == {"learner.max_grad_norm": 10.0}
    assert "--learner.td-target-clamp" not in explosion.advice  # already clamped at 50
    assert "--fresh" in found["agreement_collapse"].advice


def test_advice_without_settings_is_generic_but_uses_the_rows_lr() -> None:
    trace = traces.seed_003_divergence()
    divergence = next(f for f in diagnose(trace.rows) if f.code == "q_divergence")
    assert "lower --learner.lr from 0.003 to 0.001" in divergence.advice  # rows carry lr
    assert "--learner.tau 0.012 →" not in divergence.advice
    assert "--learner.tau 0.005 or less" in divergence.advice


def test_advice_with_the_real_runs_settings_halves_its_lr() -> None:
    trace = traces.lr_raise_then_divergence()
    found = {f.code: f for f in diagnose(trace.rows, settings=REAL_RUN_SETTINGS)}
    assert "lower --learner.lr from 0.0006 to 0.0003" in found["q_divergence"].advice
    assert found["lr_too_high"].remedy == {"learner.lr": 3e-4}
    assert "--learner.lr 0.0003" in found["lr_too_high"].advice
    assert "--learner.tau" not in found["q_divergence"].advice  # 0.005 already
    assert "--replay.n-step 8 → 5" in found["q_divergence"].advice


def test_settings_may_be_a_config_json_document() -> None:
    """What `tempest-dqn doctor RUN_DIR` has at hand: config.json, sections nested."""
    trace = traces.seed_004_agreement_and_loss()
    resolved = config.apply_overrides(Config(), trace.settings)
    document = {"product": "tempest-dqn", "config": config.to_dict(resolved)}
    flat = {info.key: info.default for info in config.describe_fields(resolved)}
    assert diagnose(trace.rows, settings=document) == diagnose(trace.rows, settings=flat)
    explosion = next(
        f for f in diagnose(trace.rows, settings=document) if f.code == "loss_explosion"
    )
    assert explosion.remedy == {"learner.max_grad_norm": 10.0}


@pytest.mark.parametrize("build", ALL_TRACES)
def test_every_flag_and_remedy_is_a_real_setting(build) -> None:
    trace = build()
    keys = {info.key for info in config.describe_fields()}
    for settings in (trace.settings, {}):
        for finding in diagnose(trace.rows, settings=settings):
            assert _flags(finding.advice) <= keys, finding.advice
            cfg = config.apply_overrides(Config(), finding.remedy)
            config.validate(cfg)


# ------------------------------------------------------------------------------ serialisation


def test_to_dict_is_json_and_round_trips() -> None:
    trace = traces.seed_003_divergence()
    findings = diagnose(trace.rows, settings=trace.settings) + diagnose([])
    for finding in findings:
        data = finding.to_dict()
        assert {
            "code",
            "frame",
            "severity",
            "message",
            "advice",
            "evidence",
            "row",
            "detected_frame",
        } <= set(data)
        text = json.dumps(data, allow_nan=False)
        assert json.loads(text) == data and Finding.from_dict(json.loads(text)) == finding
        assert finding.severity in SEVERITIES and finding.code in CODES
        numbers = [v for v in data["evidence"].values() if v is not None]
        assert all(isinstance(v, int | float) and math.isfinite(v) for v in numbers)


def test_format_report_lists_codes_frames_and_advice() -> None:
    trace = traces.seed_004_agreement_and_loss()
    findings = diagnose(trace.rows, settings=trace.settings)
    report = format_report(findings, source="runs/seed-004/metrics.jsonl", rows=len(trace.rows))
    assert report.splitlines()[0] == "Training doctor: runs/seed-004/metrics.jsonl (35 rows)"
    assert "3 findings: 1 critical, 2 warnings" in report
    for finding in findings:
        assert finding.code in report and f"from frame {finding.frame:,}" in report
    assert "advice: 1) enable --learner.max-grad-norm 10" in report
    healthy = format_report(diagnose([]), source="x", rows=0)
    assert "healthy: nothing to judge" in healthy


# ------------------------------------------------------------------------------ configuration


def test_doctor_section_defaults_overrides_and_old_config_files() -> None:
    assert Config().doctor == DoctorConfig() and config.SECTIONS.index("doctor") == (
        config.SECTIONS.index("metrics") + 1
    )
    old = json.loads(json.dumps(config.to_dict(Config())))
    del old["doctor"]  # a config.json written before the doctor existed
    assert config.from_dict(old) == Config()
    cfg = config.resolve(
        overrides={
            "doctor.guard": "true",
            "doctor.max-rollbacks": "5",
            "doctor.q_divergence_factor": "6",
        },
        environ={},
    )
    assert cfg.doctor.guard is True and cfg.doctor.max_rollbacks == 5
    assert cfg.doctor.q_divergence_factor == 6.0
    keys = {info.key for info in config.describe_fields()}
    assert {"doctor.enabled", "doctor.guard", "doctor.max_rollbacks", "doctor.lr_high"} <= keys


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"doctor.loss_explosion_factor": 1.0}, r"doctor.loss_explosion_factor must be greater"),
        ({"doctor.rearm_rows": 0}, r"doctor.rearm_rows must be a positive integer"),
        ({"doctor.agreement_peak_min": 1.5}, r"doctor.agreement_peak_min must be in \[0, 1\]"),
        ({"doctor.max_rollbacks": -1}, r"doctor.max_rollbacks must be 0 or more"),
        ({"doctor.min_baseline_rows": 40}, r"doctor.min_baseline_rows \(40\) must not exceed"),
    ],
)
def test_doctor_validation_errors(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.validate(config.apply_overrides(Config(), overrides))


def test_thresholds_come_from_the_config() -> None:
    trace = traces.seed_000_loss_explosion()  # 159k is 4.4x its baseline, 212k 5.9x
    strict = dataclasses.replace(DoctorConfig(), loss_explosion_factor=8.0)
    assert codes(diagnose(trace.rows, cfg=strict)) == ["healthy"]


def test_early_learning_growth_of_q_is_not_divergence_where_the_return_scale_is_known() -> None:
    """A real Tempest run at lr 0.01: Q min -0.96 -> -13.4 in 3 rows right after learning began.
    Ratio-wise that is 14x, but |Q| is far below the 1,000 Tempest's rewards allow (5% of it: 50);
    seed 003's 324 -> 1,779 is far above.  Without settings the plain floor (10) applies."""
    rows = traces.healthy_rows(rows=40, q_min=-0.9, q_max=0.8, q_growth=0.0)
    traces.splice(rows, 35, q_min=[-4.1, -9.0, -13.4])
    assert "q_divergence" not in codes(diagnose(rows, settings=REAL_RUN_SETTINGS))
    assert "q_divergence" in codes(diagnose(rows))


def test_during_warm_up_the_lr_remedy_starts_from_the_configured_lr() -> None:
    """A run configured at lr 0.01 diverges while its warm-up has the row's lr at 0.0005: the
    advice lowers what the user set (0.01 → 0.001), not the warm-up value."""
    trace = traces.seed_003_divergence()
    for row in trace.rows:
        row["lr"] = 0.0005
    found = {f.code: f for f in diagnose(trace.rows, settings={"learner.lr": 0.01})}
    assert found["q_divergence"].remedy == {"learner.lr": 0.001}
    assert "lower --learner.lr from 0.01 to 0.001" in found["q_divergence"].advice


def test_the_dqn5m_slope_of_the_first_few_episodes_is_not_a_reversal() -> None:
    """A real healthy smoke run: within 10k frames of the start the DQN5M slope went +1,059,391/M
    then -109,151/M while the loss fell, a handful of episodes, not a trend."""
    rows = traces.healthy_rows(rows=12, start_frame=3_000, frames_per_row=1_000)
    traces.splice(rows, 2, dqn5m_slope=[1_059_391.0] * 6 + [-109_151.0] * 4,
                  loss=[0.016] * 6 + [0.0012] * 4)
    assert codes(diagnose(rows)) == ["healthy"]
    late = [dict(row, frame=row["frame"] + 20_000_000) for row in rows]
    assert "performance_reversal" in codes(diagnose(late))  # the same numbers at 20M frames
