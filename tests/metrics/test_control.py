"""The control channel: send_command, CommandInbox, parse errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from metrics.control import (
    COMMANDS,
    MAX_FILE_BYTES,
    BadCommand,
    Command,
    CommandInbox,
    describe,
    parse_command,
    send_command,
)


def test_round_trip_of_every_command(tmp_path: Path) -> None:
    sent = [(name, {}) for name, spec in COMMANDS.items() if not spec]
    sent += [(name, {"value": v}) for name, spec in COMMANDS.items() for v in spec.get("value", ())]
    for name, args in sent:
        send_command(tmp_path, name, **args)
    received = CommandInbox(tmp_path).poll()
    assert all(isinstance(c, Command) for c in received)
    assert [(c.name, c.args) for c in received] == sent
    assert all(c.sent_at is not None and c.file.endswith(".json") for c in received)
    assert list((tmp_path / "control").iterdir()) == []  # consumed
    assert CommandInbox(tmp_path).poll() == []


def test_names_sort_by_sending_time(tmp_path: Path) -> None:
    paths = [send_command(tmp_path, "epsilon", value=v) for v in ("up", "down", "auto") * 5]
    assert [p.name for p in paths] == sorted(p.name for p in paths)
    got = [c.args["value"] for c in CommandInbox(tmp_path).poll()]
    assert got == ["up", "down", "auto"] * 5


def test_send_refuses_bad_commands_and_missing_runs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="unknown command 'explode'"):
        send_command(tmp_path, "explode")
    with pytest.raises(ValueError, match="lr: value='x3' is not one of x2, half"):
        send_command(tmp_path, "lr", value="x3")
    with pytest.raises(ValueError, match="missing argument 'value'"):
        send_command(tmp_path, "expert")
    with pytest.raises(ValueError, match="unknown argument"):
        send_command(tmp_path, "pause", value="now")
    with pytest.raises(FileNotFoundError, match="run directory not found"):
        send_command(tmp_path / "nope", "pause")
    assert not (tmp_path / "control").exists() or not any((tmp_path / "control").iterdir())


def _drop(tmp_path: Path, name: str, text: str | bytes) -> None:
    folder = tmp_path / "control"
    folder.mkdir(exist_ok=True)
    data = text.encode() if isinstance(text, str) else text
    (folder / name).write_bytes(data)


def test_malformed_files_become_bad_commands(tmp_path: Path) -> None:
    _drop(tmp_path, "00000000000000000001-1-0.json", "{not json")
    _drop(tmp_path, "00000000000000000002-1-1.json", json.dumps({"command": "dance"}))
    _drop(tmp_path, "00000000000000000003-1-2.json",
          json.dumps({"command": "expert", "args": {"value": "maybe"}}))  # fmt: skip
    _drop(tmp_path, "00000000000000000004-1-3.json", "[1]")
    _drop(tmp_path, "00000000000000000005-1-4.json", json.dumps({"version": 9, "command": "save"}))
    _drop(tmp_path, "00000000000000000006-1-5.json", b"\xff\xfe")
    _drop(tmp_path, "00000000000000000007-1-6.json", "x" * (MAX_FILE_BYTES + 1))
    _drop(tmp_path, "00000000000000000008-1-7.json", json.dumps({"command": "save"}))
    got = CommandInbox(tmp_path).poll()
    reasons = [c.reason for c in got[:-1]]
    assert all(isinstance(c, BadCommand) for c in got[:-1])
    assert reasons[0].startswith("not JSON")
    assert reasons[1].startswith("unknown command 'dance'")
    assert reasons[2] == "expert: value='maybe' is not one of on, off, auto"
    assert reasons[3] == "not a JSON object but list"
    assert reasons[4] == "unsupported version 9"
    assert reasons[5].startswith("not UTF-8")
    assert reasons[6].startswith("larger than")
    assert got[-1] == Command("save", {}, None, "00000000000000000008-1-7.json")
    assert describe(got[1])["rejected"].startswith("unknown command")
    assert describe(got[-1]) == {"command": "save", "args": {}, "file": got[-1].file}


def test_temporary_and_foreign_files_are_left_alone(tmp_path: Path) -> None:
    send_command(tmp_path, "quit")
    _drop(tmp_path, ".tmp-99-0.json", '{"command": "pause"}')
    _drop(tmp_path, "notes.txt", "hello")
    _drop(tmp_path, "manual.json", '{"command": "save"}')  # hand-written: consumed last
    got = CommandInbox(tmp_path).poll()
    assert [c.name for c in got] == ["quit", "save"]
    assert sorted(p.name for p in (tmp_path / "control").iterdir()) == [".tmp-99-0.json",
                                                                        "notes.txt"]  # fmt: skip


def test_discard_pending_and_no_control_dir(tmp_path: Path) -> None:
    inbox = CommandInbox(tmp_path)
    assert inbox.poll() == [] and inbox.pending() == []
    send_command(tmp_path, "pause")
    send_command(tmp_path, "resume")
    assert inbox.discard_pending() == 2
    assert inbox.poll() == []


def test_parse_command_directly() -> None:
    assert parse_command('{"command": "greedy"}') == Command("greedy")
    assert isinstance(parse_command('{"command": "lr", "args": "x2"}'), BadCommand)
