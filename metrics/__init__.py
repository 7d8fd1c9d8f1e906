"""The run's files as a contract: metrics rows, rolling windows, sinks, events, control, doctor.

- `runfiles`: the names of a run directory's entries, defined once.
- `schema`: the §5 row — `REQUIRED_KEYS`, `validate_row`, `IntervalAccumulator` (fed during an
  interval, closes it into one complete row).
- `windows`: `DqnWindows` — DQN1M, DQN5M and the DQN5M slope over per-episode values.
- `sink`: `JsonlWriter`, `read_rows` (strict / lenient), `RowFollower` for live readers.
- `events`: `EventLog` and `read_events` for events.jsonl.
- `control`: the control channel — `send_command` (dashboard side), `CommandInbox` (trainer side).
- `gameview`: game.json, a snapshot of game 0 for the dashboard's game view — `write_game_view`,
  `read_game_view`, `validate_game_view`.
- `doctor`: the training doctor — `Doctor` (live, row by row), `diagnose` (a recorded run),
  `Finding`, `format_report`, the finding `CODES` and the `GUARD_CODES` guard mode acts on.

No torch, not even lazily: the dashboard imports this package and must start in a blink.  Only
the standard library, numpy and `config` are imported.
"""

from metrics.control import COMMANDS, BadCommand, Command, CommandInbox, send_command
from metrics.doctor import CODES, GUARD_CODES, SEVERITIES, Doctor, Finding, diagnose, format_report
from metrics.events import EVENT_KINDS, EventLog, read_events
from metrics.gameview import read_game_view, validate_game_view, write_game_view
from metrics.schema import (
    REQUIRED_KEYS,
    VERSION_2_KEYS,
    VERSION_3_KEYS,
    IntervalAccumulator,
    validate_row,
)
from metrics.sink import JsonlWriter, MetricsFileError, RowFollower, read_rows
from metrics.windows import DqnWindows

__all__ = [
    "CODES",
    "COMMANDS",
    "EVENT_KINDS",
    "GUARD_CODES",
    "REQUIRED_KEYS",
    "VERSION_2_KEYS",
    "VERSION_3_KEYS",
    "SEVERITIES",
    "BadCommand",
    "Command",
    "CommandInbox",
    "Doctor",
    "DqnWindows",
    "EventLog",
    "Finding",
    "IntervalAccumulator",
    "JsonlWriter",
    "MetricsFileError",
    "RowFollower",
    "diagnose",
    "format_report",
    "read_events",
    "read_game_view",
    "read_rows",
    "send_command",
    "validate_game_view",
    "validate_row",
    "write_game_view",
]
