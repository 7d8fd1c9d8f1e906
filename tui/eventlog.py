"""events.jsonl as the dashboard shows it: one line per event, findings, and command receipts.

Why a receipt: a key press only drops a file into control/; the trainer says it acted on it by
logging a "command" event naming that file (agent/controls.py).  Matching on the file name tells
the user "done" for exactly the command they sent, and "rejected" with the trainer's reason.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

from tui import format as fmt

Event = dict[str, Any]

SEVERITY_TONE = {"critical": "bad", "error": "bad", "high": "bad", "warning": "warn",
                 "warn": "warn", "medium": "warn", "info": "", "low": "", "ok": "good"}  # fmt: skip
KIND_TONE = {"error": "bad", "warning": "warn", "checkpoint": "good", "command": "accent"}


def tone(event: Event) -> str:
    """"bad" / "warn" / "good" / "accent" / "" — how an event is coloured."""
    if event.get("kind") == "finding":
        if event.get("code") == "healthy":
            return "good"
        return SEVERITY_TONE.get(str(event.get("severity", "")).lower(), "warn")
    if event.get("rejected"):
        return "bad"
    return KIND_TONE.get(str(event.get("kind")), "")


def line(event: Event) -> str:
    """One line: run time, kind, what happened."""
    when = fmt.duration(event.get("t")) if isinstance(event.get("t"), int | float) else fmt.MISSING
    kind = str(event.get("kind", "?"))
    if kind == "finding":
        return f"{when:>6} {_finding_text(event)}"
    message = str(event.get("message") or "")
    if event.get("rejected"):
        message = f"{message} (rejected: {event['rejected']})".strip()
    return f"{when:>6} {kind:<10} {message}"


def _finding_text(event: Event) -> str:
    severity = str(event.get("severity", "")).lower() or "finding"
    frame = event.get("frame")
    where = f" @{fmt.si(frame)}" if isinstance(frame, int | float) else ""
    return f"{severity:<10} {event.get('code', '?')}{where}: {event.get('message', '')}"


def advice(event: Event) -> str:
    """A finding's remedy ("" if none)."""
    return str(event.get("advice") or "")


def newest_first(events: Sequence[Event], kind: str | None = None) -> list[Event]:
    """Events (of one `kind`, or all), newest first."""
    return [e for e in reversed(events) if kind is None or e.get("kind") == kind]


class Receipt(NamedTuple):
    """The trainer's answer to a command this dashboard sent."""

    label: str
    message: str
    accepted: bool


class PendingCommands:
    """Commands sent from here, by control-file name, until events.jsonl acknowledges them.

    Bounded: a trainer that is not running never acknowledges, so the oldest are forgotten.
    """

    def __init__(self, limit: int = 200) -> None:
        self._labels: OrderedDict[str, str] = OrderedDict()
        self.limit = limit

    def __len__(self) -> int:
        return len(self._labels)

    def add(self, file_name: str, label: str) -> None:
        self._labels[file_name] = label
        while len(self._labels) > self.limit:
            self._labels.popitem(last=False)

    def settle(self, events: Iterable[Event]) -> list[Receipt]:
        """Receipts for the pending commands that `events` acknowledge (removed from pending)."""
        receipts = []
        for event in events:
            label = self._labels.pop(str(event.get("file")), None)
            if label is None:
                continue
            accepted = event.get("kind") == "command" and not event.get("rejected")
            reason = event.get("rejected") or event.get("message") or event.get("kind", "")
            receipts.append(Receipt(label, str(reason), accepted))
        return receipts
