"""A `latest` that rots: which generations verify, `--resume-from`, and nothing deleted."""

from __future__ import annotations

import pytest
import torch

from agent import generations
from agent.checkpoint import CheckpointError, latest_checkpoint, save_checkpoint
from agent.rundir import RunPaths
from replay import ReplayFormatError, persist
from tests.agent.chain_runs import chain_cfg, chain_trainer
from tests.agent.checkpoint_cases import small_replay


def _flip_a_byte(file) -> None:
    data = bytearray(file.read_bytes())
    data[-1] ^= 0xFF
    file.write_bytes(bytes(data))


@pytest.fixture
def paths(tmp_path) -> RunPaths:
    """A run with three generations of tiny tensors and a small replay."""
    run = RunPaths(tmp_path)
    for value in (1.0, 2.0, 3.0):
        save_checkpoint(run.checkpoints, {"w": torch.full((2,), value)}, {"v": value},
                        small_replay(), keep=5)
    return run


def test_replay_verify_reads_every_column_and_names_the_bad_one(paths):
    replay = paths.checkpoints / "gen-000003" / "replay"
    persist.verify(replay)  # intact
    _flip_a_byte(replay / "reward.npy")
    with pytest.raises(ReplayFormatError, match="reward: checksum mismatch"):
        persist.verify(replay)
    (replay / "reward.npy").write_bytes(b"\x93NUMPY")
    with pytest.raises(ReplayFormatError, match="reward: cannot read"):
        persist.verify(replay)


def test_the_listing_says_which_generations_verify_newest_first(paths):
    _flip_a_byte(paths.checkpoints / "gen-000003" / "replay" / "obs.npy")
    (paths.checkpoints / "gen-000001" / "model.safetensors").write_bytes(b"junk")
    lines = generations.describe(paths.checkpoints).splitlines()
    assert [line.split(":")[0].strip() for line in lines] == [
        "gen-000003 (latest)", "gen-000002", "gen-000001"]
    assert "obs: checksum mismatch" in lines[0] and lines[1].endswith(": intact")
    assert "model.safetensors cannot be read" in lines[2]


def test_resume_from_picks_a_named_or_the_newest_intact_generation(paths):
    _flip_a_byte(paths.checkpoints / "gen-000003" / "replay" / "obs.npy")
    assert generations.choose(paths.checkpoints, "latest-good").name == "gen-000002"
    assert generations.choose(paths.checkpoints, "gen-000001").name == "gen-000001"
    assert generations.choose(paths.checkpoints, "1").name == "gen-000001"
    with pytest.raises(CheckpointError, match=r"gen-000003 does not verify.*\n.*gen-000003"):
        generations.choose(paths.checkpoints, "3")
    with pytest.raises(CheckpointError, match="--resume-from 9: no such generation"):
        generations.choose(paths.checkpoints, "9")


def test_no_intact_generation_is_said_plainly(paths):
    for number in (1, 2, 3):
        (paths.checkpoints / f"gen-00000{number}" / "state.json").write_text("{")
    with pytest.raises(CheckpointError, match="no generation in .* verifies"):
        generations.choose(paths.checkpoints, "latest-good")
    message = generations.unloadable_message(paths.checkpoints, "latest: corrupt")
    assert message.endswith("none of them verifies") and "--resume-from" not in message


def test_the_newer_generations_are_archived_whole_and_latest_moves_back(paths):
    bad = paths.checkpoints / "gen-000003"
    _flip_a_byte(bad / "replay" / "obs.npy")
    before = {p.relative_to(bad): p.read_bytes() for p in bad.rglob("*") if p.is_file()}
    folder = generations.set_aside_newer(paths, paths.checkpoints / "gen-000001")
    assert folder.parent == paths.archive and folder.name.endswith("-unloadable")
    assert sorted(p.name for p in folder.iterdir()) == ["gen-000002", "gen-000003"]
    moved = folder / "gen-000003"
    assert {p.relative_to(moved): p.read_bytes() for p in moved.rglob("*") if p.is_file()} == before
    assert latest_checkpoint(paths.checkpoints).name == "gen-000001"
    assert [g.name for g in generations.generations(paths.checkpoints)] == ["gen-000001"]


def test_a_rotten_latest_lists_the_generations_and_resume_from_continues(tmp_path):
    settings = {"run.frames": 400, "run.keep_checkpoints": 5}
    first = chain_trainer(chain_cfg(tmp_path, **settings))
    first.run()
    first.save("an older generation")  # two generations at frame 400
    frame = first.actor.frame
    first.actor.frame += 1  # a newer generation, whose replay will rot
    first.counters.frame = first.actor.frame
    first.save("the newest")
    latest = latest_checkpoint(first.paths.checkpoints)
    _flip_a_byte(latest / "replay" / "obs.npy")
    with pytest.raises(CheckpointError) as refused:
        chain_trainer(chain_cfg(tmp_path, **settings)).resume()
    message = str(refused.value)
    assert f"{latest.name} (latest): unloadable" in message
    assert "--resume-from latest-good" in message
    assert latest_checkpoint(first.paths.checkpoints) == latest  # nothing moved by the refusal
    again = chain_trainer(chain_cfg(tmp_path, **settings, **{"run.resume_from": "latest-good"}))
    assert again.resume() and again.actor.frame == frame
    assert latest_checkpoint(again.paths.checkpoints).name != latest.name
    kept = list(again.paths.archive.glob("*-unloadable/*"))
    assert [p.name for p in kept] == [latest.name]
    events = again.paths.events.read_text()
    assert "resumed from gen-000002: the newer generations are kept in" in events
