"""Environment backends behind one entry point, `make_vector_env(cfg)` (DESIGN.md §4.3).

* `ALE/<Game>-v5` -> `envs.ale` (ale-py's C++ `AtariVectorEnv`; see that module for the reward
  and info-key conventions, episodic life and the NEXT_STEP reset step).
* `Tempest-v0` -> the built-in simulator, not built yet (issue #4): `EnvNotAvailableError`.

Backends are imported lazily, so `import envs` stays cheap; nothing here imports torch.
"""

from __future__ import annotations

from typing import Any

from config import TEMPEST_ENV_ID, EnvConfig, check_env_id
from envs.errors import EnvNotAvailableError, UnknownEnvError

__all__ = [
    "EnvNotAvailableError",
    "UnknownEnvError",
    "make_vector_env",
    "measure_env_fps",
]

TEMPEST_NOT_YET = (
    "the Tempest simulator arrives with issue #4; use --env ALE/<Game>-v5 meanwhile "
    "(e.g. --env ALE/Pong-v5 or --preset pong)"
)


def make_vector_env(cfg: EnvConfig) -> Any:
    """Builds the vector env for `cfg.id`; call `reset()` before stepping.

    Raises:
        EnvNotAvailableError: `Tempest-v0` (a NotImplementedError: its simulator is not built).
        UnknownEnvError: any other id that is not `ALE/<Game>-v5` for a shipped ROM, with the
            closest valid ids in the message.
    """
    if cfg.id == TEMPEST_ENV_ID:
        raise EnvNotAvailableError(TEMPEST_NOT_YET)
    if cfg.id.startswith("ALE/"):
        from envs.ale import make_ale_vector_env

        return make_ale_vector_env(cfg)
    raise UnknownEnvError(check_env_id(cfg.id) or f"unknown env id {cfg.id!r}")


def measure_env_fps(cfg: EnvConfig, steps: int = 2_000, **kwargs: Any) -> dict[str, Any]:
    """Env throughput with random actions; see `envs.bench.measure_env_fps`."""
    from envs.bench import measure_env_fps as measure

    return measure(cfg, steps, **kwargs)
