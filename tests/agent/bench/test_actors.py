"""`bench actors` on a local Ray cluster, quick: its rows, its ratios read back from the rows, the
shipping cost of a chunk, and the markdown."""

from __future__ import annotations

import pytest

import config
from agent.bench import actors, harness
from agent.ray_cluster import connect, disconnect
from envs.tempest.features import obs_dim

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def cluster():
    ray, _ = connect(config.RayConfig(num_cpus=3))  # the three contenders' processes
    yield ray
    disconnect()


def test_throughput_rows_and_their_ratios(cluster):
    case = actors.case_throughput("tempest", block_s=0.3, rounds=1)
    names = [row["name"] for row in case["rows"]]
    assert names == ["in-process", "ray, 1 process", "ray, 2 processes"]
    assert all(row["median"] > 0 and row["envs"] == 32 for row in case["rows"])
    base = harness.median_of(case["rows"], "in-process")
    for name, ratio in case["ratios"].items():
        assert ratio == pytest.approx(harness.median_of(case["rows"], name) / base)
    assert case["targets"] == []  # the target is Pong's


def test_shipping_a_tempest_chunk(cluster):
    case = actors.case_shipping("tempest", calls=3)
    cfg = config.get_preset("tempest")
    assert case["transitions_per_chunk"] == cfg.env.num_envs * cfg.actors.chunk_steps
    features = case["bytes_per_transition"] - 14  # float32 features, rare final rows, step sizes
    width = obs_dim(cfg.env.lane_map)
    assert 4 * (width - 7) < features < 4 * (width + 13)
    assert case["ship_us_per_transition"] > 0 and case["write_us_per_transition"] > 0
    report = {"cases": [case], "targets": []}
    assert "| tempest | 512 |" in actors.render(report)
