"""save/load: exact round trip, atomic replacement, and refusal of damaged or mismatched saves."""

from __future__ import annotations

import json

import numpy as np
import pytest

from replay import ReplayBuffer, ReplayFormatError
from tests.replay.conftest import drive


def _buffer(**kwargs) -> ReplayBuffer:
    settings = dict(capacity=90, num_envs=3, obs_shape=(4,), prioritized=True, n_step=3, seed=5)
    return ReplayBuffer(**{**settings, **kwargs})


def _state(buf: ReplayBuffer) -> list[np.ndarray]:
    arrays = [buf.obs_SF, buf.action_S, buf.reward_S, buf.flags_S, buf.source_S, buf.expert_S,
              buf.sampleable_S, buf.write_count_N, buf.episode_start_N]
    return [a.copy() for a in arrays] + ([buf.tree.sum_T.copy(), buf.tree.min_T.copy()]
                                         if buf.tree is not None else [])


def _assert_same(a: list[np.ndarray], b: list[np.ndarray]) -> None:
    assert len(a) == len(b)
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("steps", [0, 7, 80], ids=["empty", "partly-filled", "wrapped"])
@pytest.mark.parametrize("obs_shape", [(4,), (2, 3, 3)], ids=["vectors", "frames"])
def test_round_trip_is_exact_and_continues_identically(tmp_path, rng, steps, obs_shape):
    buf = _buffer(obs_shape=obs_shape)
    drive(buf, None, steps, rng)
    if steps:
        batch = buf.sample(16)
        buf.update_priorities(batch.indices, rng.random(16))
    buf.save(tmp_path / "replay")
    other = _buffer(obs_shape=obs_shape, seed=99)
    drive(other, None, 13, np.random.default_rng(1))  # load must replace, not merge
    other.load(tmp_path / "replay")
    _assert_same(_state(other), _state(buf))
    assert other.max_priority == buf.max_priority
    if steps:
        # the generator state came along
        for a, b in zip(buf.sample(8), other.sample(8), strict=True):
            np.testing.assert_array_equal(a, b)


def test_save_replaces_an_older_save_and_leaves_no_temporaries(tmp_path, rng):
    buf = _buffer()
    drive(buf, None, 10, rng)
    buf.save(tmp_path / "replay")
    drive(buf, None, 10, rng)
    buf.save(tmp_path / "replay")
    assert [p.name for p in tmp_path.iterdir()] == ["replay"]
    loaded = _buffer()
    loaded.load(tmp_path / "replay")
    _assert_same(_state(loaded), _state(buf))


def _saved(tmp_path, rng):
    buf = _buffer()
    drive(buf, None, 40, rng)
    buf.save(tmp_path / "replay")
    return tmp_path / "replay"


def _corrupt_byte(path):
    data = bytearray(path.read_bytes())
    data[-3] ^= 0xFF
    path.write_bytes(bytes(data))


def _truncate(path):
    path.write_bytes(path.read_bytes()[:-10])


def _edit_header(path, **changes):
    header = json.loads(path.read_text())
    header.update(changes)
    path.write_text(json.dumps(header))


DAMAGE = [
    pytest.param(lambda d: _corrupt_byte(d / "obs.npy"), "obs: checksum mismatch", id="bit-flip"),
    pytest.param(lambda d: _truncate(d / "reward.npy"), "reward: .* truncated", id="truncated"),
    pytest.param(lambda d: (d / "flags.npy").unlink(), "flags: cannot read", id="missing-file"),
    pytest.param(lambda d: (d / "header.json").write_text("{nope"), "not valid JSON",
                 id="bad-json"),
    pytest.param(lambda d: (d / "header.json").unlink(), "header.json is missing",
                 id="no-header"),
    pytest.param(lambda d: _edit_header(d / "header.json", format_version=99), "format_version",
                 id="version"),
    pytest.param(lambda d: _edit_header(d / "header.json", write_count=[1, 2]), "write_count",
                 id="counts"),
    pytest.param(lambda d: _edit_header(d / "header.json", rng_state={"x": 1}), "rng_state",
                 id="rng"),
]


@pytest.mark.parametrize("damage,message", DAMAGE)
def test_a_damaged_save_is_refused_and_changes_nothing(tmp_path, rng, damage, message):
    path = _saved(tmp_path, rng)
    damage(path)
    target = _buffer(seed=3)
    drive(target, None, 9, np.random.default_rng(2))
    before = _state(target)
    with pytest.raises(ReplayFormatError, match=message):
        target.load(path)
    _assert_same(_state(target), before)


@pytest.mark.parametrize("kwargs,field", [
    (dict(obs_shape=(5,)), "obs_shape"),
    (dict(num_envs=2), "num_envs"),
    (dict(capacity=150), "capacity_per_env"),
    (dict(prioritized=False), "prioritized"),
    (dict(obs_dtype="float16"), "obs_dtype"),
])
def test_a_mismatched_layout_names_the_field(tmp_path, rng, kwargs, field):
    path = _saved(tmp_path, rng)
    with pytest.raises(ReplayFormatError, match=f"^{field}: the save has"):
        _buffer(**kwargs).load(path)


def test_loading_a_missing_directory_says_so(tmp_path):
    with pytest.raises(ReplayFormatError, match="no replay save"):
        _buffer().load(tmp_path / "nothing")


def test_saved_arrays_hold_no_pickles(tmp_path, rng):
    path = _saved(tmp_path, rng)
    for file in path.glob("*.npy"):
        np.load(file, allow_pickle=False)  # raises if any column were an object array
