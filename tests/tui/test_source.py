"""tui.source, tui.eventlog, tui.keys: the disk side, command receipts and key semantics."""

from __future__ import annotations

import json
import shutil

from tests.tui.helpers import CONFIG, append_rows, make_row, write_run
from tui import eventlog, keys, source
from tui.source import RunSource, status_line


def test_a_directory_that_never_existed_then_appears(tmp_path):
    run = RunSource(tmp_path / "run")
    assert run.poll().state == source.MISSING_DIR
    write_run(tmp_path / "run", rows=None)
    first = run.poll()
    assert (first.state, first.config) == (source.NO_METRICS, CONFIG)
    assert run.poll().config is None  # config.json is handed over once


def test_rows_events_and_their_increments(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0)], events=[{"t": 1.0, "kind": "info"}])
    run = RunSource(run_dir)
    first = run.poll()
    assert (first.state, len(first.rows), len(first.events)) == (source.OK, 1, 1)
    append_rows(run_dir, [make_row(1)])
    second = run.poll()
    assert ([r["frame"] for r in second.rows], second.events) == ([24_000], [])


def test_a_half_written_first_line_is_not_a_row_yet(tmp_path):
    run_dir = write_run(tmp_path / "run", rows=[], tail='{"t": 2.0, "fra')
    poll = RunSource(run_dir).poll()
    assert (poll.state, poll.rows, poll.partial_bytes, poll.problems) == (
        source.NO_ROWS, [], True, [])


def test_a_malformed_line_is_reported_and_skipped(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0)], tail="not json\n")
    append_rows(run_dir, [make_row(1)])
    poll = RunSource(run_dir).poll()
    assert [r["frame"] for r in poll.rows] == [12_000, 24_000]
    assert len(poll.problems) == 1 and poll.problems[0].startswith("metrics.jsonl:2: not JSON")


def test_a_deleted_directory_is_told_apart_from_a_missing_one(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0)])
    run = RunSource(run_dir)
    run.poll()
    shutil.rmtree(run_dir)
    assert run.poll().state == source.DELETED_DIR


def test_a_bad_config_is_reported_once_until_fixed(tmp_path):
    run_dir = write_run(tmp_path / "run", [make_row(0)], config=None)
    (run_dir / "config.json").write_text("{")
    run = RunSource(run_dir)
    assert len(run.poll().problems) == 1
    assert run.poll().problems == []
    (run_dir / "config.json").write_text(json.dumps(CONFIG))
    assert run.poll().config == CONFIG


def test_status_lines(tmp_path):
    assert status_line(source.MISSING_DIR, tmp_path, 0, "", None, False) == (
        f"run directory not found, waiting for it: {tmp_path}", "warn")
    assert status_line(source.DELETED_DIR, tmp_path, 1200, "", None, False) == (
        f"run directory deleted, showing the last 1,200 rows: {tmp_path}", "bad")
    assert status_line(source.NO_METRICS, tmp_path, 0, "", None, False)[0] == (
        f"waiting for metrics.jsonl in {tmp_path}")
    text, tone = status_line(source.OK, tmp_path, 5, "x.jsonl:2: not JSON", 40.0, False)
    assert text.endswith("x.jsonl:2: not JSON") and tone == "bad"  # a bad line outranks staleness
    assert status_line(source.OK, tmp_path, 5, "", 40.0, False) == (
        "no new row for 40 s, is the trainer running? 5 rows", "warn")
    assert status_line(source.OK, tmp_path, 5, "", None, False) == (
        f"5 rows of metrics.jsonl in {tmp_path}", "")


# ---- events and receipts ------------------------------------------------------------------------


def test_pending_commands_are_settled_by_their_file_name():
    pending = eventlog.PendingCommands()
    pending.add("0001-1-0.json", "expert off")
    pending.add("0002-1-1.json", "lr x2")
    receipts = pending.settle([
        {"t": 1.0, "kind": "info", "message": "evaluation"},
        {"t": 2.0, "kind": "command", "message": "expert off", "file": "0001-1-0.json"},
        {"t": 3.0, "kind": "warning", "message": "ignored", "file": "0002-1-1.json",
         "rejected": "unknown argument"},
    ])  # fmt: skip
    assert receipts == [eventlog.Receipt("expert off", "expert off", True),
                        eventlog.Receipt("lr x2", "unknown argument", False)]  # fmt: skip
    assert len(pending) == 0


def test_pending_commands_forget_the_oldest_beyond_their_limit():
    pending = eventlog.PendingCommands(limit=2)
    for n in range(3):
        pending.add(f"{n}.json", "save")
    assert pending.settle([{"kind": "command", "file": "0.json"}]) == []
    assert len(pending) == 2


def test_event_lines_and_tones():
    finding = {"t": 75.0, "kind": "finding", "code": "q_divergence", "frame": 2_500_000,
               "severity": "warning", "message": "q_max 950 rose 40x", "advice": "lower lr"}
    assert eventlog.line(finding) == " 1m15s warning    q_divergence @2.50M: q_max 950 rose 40x"
    assert (eventlog.tone(finding), eventlog.advice(finding)) == ("warn", "lower lr")
    checkpoint = {"t": 3.0, "kind": "checkpoint", "message": "saved latest/"}
    assert eventlog.line(checkpoint) == "    3s checkpoint saved latest/"
    assert eventlog.tone(checkpoint) == "good"
    assert eventlog.tone({"kind": "finding", "code": "healthy", "severity": "info"}) == "good"
    events = [checkpoint, finding]
    assert eventlog.newest_first(events) == [finding, checkpoint]
    assert eventlog.newest_first(events, "finding") == [finding]


# ---- keys ---------------------------------------------------------------------------------------


def test_t_sends_the_opposite_of_the_state_shown():
    assert keys.training_command("training") == "pause"
    assert keys.training_command("evaluating") == "pause"
    assert keys.training_command("paused") == "resume"
    assert keys.training_command("pausing…") == "resume"


def test_o_and_e_force_the_expert_then_hand_back_to_the_schedule():
    assert keys.expert_command("off", "schedule") == {"value": "off"}
    assert keys.expert_command("off", "expert off") == {"value": "auto"}
    assert keys.expert_command("on", "expert off") == {"value": "on"}
    assert keys.expert_command("on", "expert only") == {"value": "auto"}


def test_command_labels():
    assert keys.command_label("expert", {"value": "auto"}) == "expert schedule"
    assert keys.command_label("expert_ratio", {"value": "up"}) == "expert ratio up"
    assert keys.command_label("save", {}) == "save"


def test_every_key_is_bound_once():
    names = [k.key for k in keys.KEYS]
    assert len(names) == len(set(names))
