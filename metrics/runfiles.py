"""The names of a run directory's entries (DESIGN.md §4.2), defined once: the trainer writes them,
the dashboard, the doctor, the plot and the control channel read them.

    runs/<name>/
      config.json     the resolved configuration, with the product version
      metrics.jsonl   one row per interval
      events.jsonl    checkpoints, commands, findings, warnings, errors
      game.json       a snapshot of game 0 for the dashboard's game view
      control/        commands from the dashboard, consumed by the trainer
      checkpoints/    numbered generations and `latest`
      archive/        what --fresh moved aside: archive/<timestamp>/...
"""

from __future__ import annotations

CONFIG_FILE = "config.json"
METRICS_FILE = "metrics.jsonl"
EVENTS_FILE = "events.jsonl"
GAME_VIEW_FILE = "game.json"
CONTROL_DIR = "control"
CHECKPOINTS_DIR = "checkpoints"
ARCHIVE_DIR = "archive"
