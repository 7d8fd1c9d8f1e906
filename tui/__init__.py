"""The Textual dashboard of a training run (no torch): `DashboardApp(run_dir)`.

It reads only the run directory's files (metrics.jsonl, events.jsonl, config.json) through
`metrics`, and talks to the trainer only through the run's control channel, so the same app runs
inside `tempest-dqn train` and attached to any run with `tempest-dqn watch RUN_DIR` or
`python -m tui RUN_DIR`.  Modules: `model` (numbers from rows), `eventlog`, `source` (the disk),
`keys`, `widgets`, `charts`, `help`, `app`.
"""
