"""The expert beside the env: `info["expert_action"]` on every reset and step.

The environments know nothing of experts (`envs` may not import `expert`), so the expert rides on
the vector env as a wrapper: after each reset and step it reads the observation and info (the
Tempest expert reads the simulator's live state, `info["state"]`) and adds its proposal for the
state just returned.  The training loop then mixes it in (expert.mix) and stores it as the
label whoever acted, which is what the agreement metric measures.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

from config import TEMPEST_ENV_ID, EnvConfig, ExpertConfig
from expert.protocol import Expert


def make_expert(env_cfg: EnvConfig, expert_cfg: ExpertConfig) -> Expert | None:
    """The expert for `env_cfg.id`, or None when the curriculum is off or the game has none.

    Tempest-v0: the expert of the system this replaces (`expert.policy` "auto") or the game's own
    attract-mode AI ("attract"); ALE/Pong-v5 and ALE/Breakout-v5: the screen experts; any other
    ALE game: None (the mixer then never hands the expert a step).
    """
    if not expert_cfg.enabled:
        return None
    if env_cfg.id == TEMPEST_ENV_ID:
        from envs.tempest.actions import ACTION_SETS
        from expert.tempest import AttractModeExpert, TempestExpert

        table = ACTION_SETS[env_cfg.action_set]
        kind = AttractModeExpert if expert_cfg.policy == "attract" else TempestExpert
        return kind(env_cfg.num_envs, table, seed=env_cfg.seed)
    from expert.ale import ale_expert_for

    return ale_expert_for(env_cfg.id, env_cfg.num_envs)


class ExpertLabels(VectorWrapper):
    """Adds `info["expert_action"]` ((N,) int64, NO_ACTION where the expert has no opinion)."""

    def __init__(self, env: VectorEnv, expert: Expert):
        super().__init__(env)
        self.expert = expert
        if callable(getattr(env, "step_async", None)):  # keep the env pipelined (agent.actor)
            self.step_async = env.step_async
            self.step_wait = self._labelled_wait

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        obs, info = self.env.reset(**kwargs)
        self._ended = np.zeros(self.num_envs, bool)
        self._forget(np.ones(self.num_envs, bool))
        info["expert_action"] = self.expert.act(obs, info)
        return obs, info

    def step(self, actions: np.ndarray):
        return self._labelled(*self.env.step(actions))

    def _labelled_wait(self):
        return self._labelled(*self.env.step_wait())

    def _labelled(self, obs, reward, terminated, truncated, info):
        """One step's answer with the expert's proposal for the states it returns."""
        reset_step = np.asarray(info.get("reset_step", self._ended), bool)  # NEXT_STEP autoreset
        self._ended = np.asarray(terminated, bool) | np.asarray(truncated, bool)
        if reset_step.any():
            self._forget(reset_step)
        info["expert_action"] = self.expert.act(obs, info)
        return obs, reward, terminated, truncated, info

    def _forget(self, mask: np.ndarray) -> None:
        """A new episode: the expert drops its per-game memory (e.g. the zap cooldown)."""
        reset = getattr(self.expert, "reset", None)
        if reset is not None:
            reset(mask)


def with_expert(env: VectorEnv, env_cfg: EnvConfig, expert_cfg: ExpertConfig) -> VectorEnv:
    """`env` labelled by its expert, or `env` itself when there is none."""
    expert = make_expert(env_cfg, expert_cfg)
    return env if expert is None else ExpertLabels(env, expert)
