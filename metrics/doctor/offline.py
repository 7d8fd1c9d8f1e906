"""The doctor over a recorded run: every row in order, with guard mode's rollbacks replayed from
events.jsonl, so the weights a rollback put back are not mistaken for a collapse."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from config import DoctorConfig
from metrics.doctor.engine import Doctor
from metrics.doctor.findings import GUARD_CODES, Finding
from metrics.doctor.values import flatten


@dataclass(frozen=True)
class Rollback:
    """A guard-mode rollback, read back from events.jsonl: right after the row at `frame` the
    live doctor started over, with `changes` (dotted overrides) applied to the settings."""

    frame: int
    changes: dict[str, Any]


def guard_rollbacks(events: Iterable[Mapping[str, Any]]) -> list[Rollback]:
    """The rollbacks among a run's events, in order.

    A rollback event names the row it happened at (`frame`); an older one that does not is
    placed at the row where the guard code it answered was detected (the finding logged just
    before it)."""
    rollbacks, detected = [], None
    for event in events:
        if event.get("kind") == "finding" and event.get("code") in GUARD_CODES:
            detected = event.get("detected_frame")
        elif event.get("guard") == "rollback":
            frame = event.get("frame", detected)
            if isinstance(frame, int) and not isinstance(frame, bool):
                rollbacks.append(Rollback(frame, dict(event.get("changes") or {})))
    return rollbacks


def diagnose(
    rows: Iterable[Mapping[str, Any]],
    cfg: DoctorConfig | None = None,
    settings: Mapping[str, object] | None = None,
    rollbacks: Sequence[Rollback] = (),
) -> list[Finding]:
    """Every finding over `rows` in order; exactly one `healthy` finding when there is none.

    `rollbacks` replays guard mode's: the doctor starts over after each rollback's row, as the
    live one did, so the weights put back (a Q range back at its size before the trouble) are
    not mistaken for a collapse."""
    flat, pending = flatten(settings or {}), list(rollbacks)
    doctor = Doctor(cfg, flat)
    for row in rows:
        doctor.observe(row)
        if pending and row.get("frame") == pending[0].frame:
            flat = {**flat, **pending.pop(0).changes}
            doctor.restart(flat)
    return doctor.findings or [doctor.healthy()]
