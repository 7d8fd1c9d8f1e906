"""`tempest-dqn doctor`: real files in a temporary directory, run through `agent.cli.main` as a user
runs it.  Exit 0 healthy, 1 findings, 2 bad input (on stderr, naming file, line and key)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import pytest

import config
from agent.cli import main
from metrics.doctor import Finding
from tests.metrics import doctor_traces as traces
from tests.torch_free import assert_torch_not_loaded


def write_rows(path: Path, rows: list[dict[str, Any]], tail: str = "") -> Path:
    """metrics.jsonl as the trainer writes it: one row per line; `tail` is appended unterminated."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(row) + "\n" for row in rows) + tail, encoding="utf-8")
    return path


def write_config(run_dir: Path, document: object) -> Path:
    path = run_dir / "config.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def run_config(**overrides: object) -> dict[str, Any]:
    """config.json as agent.rundir writes it: product, version and every resolved section."""
    cfg = config.apply_overrides(config.Config(), overrides)
    return {"product": "tempest-dqn", "version": "0.1.0", "config": config.to_dict(cfg)}


def doctor(capsys: pytest.CaptureFixture[str], *args: str | Path) -> tuple[int, str, str]:
    code = main(["doctor", *map(str, args)], environ={})
    out, err = capsys.readouterr()
    return code, out, err


def json_lines(out: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in out.splitlines()]


# ------------------------------------------------------------------------------------ healthy


def test_a_healthy_run_exits_0_and_says_so(tmp_path: Path, capsys) -> None:
    metrics = write_rows(tmp_path / "run" / "metrics.jsonl", traces.healthy_rows(rows=120))
    code, out, err = doctor(capsys, metrics)
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert lines[0] == f"Training doctor: {metrics} (120 rows)"
    assert "healthy: no problem found in 120 rows (120 judged" in out


def test_a_healthy_run_as_json_is_one_healthy_line(tmp_path: Path, capsys) -> None:
    metrics = write_rows(tmp_path / "m.jsonl", traces.healthy_rows(rows=120))
    code, out, err = doctor(capsys, metrics, "--json")
    assert code == 0 and err == ""
    (only,) = json_lines(out)
    assert only["code"] == "healthy" and only["evidence"] == {"rows": 120, "judged_rows": 120}


# ----------------------------------------------------------------------------------- findings


def test_seed_004_exits_1_and_names_its_findings_frames_and_advice(tmp_path, capsys) -> None:
    trace = traces.seed_004_agreement_and_loss()
    metrics = write_rows(tmp_path / "m.jsonl", trace.rows)
    code, out, err = doctor(capsys, metrics)
    assert code == 1 and err == ""
    assert "3 findings: 1 critical, 2 warnings" in out
    for name in ("loss_explosion", "agreement_collapse"):
        assert f" {name} from frame {trace.onset_frame(name):,} " in out
    assert out.count("advice: 1) ") == 3
    assert "settings: no config.json" in out


def test_json_lines_round_trip_through_finding(tmp_path: Path, capsys) -> None:
    trace = traces.seed_004_agreement_and_loss()
    code, out, _ = doctor(capsys, write_rows(tmp_path / "m.jsonl", trace.rows), "--json")
    assert code == 1
    lines = json_lines(out)
    assert [Finding.from_dict(line).to_dict() for line in lines] == lines
    onsets = {line["code"]: line["frame"] for line in lines}
    assert onsets == {code: trace.onset_frame(code) for code in trace.expected}


def test_advice_quotes_the_runs_config_json(tmp_path: Path, capsys) -> None:
    """The rows carry no lr (null) and clipping is off in config.json: both numbers can only
    come from the run's own configuration."""
    rows = traces.seed_004_agreement_and_loss().rows
    for row in rows:
        row["lr"] = None
    run_dir = tmp_path / "run"
    write_rows(run_dir / "metrics.jsonl", rows)
    lower_lr = "lower --learner.lr from 0.003 to 0.001"
    code, generic, _ = doctor(capsys, run_dir)
    assert code == 1 and lower_lr not in generic
    assert "make sure gradient clipping is on" in generic
    config_json = write_config(
        run_dir, run_config(**{"learner.lr": 0.003, "learner.max_grad_norm": 0.0})
    )
    code, out, err = doctor(capsys, run_dir)
    assert code == 1 and err == ""
    assert f"settings: {config_json}" in out.splitlines()[1]
    assert lower_lr in out
    assert "enable --learner.max-grad-norm 10" in out
    # the metrics file of a run directory brings its config.json along
    assert doctor(capsys, run_dir / "metrics.jsonl")[1] == out


