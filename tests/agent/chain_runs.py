"""Training runs on the fake chain env, built the same way by every test of the loop: a small,
fast configuration (`chain_cfg`) and a trainer whose envs label their own states
(`chain_trainer`)."""

from __future__ import annotations

import torch

import config
from agent.rundir import open_run_dir
from agent.trainer import Trainer
from tests.fakes import ChainVectorEnv

LENGTH = 6


def self_labelled(env, _env_cfg):
    """The fakes label their own states: no expert wrapper."""
    return env


def chain_cfg(tmp_path, **overrides) -> config.Config:
    settings = {"env.num_envs": 4, "replay.capacity": 4000, "replay.sample_threads": 1,
                "learner.batch_size": 32, "learner.micro_batches": 1, "learner.lr": 3e-3,
                "learner.hidden_sizes": "32", "learner.replay_ratio": 4.0,
                "learner.learning_starts": 200, "learner.gamma": 0.9, "learner.tau": 0.05,
                "actor.epsilon_decay_frames": 1500, "run.frames": 3000,
                "run.run_dir": str(tmp_path), "run.name": "chain", "metrics.interval_s": 0.0,
                **overrides}
    return config.apply_overrides(config.get_preset("smoke"), settings)


def chain_trainer(cfg, env_kind=ChainVectorEnv) -> Trainer:
    torch.manual_seed(0)
    return Trainer(cfg, open_run_dir(cfg), lambda env_cfg: env_kind(env_cfg.num_envs, LENGTH),
                   label=self_labelled)
