"""`tempest-dqn doctor TARGET`: the training doctor over a recorded run, from the files on disk.

Why a module of its own: the engine judges rows it is given; this module decides which rows
and which settings those are, refuses bad input with the file, the line and the key at fault,
and renders the findings for a person (`render_text`) or a script (`render_json`).  The CLI stays
a thin dispatcher.

Decisions a user can rely on:
- TARGET is a run directory (its `metrics.jsonl`, and its `config.json` when there is one) or a
  metrics file; a file named `metrics.jsonl` brings the `config.json` next to it along, so
  `doctor runs/x` and `doctor runs/x/metrics.jsonl` give the same report.  Any other file name is
  judged with default thresholds and generic advice; the report says which settings it used.
- Strict: every complete line must be one §5 row.  The one exception is a last line without a
  newline that does not parse: a live run is writing it, so it is skipped and the report says so.
- A file with no rows yet (or only that half-written line) is not bad input: there is nothing to
  judge, the report says "no rows yet" and the exit code is 0, as for a run that has not started
  learning.  Exit 0 means "no finding", never "this run is good".
- Thresholds come from the run's config.json `doctor` section (validated like `train` validates
  it); an older config.json without that section uses the defaults.
- A guard-mode run's rollbacks come from the `events.jsonl` beside its metrics: the doctor starts
  over after each, as the live one did (the weights put back are not a collapse), and the report
  says so.  That file only refines the report: when it cannot be read, the report is made
  without the rollbacks and says why.
- Read only: nothing is written anywhere.  Torch is never imported.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import config
from config import DoctorConfig
from metrics.doctor.findings import Finding, format_report
from metrics.doctor.offline import Rollback, diagnose, guard_rollbacks
from metrics.events import read_events
from metrics.runfiles import CONFIG_FILE, EVENTS_FILE, METRICS_FILE
from metrics.schema import REQUIRED_KEYS, validate_row
from metrics.sink import MetricsFileError, json_problem, read_rows_and_tail

TARGET_HINT = "give a run directory (e.g. runs/tempest-v0) or the path of its metrics.jsonl"
_MISSING = "missing required key "
_NOT_A_ROW = "not a metrics row"


class DoctorInputError(Exception):
    """Input the doctor cannot judge; the message names the file (and line and key), `hint` says
    what to do instead."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


@dataclass(frozen=True)
class DoctorTarget:
    """The files a doctor TARGET stands for."""

    metrics: Path
    config: Path | None
    """The run's config.json, or None when there is none to read."""
    events: Path | None = None
    """The run's events.jsonl (guard rollbacks), or None."""


@dataclass(frozen=True)
class MetricsRead:
    """The complete rows of a metrics file, and the bytes of a half-written last line skipped."""

    rows: list[dict[str, Any]]
    partial_tail_bytes: int = 0


@dataclass(frozen=True)
class DoctorReport:
    """What `tempest-dqn doctor` found in one run."""

    metrics: Path
    config: Path | None
    rows: int
    findings: list[Finding]
    partial_tail_bytes: int = 0
    rollback_note: str | None = None
    """Guard mode's rollbacks the doctor replayed, or why it could not read them."""

    @property
    def healthy(self) -> bool:
        """True when the doctor found nothing (only the `healthy` finding)."""
        return all(finding.code == "healthy" for finding in self.findings)

    @property
    def tail_note(self) -> str | None:
        """Says that a half-written last line was skipped, or None."""
        if not self.partial_tail_bytes:
            return None
        return (
            f"skipped the last line ({self.partial_tail_bytes:,} bytes without a newline): "
            "a row the run is still writing"
        )


# ------------------------------------------------------------------------------------ reading


def locate(target: str | os.PathLike[str]) -> DoctorTarget:
    """The metrics file and config.json that TARGET stands for.

    Raises:
        DoctorInputError: TARGET does not exist, or is a directory without metrics.jsonl.
    """
    path = Path(target)
    if path.is_dir():
        metrics = path / METRICS_FILE
        if not metrics.is_file():
            raise DoctorInputError(f"no {METRICS_FILE} in {path}", TARGET_HINT)
        return DoctorTarget(metrics, _beside(metrics, CONFIG_FILE), _beside(metrics, EVENTS_FILE))
    if not path.exists():
        raise DoctorInputError(f"no such file or directory: {path}", TARGET_HINT)
    if path.name != METRICS_FILE:
        return DoctorTarget(path, None)
    return DoctorTarget(path, _beside(path, CONFIG_FILE), _beside(path, EVENTS_FILE))


def _beside(metrics: Path, name: str) -> Path | None:
    candidate = metrics.parent / name
    return candidate if candidate.exists() else None


def read_rollbacks(path: Path | None) -> tuple[list[Rollback], str | None]:
    """Guard mode's rollbacks from an events.jsonl, and a note for the report (or None)."""
    if path is None:
        return [], None
    try:
        rollbacks = guard_rollbacks(read_events(path, strict=False))
    except (OSError, MetricsFileError) as exc:
        return [], f"{path} unreadable ({exc}): guard rollbacks, if any, not taken into account"
    if not rollbacks:
        return [], None
    frames = ", ".join(f"{r.frame:,}" for r in rollbacks)
    return rollbacks, (f"guard mode rolled back {len(rollbacks)} time"
                       f"{'s' * (len(rollbacks) > 1)} ({EVENTS_FILE}): the doctor started over "
                       f"after the rows at frames {frames}, as the live one did")


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise DoctorInputError(f"cannot read {path}: {exc.strerror or exc}") from None


