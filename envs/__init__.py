"""Environment backends behind one entry point, `make_vector_env(cfg)` (DESIGN.md §4.3).

* `ALE/<Game>-v5` -> `envs.ale` (ale-py's C++ `AtariVectorEnv`; see that module for the reward
  and info-key conventions, episodic life and the NEXT_STEP reset step).
* `Tempest-v0` -> the built-in simulator (`envs.tempest`): `TempestVectorEnv`.

Importing `envs` registers `Tempest-v0` with gymnasium (a single-env and a vector entry point),
so `gym.make("Tempest-v0")` and `gym.make_vec("Tempest-v0", num_envs=256,
vectorization_mode="vector_entry_point")` work.  Backends are imported lazily, so `import envs`
stays cheap; nothing here imports torch.
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym

from config import TEMPEST_ENV_ID, EnvConfig, check_env_id
from envs.errors import UnknownEnvError

__all__ = [
    "UnknownEnvError",
    "action_classes",
    "frames_per_step",
    "make_vector_env",
]



def _register_tempest() -> None:
    if TEMPEST_ENV_ID not in gym.registry:
        gym.register(TEMPEST_ENV_ID, entry_point="envs.tempest.env:TempestEnv",
                     vector_entry_point="envs.tempest.env:TempestVectorEnv")


_register_tempest()


def make_vector_env(cfg: EnvConfig) -> Any:
    """Builds the vector env for `cfg.id`; call `reset()` before stepping.

    Raises:
        UnknownEnvError: any other id that is not `ALE/<Game>-v5` for a shipped ROM, with the
            closest valid ids in the message.
    """
    if cfg.id == TEMPEST_ENV_ID:
        from envs.tempest.make import make_tempest_vector_env

        return make_tempest_vector_env(cfg)
    if cfg.id.startswith("ALE/"):
        from envs.ale import make_ale_vector_env

        return make_ale_vector_env(cfg)
    raise UnknownEnvError(check_env_id(cfg.id) or f"unknown env id {cfg.id!r}")


def frames_per_step(cfg: EnvConfig) -> int:
    """Emulator frames per agent step: ALE's frame skip, 1 for the Tempest simulator (whose
    step is one game frame); the unit of the `frame` and `fps` metrics."""
    return cfg.frame_skip if cfg.id.startswith("ALE/") else 1


def action_classes(cfg: EnvConfig) -> Any:
    """One class id per action of the env `cfg` builds, actions of a class doing the same thing
    but for their speed or a button that seldom matters (the imitation term's margin over
    classes), or None where every action is its own class."""
    if cfg.id == TEMPEST_ENV_ID:
        from envs.tempest.actions import ACTION_SETS
        from envs.tempest.actions import action_classes as tempest_classes

        return tempest_classes(ACTION_SETS[cfg.action_set])
    from envs.ale import action_classes as ale_classes

    return ale_classes(cfg)
