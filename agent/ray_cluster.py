"""Joining or starting the Ray cluster the acting processes run on (`actors.backend = "ray"`).

Only agent/ray_actors.py and this module import Ray, and only when a run asks for it: the
in-process path never loads it (tests/agent/test_ray_import.py).

A local cluster (`ray.address` empty) is private to the run: Ray's dashboard is off, and every
server Ray starts listens on 127.0.0.1 only.  Ray 2.60 resolves a requested 127.0.0.1 to the
host's network address and binds its servers to it (see `resolve_ip_for_localhost`); its
single-host mode (`RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0`, read when Ray is imported, the mode it
uses on macOS and Windows) keeps them on the loopback.  Its token authentication (on by default
for local clusters since Ray 2.59) stays on.  Joining a cluster started with `ray start --head`
sends the token (`RAY_AUTH_MODE=token`; the token is ~/.ray/auth_token or RAY_AUTH_TOKEN, the
same on every host).
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

import config
from agent.machine import usable_cpus

SINGLE_HOST_ENV = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
AUTH_MODE_ENV = "RAY_AUTH_MODE"


class RayUnavailableError(RuntimeError):
    """Ray is not installed, or the cluster to join cannot be reached: a user error (exit 2)."""


def import_ray(local: bool) -> ModuleType:
    """The `ray` module; for a local cluster, imported in single-host mode (127.0.0.1 only);
    to join one, with token authentication on (`ray start` turns it on by default in Ray 2.60,
    and a driver that joins does not unless told: it would be refused), unless the user's
    environment says otherwise."""
    if "ray" not in sys.modules:
        os.environ.setdefault(SINGLE_HOST_ENV if local else AUTH_MODE_ENV,
                              "0" if local else "token")
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            "actors.backend is 'ray' but Ray is not installed; install the distributed extra "
            "(pip install -e '.[distributed]') or use --actors.backend inprocess") from None
    return ray


def connect(ray_cfg: config.RayConfig) -> tuple[ModuleType, bool]:
    """Ray, initialised: joined to `ray_cfg.address`, or a local cluster of `ray_cfg.num_cpus`
    CPUs (default: this process's); and whether this call did it (the caller then shuts it
    down).  Already initialised (a test's cluster): used as it is."""
    ray = import_ray(local=not ray_cfg.address)
    if ray.is_initialized():
        return ray, False
    quiet = {"log_to_driver": False, "configure_logging": False, "include_dashboard": False}
    try:
        if ray_cfg.address:
            ray.init(address=ray_cfg.address, **quiet)
        else:
            # "local": a new cluster even where `ray start` left one running on this host
            ray.init(address="local", num_cpus=ray_cfg.num_cpus or usable_cpus(), **quiet)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = ray_cfg.address or "a local cluster"
        raise RayUnavailableError(
            f"could not start Ray on {where}: {err}. For --ray.address, start the cluster "
            "first with `ray start --head` on that host and pass the address it prints"
        ) from None
    return ray, True


def disconnect() -> None:
    """Shuts down the cluster this process started or joined (a no-op without Ray)."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()