def _row_problem(obj: object) -> str | None:
    """Why `obj` is not a §5 row (the missing keys by name first), or None."""
    if not isinstance(obj, dict):
        return f"not a JSON object but {type(obj).__name__}"
    problems = validate_row(obj)
    missing = [p.removeprefix(_MISSING) for p in problems if p.startswith(_MISSING)]
    if len(missing) > len(REQUIRED_KEYS) // 2:  # e.g. events.jsonl given by mistake
        named = ", ".join(missing[:3])
        return (
            f"{_NOT_A_ROW}: {len(missing)} of the {len(REQUIRED_KEYS)} required keys are "
            f"missing ({named}, ...)"
        )
    others = [p for p in problems if not p.startswith(_MISSING)]
    if len(missing) > 1:
        others.insert(0, "missing required keys " + ", ".join(missing))
    elif missing:
        others.insert(0, _MISSING + missing[0])
    return "; ".join(others) or None


def read_metrics(path: str | os.PathLike[str]) -> MetricsRead:
    """Every row of a metrics.jsonl, strictly (`metrics.sink.read_rows_and_tail` with the §5
    contract's problems in the doctor's words); blank lines are skipped.

    A last line without a newline that is not JSON is a row being written (a live run): it is
    skipped and counted in `partial_tail_bytes`.  A last line without a newline that is JSON is a
    complete row and must be a valid one.

    Raises:
        DoctorInputError: "<path>:<line>: not JSON (...)", "<path>:<line>: missing required key
            'loss'" and the like, for the first bad line; or the file cannot be read.
    """
    path = Path(path)
    try:
        rows, tail = read_rows_and_tail(path, strict=False, validator=_row_problems)
    except MetricsFileError as err:
        hint = TARGET_HINT if err.problem.startswith(_NOT_A_ROW) else None
        raise DoctorInputError(str(err), hint) from None
    except OSError as exc:
        raise DoctorInputError(f"cannot read {path}: {exc.strerror or exc}") from None
    return MetricsRead(rows, partial_tail_bytes=tail)


def _row_problems(obj: dict) -> list[str]:
    problem = _row_problem(obj)
    return [problem] if problem else []


def load_settings(path: str | os.PathLike[str]) -> tuple[dict[str, Any], DoctorConfig]:
    """A run's config.json: the whole document (the doctor's `settings`) and its doctor section.

    Accepts what `agent.rundir` writes ({"product", "version", "config": {sections}}) and a bare
    {sections} document.  Without a `doctor` section (older versions) the thresholds are the
    defaults.

    Raises:
        DoctorInputError: the file is not JSON, not an object, or its doctor section has an unknown
            field or a value `train` would refuse (the message names the field).
    """
    path = Path(path)
    hint = "repair it, or move it aside to use the default thresholds and generic advice"
    try:
        document = json.loads(_read_bytes(path))
    except ValueError as exc:
        line = f":{exc.lineno}" if isinstance(exc, json.JSONDecodeError) else ""
        raise DoctorInputError(f"{path}{line}: {json_problem(exc)}", hint) from None
    sections = document.get("config", document) if isinstance(document, dict) else None
    if not isinstance(sections, dict):
        raise DoctorInputError(f"{path}: not a configuration (a JSON object of sections)", hint)
    doctor = sections.get("doctor", {})
    if not isinstance(doctor, dict):
        raise DoctorInputError(f"{path}: the doctor section must be an object of fields", hint)
    try:
        cfg = config.from_dict({"doctor": doctor})
        config.validate(cfg)
    except config.ConfigError as exc:
        raise DoctorInputError(f"{path}: {exc}".replace("\n", f"\n{path}: "), hint) from None
    return document, cfg.doctor


# ------------------------------------------------------------------------------------ judging


def examine(target: str | os.PathLike[str]) -> DoctorReport:
    """Reads TARGET (run directory or metrics file) and diagnoses every row.

    Raises:
        DoctorInputError: anything that makes the input unjudgeable (see `locate`, `read_metrics`,
            `load_settings`).
    """
    where = locate(target)
    settings, cfg = load_settings(where.config) if where.config else ({}, DoctorConfig())
    read = read_metrics(where.metrics)
    rollbacks, rollback_note = read_rollbacks(where.events)
    findings = diagnose(read.rows, cfg, settings, rollbacks)
    return DoctorReport(where.metrics, where.config, len(read.rows), findings,
                        read.partial_tail_bytes, rollback_note)


# ----------------------------------------------------------------------------------- rendering


def render_text(report: DoctorReport) -> str:
    """The readable report: `format_report`'s summary line, which settings were used, a note on a
    skipped half-written line, then the findings (or "no rows yet")."""
    header, *body = format_report(
        report.findings, source=str(report.metrics), rows=report.rows
    ).splitlines()
    if report.config:
        notes = [f"settings: {report.config}"]
    else:
        notes = [f"settings: no {CONFIG_FILE} (default thresholds, generic advice)"]
    if report.tail_note:
        notes.append(f"note: {report.tail_note}")
    if report.rollback_note:
        notes.append(f"note: {report.rollback_note}")
    if not report.rows:
        body = ["no rows yet: nothing to judge until the run writes its first metrics row"]
    return "\n".join([header, *notes, *body])


def render_json(findings: Sequence[Finding]) -> str:
    """One JSON object per finding per line (`Finding.to_dict`), the healthy finding included."""
    return "\n".join(json.dumps(finding.to_dict()) for finding in findings)
