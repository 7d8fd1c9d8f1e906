"""The local Ray cluster a run starts listens on the loopback only; a malformed address to join
is refused before anything starts."""

from __future__ import annotations

import subprocess
import sys

import pytest

import config

LISTENERS = '''
def listeners():
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                if state == "0A":  # LISTEN
                    found.add(local)
    return found
'''


def _loopback(hex_address: str) -> bool:
    """/proc/net's local address: 0100007F:port (IPv4) or the IPv4-mapped/::1 IPv6 forms."""
    host = hex_address.split(":")[0]
    return host in ("0100007F", "00000000000000000000000001000000",
                    "0000000000000000FFFF00000100007F")


def test_a_local_cluster_listens_on_the_loopback_only():
    script = LISTENERS + (
        "import config\n"
        "from agent.ray_cluster import connect, disconnect\n"
        "before = listeners()\n"
        "ray, started = connect(config.RayConfig(num_cpus=1))\n"
        "assert started\n"
        "print(' '.join(sorted(listeners() - before)))\n"
        "disconnect()\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    opened = done.stdout.split()
    assert opened, "Ray's servers should be listening"
    assert [a for a in opened if not _loopback(a)] == []


@pytest.mark.parametrize("address", ["localhost", "10.0.0.1:port", "http://h:6379"])
def test_an_address_to_join_must_be_host_and_port(address):
    cfg = config.apply_overrides(config.Config(), {"ray.address": address})
    with pytest.raises(config.ConfigError, match="ray.address must be HOST:PORT"):
        config.validate(cfg)


def test_ray_acting_needs_streams_for_every_process():
    cfg = config.apply_overrides(config.Config(), {"actors.backend": "ray", "actors.num": 4,
                                                   "replay.capacity": 8 * 32 * 4})
    assert config.replay_streams(cfg) == 128
    with pytest.raises(config.ConfigError, match=r"env.num_envs x actors.num = 8 rows"):
        config.validate(cfg)


def test_without_ray_installed_the_message_says_how_to_get_it(monkeypatch):
    from agent.ray_cluster import RayUnavailableError, import_ray

    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    with pytest.raises(RayUnavailableError, match=r"pip install -e '\.\[distributed\]'"):
        import_ray(local=True)


def test_train_on_ray_without_ray_is_a_user_error_that_writes_nothing(tmp_path):
    script = (
        "import sys\n"
        "sys.modules['ray'] = None\n"
        "from agent.cli import main\n"
        f"sys.exit(main(['train', '--preset', 'smoke', '--no-tui', '--run-dir', "
        f"{str(tmp_path / 'runs')!r}, '--actors.backend', 'ray']))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "Ray is not installed" in done.stderr
    assert not (tmp_path / "runs").exists()