def test_thresholds_come_from_the_runs_doctor_section(tmp_path: Path, capsys) -> None:
    """Seed 004's agreement peaked at 90%: with agreement_peak_min 0.95 it is not judged."""
    run_dir = tmp_path / "run"
    write_rows(run_dir / "metrics.jsonl", traces.seed_004_agreement_and_loss().rows)
    write_config(run_dir, run_config(**{"doctor.agreement_peak_min": 0.95}))
    code, out, _ = doctor(capsys, run_dir, "--json")
    assert code == 1
    assert {line["code"] for line in json_lines(out)} == {"loss_explosion", "clip_inactive"}


def test_an_older_config_json_without_a_doctor_section_uses_the_defaults(tmp_path, capsys) -> None:
    run_dir = tmp_path / "run"
    write_rows(run_dir / "metrics.jsonl", traces.seed_004_agreement_and_loss().rows)
    document = run_config()
    del document["config"]["doctor"]
    write_config(run_dir, document)
    code, out, err = doctor(capsys, run_dir, "--json")
    assert code == 1 and err == ""
    assert {line["code"] for line in json_lines(out)} == {
        "agreement_collapse", "loss_explosion", "clip_inactive",
    }  # fmt: skip


# ------------------------------------------------------------------------- live and empty runs


def test_a_half_written_last_line_is_skipped_and_reported(tmp_path: Path, capsys) -> None:
    metrics = write_rows(
        tmp_path / "m.jsonl", traces.healthy_rows(rows=60), tail='{"t": 121.0, "fr'
    )
    code, out, err = doctor(capsys, metrics)
    assert code == 0 and err == ""
    assert out.splitlines()[0].endswith("(60 rows)")
    assert "note: skipped the last line (16 bytes without a newline)" in out
    code, out, err = doctor(capsys, metrics, "--json")
    assert code == 0 and json_lines(out)[0]["code"] == "healthy"
    assert err.startswith("note: skipped the last line")


def test_a_complete_last_row_without_newline_is_read(tmp_path: Path, capsys) -> None:
    rows = traces.healthy_rows(rows=61)
    metrics = write_rows(tmp_path / "m.jsonl", rows[:-1], tail=json.dumps(rows[-1]))
    code, out, _ = doctor(capsys, metrics)
    assert code == 0 and "(61 rows)" in out and "note:" not in out


def test_a_run_with_no_rows_yet_has_nothing_to_judge(tmp_path: Path, capsys) -> None:
    metrics = write_rows(tmp_path / "m.jsonl", [])
    code, out, err = doctor(capsys, metrics)
    assert code == 0 and err == ""
    assert "(0 rows)" in out and "no rows yet" in out
    code, out, _ = doctor(capsys, metrics, "--json")
    (only,) = json_lines(out)
    assert code == 0 and only["code"] == "healthy" and only["evidence"]["rows"] == 0


# -------------------------------------------------------------------------- a guard-mode run

GUARDED_RUN = Path(__file__).parents[1] / "metrics" / "data" / "guarded_tempest_3m"
"""A real guard-mode run (the README's unstable configuration, seed 1, 3M frames): its
metrics.jsonl, events.jsonl and config.json as the trainer wrote them, gzipped."""


def unpack_guarded_run(run_dir: Path, files=("metrics.jsonl", "events.jsonl", "config.json")):
    run_dir.mkdir(parents=True)
    for name in files:
        (run_dir / name).write_bytes(gzip.decompress((GUARDED_RUN / f"{name}.gz").read_bytes()))
    return run_dir


def live_findings(run_dir: Path) -> list[dict[str, Any]]:
    events = [json.loads(line) for line in (run_dir / "events.jsonl").open()]
    return [e for e in events if e["kind"] == "finding"]


def test_a_guarded_run_reads_as_the_live_doctor_read_it(tmp_path: Path, capsys) -> None:
    run_dir = unpack_guarded_run(tmp_path / "run")
    code, out, _ = doctor(capsys, run_dir, "--json")
    offline, live = json_lines(out), live_findings(run_dir)
    assert code == 1 and len(live) == 10
    keys = ("code", "frame", "detected_frame", "severity", "message", "advice")
    assert [{k: f[k] for k in keys} for f in offline] == [{k: f[k] for k in keys} for f in live]
    # the settings each rollback changed are in the advice that follows it
    assert "lower --learner.lr from 0.0005" in offline[-2]["advice"]
    code, out, _ = doctor(capsys, run_dir)
    assert ("note: guard mode rolled back 3 times (events.jsonl): the doctor started over after "
            "the rows at frames 167,584, 275,104, 387,744, as the live one did") in out


def test_without_its_events_a_guarded_runs_rollback_looks_like_a_collapse(tmp_path, capsys) -> None:
    run_dir = unpack_guarded_run(tmp_path / "run", files=("metrics.jsonl", "config.json"))
    code, out, _ = doctor(capsys, run_dir, "--json")
    blind = [(f["code"], f["frame"]) for f in json_lines(out)]
    assert ("q_collapse", 176_800) in blind  # the weights put back, not a collapse
    assert "rolled back" not in doctor(capsys, run_dir)[1]


