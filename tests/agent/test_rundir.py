"""The run directory: layout, config.json, archiving on --fresh, unusable paths."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest

import config
from agent.rundir import RunDirError, open_run_dir, run_name


def _cfg(tmp_path, **run) -> config.Config:
    cfg = config.get_preset("smoke")
    return replace(cfg, run=replace(cfg.run, run_dir=str(tmp_path), **run))


def test_a_new_run_directory_holds_the_resolved_configuration(tmp_path):
    cfg = _cfg(tmp_path, name="first")
    paths = open_run_dir(cfg)
    assert paths.root == tmp_path / "first"
    assert paths.control.is_dir() and paths.checkpoints.is_dir()
    record = json.loads(paths.config.read_text())
    assert record["product"] == "tempest-dqn" and record["version"]
    assert config.from_dict(record["config"]) == cfg


def test_the_name_defaults_to_the_env_id(tmp_path):
    cfg = _cfg(tmp_path)
    cfg = replace(cfg, env=replace(cfg.env, id="ALE/Pong-v5"))
    assert run_name(cfg) == "ale-pong-v5"


def test_fresh_archives_the_previous_state_and_deletes_nothing(tmp_path):
    paths = open_run_dir(_cfg(tmp_path, name="r"))
    paths.metrics.write_text('{"frame": 1}\n')
    (paths.checkpoints / "gen-000001").mkdir()
    (paths.checkpoints / "gen-000001" / "model.safetensors").write_bytes(b"weights")
    fresh = open_run_dir(_cfg(tmp_path, name="r", force_fresh_model=True))
    archived = list(fresh.archive.iterdir())
    assert len(archived) == 1
    assert (archived[0] / "metrics.jsonl").read_text() == '{"frame": 1}\n'
    assert (archived[0] / "checkpoints/gen-000001/model.safetensors").read_bytes() == b"weights"
    assert not fresh.metrics.exists() and list(fresh.checkpoints.iterdir()) == []
    open_run_dir(_cfg(tmp_path, name="r", force_fresh_model=True))  # twice in one second
    assert len(list(fresh.archive.iterdir())) == 2


def test_a_file_in_the_way_is_a_clear_error(tmp_path):
    (tmp_path / "r").write_text("not a directory")
    with pytest.raises(RunDirError, match="is not a directory"):
        open_run_dir(_cfg(tmp_path, name="r"))


def test_an_unwritable_directory_is_a_clear_error(tmp_path, monkeypatch):
    # Tests run as root in CI, where permission bits do not stop writes: fake the answer.
    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(RunDirError, match="not writable"):
        open_run_dir(_cfg(tmp_path, name="r"))


def test_a_parent_that_cannot_be_created_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    cfg = _cfg(tmp_path, name="r")
    with pytest.raises(RunDirError, match="cannot create the run directory"):
        open_run_dir(replace(cfg, run=replace(cfg.run, run_dir=str(blocker / "sub"))))
