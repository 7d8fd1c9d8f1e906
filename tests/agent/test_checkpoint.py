"""Checkpoint generations: atomic layout, latest, rotation, safe and strict loading."""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

from agent import checkpoint
from agent.checkpoint import (
    CheckpointError,
    latest_checkpoint,
    list_generations,
    load_checkpoint,
    save_checkpoint,
)
from replay import ReplayBuffer
from tests.agent.checkpoint_cases import small_replay
from tests.small_disk import small_filesystem


def _tensors(value: float) -> dict[str, torch.Tensor]:
    return {"online.weight": torch.full((3, 2), value), "step": torch.tensor([7])}


def test_save_then_load_returns_the_same_tensors_state_and_replay(tmp_path):
    replay = small_replay()
    gen = save_checkpoint(tmp_path, _tensors(1.5), {"frames": 123}, replay, keep=3)
    assert latest_checkpoint(tmp_path) == gen
    tensors, state = load_checkpoint(gen)
    assert torch.equal(tensors["online.weight"], torch.full((3, 2), 1.5))
    assert state["frames"] == 123 and state["format_version"] == 1
    restored = ReplayBuffer(60, 2, (3,), n_step=2)
    restored.load(gen / "replay")
    np.testing.assert_array_equal(restored.obs_SF, replay.obs_SF)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporaries


def test_a_model_the_disk_refuses_is_an_os_error_and_leaves_nothing(tmp_path):
    """A full disk while the weights are written is an OSError (ENOSPC) like every other
    write's, which the loop's retry and final-save messages handle; safetensors' own file
    writer reported it as a SafetensorError, which escaped them as a traceback."""
    with small_filesystem(tmp_path / "disk", size_kb=256) as disk:
        with pytest.raises(OSError) as caught:
            save_checkpoint(disk, {"online.weight": torch.zeros(512, 1024)}, {}, None, keep=3)
        assert caught.value.errno == errno.ENOSPC
        assert list(disk.iterdir()) == []  # the half-written generation is gone


def test_generations_rotate_and_latest_moves(tmp_path):
    for value in range(5):
        gen = save_checkpoint(tmp_path, _tensors(value), {"v": value}, None, keep=2)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["gen-000004", "gen-000005", "latest"]
    assert latest_checkpoint(tmp_path) == gen
    assert load_checkpoint(gen)[1]["v"] == 4


def test_a_run_that_never_saved_has_no_latest(tmp_path):
    assert latest_checkpoint(tmp_path) is None


@pytest.mark.parametrize("damage,message", [
    (lambda g: (g / "model.safetensors").write_bytes(b"\x00" * 10), "cannot be read"),
    (lambda g: (g / "model.safetensors").write_bytes(
        (g / "model.safetensors").read_bytes()[:-8]), "cannot be read"),
    (lambda g: (g / "model.safetensors").unlink(), "is missing"),
    (lambda g: (g / "state.json").write_text("{oops"), "not valid JSON"),
    (lambda g: (g / "state.json").write_text(json.dumps({"format_version": 9})),
     "format_version 9"),
], ids=["garbage", "truncated", "missing-model", "bad-json", "version"])
def test_a_damaged_checkpoint_is_refused_and_left_as_it_is(tmp_path, damage, message):
    gen = save_checkpoint(tmp_path, _tensors(2.0), {}, None, keep=3)
    damage(gen)
    before = {p.name: p.read_bytes() for p in gen.iterdir() if p.is_file()}
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(gen)
    assert {p.name: p.read_bytes() for p in gen.iterdir() if p.is_file()} == before


def test_a_dangling_latest_says_how_to_recover(tmp_path):
    gen = save_checkpoint(tmp_path, _tensors(0.0), {}, None, keep=3)
    gen.rename(tmp_path / "moved")
    with pytest.raises(CheckpointError, match="--fresh"):
        latest_checkpoint(tmp_path)


def test_rotation_keeps_pinned_generations(tmp_path):
    first = save_checkpoint(tmp_path, _tensors(0.0), {}, None, keep=2)
    for value in (1.0, 2.0, 3.0):
        save_checkpoint(tmp_path, _tensors(value), {}, None, keep=2,
                        pinned=frozenset({first.name}))
    names = sorted(p.name for p in tmp_path.glob("gen-*"))
    assert names == [first.name, "gen-000003", "gen-000004"]


def test_the_next_save_removes_what_a_crash_left_but_not_a_live_writers_files(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = [f".gen-000002.tmp-{dead.pid}", f".gen-000001.drop-{dead.pid}"]
    for name in left:
        (tmp_path / name).mkdir()
        (tmp_path / name / "state.json").write_text("{}")
    os.symlink("gen-000001", tmp_path / f".latest.tmp-{dead.pid}")
    live = tmp_path / f".gen-000009.tmp-{os.getppid()}"  # a process that runs: not ours
    live.mkdir()
    (tmp_path / ".hidden-by-the-user").write_text("kept")
    save_checkpoint(tmp_path, _tensors(1.0), {}, None, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [".hidden-by-the-user", live.name, "gen-000001", "latest"])


def test_a_drop_cut_short_never_leaves_half_a_numbered_generation(tmp_path, monkeypatch):
    for value in range(2):
        save_checkpoint(tmp_path, _tensors(value), {}, None, keep=2)

    def killed(path, *args, **kwargs):
        raise KeyboardInterrupt  # the process dies inside the delete

    monkeypatch.setattr(checkpoint.shutil, "rmtree", killed)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(tmp_path, _tensors(2), {}, None, keep=2)
    assert [p.name for p in list_generations(tmp_path)] == ["gen-000002", "gen-000003"]
    assert (tmp_path / f".gen-000001.drop-{os.getpid()}" / "state.json").exists()