def test_an_unreadable_events_file_is_said_and_the_rows_are_judged(tmp_path, capsys) -> None:
    run_dir = unpack_guarded_run(tmp_path / "run", files=("metrics.jsonl", "config.json"))
    (run_dir / "events.jsonl").write_text("not json\n{}\n", encoding="utf-8")
    code, out, err = doctor(capsys, run_dir)
    assert code == 1 and err == ""
    assert f"note: {run_dir / 'events.jsonl'} unreadable (" in out
    assert "guard rollbacks, if any, not taken into account" in out


# ---------------------------------------------------------------------------------- bad input


def assert_bad_input(capsys: pytest.CaptureFixture[str], target: Path, *fragments: str) -> None:
    """Exit 2, nothing on stdout, `error: ...` on stderr with every fragment, no traceback, and
    nothing written next to the target."""
    folder = target if target.is_dir() else target.parent
    before = sorted(folder.rglob("*")) if folder.exists() else None
    code, out, err = doctor(capsys, target)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and "Traceback" not in err
    for fragment in fragments:
        assert fragment in err, err
    assert (sorted(folder.rglob("*")) if folder.exists() else None) == before


def test_a_missing_path(tmp_path: Path, capsys) -> None:
    target = tmp_path / "runs" / "nope"
    assert_bad_input(capsys, target, f"no such file or directory: {target}", "hint: give a run")


def test_a_directory_without_metrics(tmp_path: Path, capsys) -> None:
    assert_bad_input(capsys, tmp_path, f"no metrics.jsonl in {tmp_path}", "or the path of its")


def test_a_line_that_is_not_json(tmp_path: Path, capsys) -> None:
    rows = [json.dumps(row) for row in traces.healthy_rows(rows=4)]
    rows[2] = rows[2][:40]  # a cut line in the middle, newline after it
    metrics = tmp_path / "metrics.jsonl"
    metrics.write_text("\n".join(rows) + "\n")
    assert_bad_input(capsys, metrics, f"{metrics}:3: not JSON (")


def test_a_row_missing_loss(tmp_path: Path, capsys) -> None:
    rows = traces.healthy_rows(rows=4)
    del rows[1]["loss"]
    metrics = write_rows(tmp_path / "metrics.jsonl", rows)
    assert_bad_input(capsys, metrics, f"{metrics}:2: missing required key 'loss'")


def test_a_row_missing_several_keys_names_them_all(tmp_path: Path, capsys) -> None:
    rows = traces.healthy_rows(rows=2)
    del rows[1]["q_min"], rows[1]["agreement"]
    metrics = write_rows(tmp_path / "metrics.jsonl", rows)
    assert_bad_input(capsys, metrics, ":2: missing required keys 'q_min', 'agreement'")


def test_a_file_that_is_not_metrics_at_all(tmp_path: Path, capsys) -> None:
    events = write_rows(tmp_path / "events.jsonl", [{"kind": "checkpoint", "frame": 1}])
    assert_bad_input(capsys, events, ":1: not a metrics row", "hint: give a run directory")


def test_a_corrupt_config_json(tmp_path: Path, capsys) -> None:
    write_rows(tmp_path / "metrics.jsonl", traces.healthy_rows(rows=4))
    (tmp_path / "config.json").write_text('{"config": {\n  "learner": {"lr": 0.003,}}}')
    assert_bad_input(capsys, tmp_path, f"{tmp_path / 'config.json'}:2: not JSON (", "hint: repair")


@pytest.mark.parametrize(
    ("doctor_section", "message"),
    [({"baseline_rowz": 10}, "unknown field 'doctor.baseline_rowz'"),
     ({"loss_explosion_factor": 0.5}, "doctor.loss_explosion_factor must be greater than 1"),
     ({"baseline_rows": "many"}, "doctor.baseline_rows expects")],
)  # fmt: skip
def test_a_bad_doctor_section_names_the_field(
    doctor_section: dict, message: str, tmp_path: Path, capsys
) -> None:
    write_rows(tmp_path / "metrics.jsonl", traces.healthy_rows(rows=4))
    write_config(tmp_path, {"config": {"doctor": doctor_section}})
    assert_bad_input(capsys, tmp_path, f"{tmp_path / 'config.json'}: ", message)


def test_the_doctor_never_loads_torch(tmp_path: Path) -> None:
    metrics = write_rows(tmp_path / "metrics.jsonl", traces.healthy_rows(rows=40))
    assert_torch_not_loaded(
        f"from agent.cli import main\nassert main(['doctor', {str(metrics)!r}]) == 0"
    )
