"""The live doctor: rows in one by one, the findings that begin at each row out.

A condition fires once when it begins (`Finding.frame` is its onset, not the row that confirmed
it) and may fire again only after it has been absent for `rearm_rows` rows: a live run must not
log the same finding every 2 s.  After a guard rollback `restart` forgets the baselines and which
codes are active, since the same problem may come back and must be reported again.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from config import DoctorConfig
from metrics.doctor.advice import Advisor, advice_text
from metrics.doctor.findings import CODES, SEVERITY, Finding
from metrics.doctor.history import Condition, History, Row, is_judged, snapshot
from metrics.doctor.rules import conditions
from metrics.doctor.values import clean, flatten

FINDINGS_KEPT = 10_000
"""Findings a doctor remembers (the newest): each is an onset, rare in a healthy run, but a
condition that comes and goes for a month must not grow the trainer's memory without end."""


@dataclass
class _CodeState:
    active: bool = False
    absent_rows: int = 0


class Doctor:
    """Live: feed rows one by one with `observe`; each call returns the findings new at that row.

    Args:
        cfg: thresholds (default `DoctorConfig()`).
        settings: the run's resolved configuration as dotted keys ({"learner.lr": 0.003, ...});
            nested sections or a whole config.json document are accepted too.  Used for the
            advice's concrete numbers and a few facts (is clipping on, the largest possible Q);
            anything missing gives generic wording.
    """

    def __init__(
        self, cfg: DoctorConfig | None = None, settings: Mapping[str, object] | None = None
    ) -> None:
        self.cfg = cfg or DoctorConfig()
        self._advisor = Advisor(flatten(settings or {}), self.cfg)
        self._findings: deque[Finding] = deque(maxlen=FINDINGS_KEPT)
        self._rows_seen = 0
        self._judged_rows = 0
        self._last_frame = 0
        self._history = History(self.cfg)
        self._states = {code: _CodeState() for code in CODES}

    @property
    def findings(self) -> list[Finding]:
        """Every finding so far (the newest FINDINGS_KEPT), in the order they were made."""
        return list(self._findings)

    @property
    def judged_rows(self) -> int:
        """Rows judged so far (those after learning started)."""
        return self._judged_rows

    def restart(self, settings: Mapping[str, object] | None = None) -> None:
        """Forgets baselines, windows and which codes are active (after a guard rollback the same
        problem may come back and must be reported again); keeps `findings` and the row count.
        New `settings` (the rollback's remedy applied) change the advice from here on."""
        if settings is not None:
            self._advisor = Advisor(flatten(settings), self.cfg)
        self._history = History(self.cfg)
        self._states = {code: _CodeState() for code in CODES}

    def observe(self, row: Mapping[str, Any]) -> list[Finding]:
        """Judges one row (in order); returns the findings that begin at this row."""
        index = self._rows_seen
        self._rows_seen += 1
        skipped = self._history.count_nonfinite(row)
        if not is_judged(row):
            return []
        current = snapshot(index, row)
        self._judged_rows += 1
        self._last_frame = current.frame
        self._history.note(current)
        present = conditions(self._history, self._advisor, current, row, skipped)
        self._history.remember(current)
        new = self._fire(present, current)
        self._findings.extend(new)
        return new

    def healthy(self) -> Finding:
        """The `healthy` finding for the rows seen so far (what `diagnose` returns when nothing
        else was found)."""
        rows, judged, frame = self._rows_seen, self._judged_rows, self._last_frame
        if judged:
            message = (
                f"no problem found in {rows:,} rows ({judged:,} judged, after learning started)"
            )
        else:
            message = f"nothing to judge: none of the {rows:,} rows comes after learning started"
        return Finding(
            code="healthy",
            frame=frame,
            severity="info",
            message=message,
            advice="nothing to change",
            evidence={"rows": rows, "judged_rows": judged},
            row=max(rows - 1, 0),
            detected_frame=frame,
        )

    def _fire(self, present: Mapping[str, Condition | None], current: Row) -> list[Finding]:
        new = []
        for code in CODES[:-1]:
            state, condition = self._states[code], present.get(code)
            if condition is None:
                if state.active:
                    state.absent_rows += 1
                    state.active = state.absent_rows < self.cfg.rearm_rows
                continue
            state.absent_rows = 0
            if not state.active:
                state.active = True
                new.append(self._finding(code, condition, current))
        return new

    def _finding(self, code: str, condition: Condition, current: Row) -> Finding:
        remedies = [r for r in condition.remedies if r is not None]
        hint = self._advisor.guard_hint(code)
        first_change = next((r.overrides for r in remedies if r.overrides), {})
        return Finding(
            code=code,
            frame=condition.onset.frame,
            severity=SEVERITY[code],
            message=condition.message,
            advice=advice_text(remedies + ([hint] if hint else [])),
            evidence=clean(condition.evidence),
            row=current.index,
            detected_frame=current.frame,
            remedy=dict(first_change),
        )
