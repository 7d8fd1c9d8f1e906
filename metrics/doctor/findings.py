"""What the doctor says: the finding codes and severities, a `Finding` (the shape events.jsonl
and `tempest-dqn doctor --json` carry), and the report a person reads."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

CODES: tuple[str, ...] = (
    "q_divergence", "q_collapse", "loss_explosion", "performance_reversal", "grad_instability",
    "clip_saturated", "clip_inactive", "agreement_collapse", "nonfinite", "lr_too_high", "healthy",
)  # fmt: skip
"""Every finding code, `healthy` last (it means: none of the others)."""

GUARD_CODES: frozenset[str] = frozenset({"q_divergence", "loss_explosion", "nonfinite"})
"""Codes on which guard mode (`doctor.guard`) rolls back to the last checkpoint before the onset."""

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")

SEVERITY: dict[str, str] = {
    "q_divergence": "critical", "q_collapse": "critical", "loss_explosion": "critical",
    "nonfinite": "critical", "performance_reversal": "warning", "grad_instability": "warning",
    "clip_saturated": "warning", "clip_inactive": "warning", "agreement_collapse": "warning",
    "lr_too_high": "warning", "healthy": "info",
}  # fmt: skip
"""The severity of each code."""


@dataclass(frozen=True)
class Finding:
    """One problem the doctor recognised, from its onset, with the numbers and the remedy.

    `frame` is the frame of the onset (the first row where the condition began); `row` and
    `detected_frame` are where it was recognised.  `remedy` is the first remedy that is a plain
    configuration change, as dotted overrides (`{"learner.lr": 0.001}`), for guard mode to apply;
    empty when there is none.
    """

    code: str
    frame: int
    severity: str
    message: str
    advice: str
    evidence: dict[str, Any]
    row: int
    detected_frame: int
    remedy: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the shape events.jsonl and `tempest-dqn doctor --json` use)."""
        return {
            "code": self.code,
            "frame": self.frame,
            "severity": self.severity,
            "message": self.message,
            "advice": self.advice,
            "evidence": dict(self.evidence),
            "row": self.row,
            "detected_frame": self.detected_frame,
            "remedy": dict(self.remedy),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The inverse of `to_dict` (e.g. for a finding read back from events.jsonl)."""
        return cls(
            code=str(data["code"]),
            frame=int(data["frame"]),
            severity=str(data["severity"]),
            message=str(data["message"]),
            advice=str(data["advice"]),
            evidence=dict(data.get("evidence") or {}),
            row=int(data["row"]),
            detected_frame=int(data["detected_frame"]),
            remedy=dict(data.get("remedy") or {}),
        )


def format_report(findings: Sequence[Finding], *, source: str, rows: int) -> str:
    """A readable multi-line report: a summary line, then each finding with its advice."""
    lines = [f"Training doctor: {source} ({rows:,} rows)"]
    problems = [f for f in findings if f.code != "healthy"]
    if not problems:
        healthy = next((f for f in findings if f.code == "healthy"), None)
        lines.append("healthy: " + (healthy.message if healthy else "no problem found"))
        return "\n".join(lines)
    counts = {s: sum(f.severity == s for f in problems) for s in reversed(SEVERITIES)}
    summary = ", ".join(
        f"{n} {s}{'s' * (n > 1 and s != 'critical')}" for s, n in counts.items() if n
    )
    lines.append(f"{len(problems)} finding{'s' if len(problems) != 1 else ''}: {summary}")
    wrap = textwrap.TextWrapper(
        width=100, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
    )
    for finding in problems:
        lines += [
            "",
            f"{finding.severity.upper():<8} {finding.code} from frame {finding.frame:,} "
            f"(detected at row {finding.row:,}, frame {finding.detected_frame:,})",
            *wrap.wrap(finding.message),
            *wrap.wrap("advice: " + finding.advice),
        ]
    return "\n".join(lines)
