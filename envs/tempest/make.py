"""`Tempest-v0` from an `EnvConfig`: the fields of the config mapped onto `TempestVectorEnv`."""

from __future__ import annotations

from config import EnvConfig
from envs.tempest.env import TempestVectorEnv
from envs.tempest.reward import RewardParams


def reward_params(cfg: EnvConfig) -> RewardParams:
    """The reward pipeline's settings from the config's `reward_*` fields."""
    return RewardParams(
        death_penalty=cfg.reward_death_penalty,
        objective_scale=cfg.reward_objective_scale,
        subjective_scale=cfg.reward_subjective_scale,
        zap_penalty=cfg.reward_zap_penalty,
        clip=cfg.reward_clip,
    )


def make_tempest_vector_env(cfg: EnvConfig) -> TempestVectorEnv:
    """The simulator with `cfg.num_envs` games; ALE-only fields (frame skip, sticky actions,
    frame stack, no-op starts) do not apply, one step is one game frame."""
    return TempestVectorEnv(
        num_envs=cfg.num_envs,
        start_wave=cfg.start_wave,
        episodic_life=cfg.episodic_life,
        max_episode_frames=cfg.max_episode_frames,
        action_set=cfg.action_set,
        reward=reward_params(cfg),
        seed=cfg.seed,
        lane_map=cfg.lane_map,
        shot_clock=cfg.shot_clock,
        spike_clock=cfg.spike_clock,
    )
