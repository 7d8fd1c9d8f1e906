"""`--ray.address` joins a cluster started with Ray's own `ray start --head` (token
authentication on, as Ray 2.60 starts it): a short Tempest run trains on it and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from metrics import read_rows

pytestmark = pytest.mark.timeout(300)

REPO = Path(__file__).resolve().parents[2]
RAY = Path(sys.executable).parent / "ray"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for(port: int, head: subprocess.Popen, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert head.poll() is None, "ray start --head exited"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.5)
    raise AssertionError(f"nothing listened on {port}")


def test_a_run_joins_a_cluster_started_with_ray_start(tmp_path):
    port = _free_port()
    env = {**os.environ, "RAY_AUTH_MODE": "token"}
    head = subprocess.Popen([str(RAY), "start", "--head", "--block", "--port", str(port),
                             "--num-cpus", "2", "--include-dashboard", "false",
                             "--disable-usage-stats"], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_for(port, head)
        run = [sys.executable, "-m", "agent", "train", "--preset", "smoke", "--no-tui",
               "--run-dir", str(tmp_path), "--run.name", "joined", "--frames", "1000",
               "--actors.backend", "ray", "--ray.address", f"127.0.0.1:{port}"]
        done = subprocess.run(run, cwd=REPO, capture_output=True, text=True, timeout=240,
                              env={k: v for k, v in os.environ.items() if k != "RAY_AUTH_MODE"})
        assert done.returncode == 0, done.stderr[-3000:]
        assert read_rows(tmp_path / "joined" / "metrics.jsonl")[-1]["frame"] >= 1000
    finally:
        os.killpg(head.pid, signal.SIGTERM)  # --block: the head stops what it started
        head.wait(timeout=60)
