"""One acting process: a vector env with its expert's labels, a CPU copy of the network, and the
in-process `Actor`, recording chunks instead of writing a replay.

This is the body of a Ray actor (agent/ray_actors.py wraps it with `ray.remote`), but it knows
nothing of Ray: the tests drive it directly, and a transport other than Ray would reuse it.  It
acts on one core (torch's threads 1), as Ape-X's actors do: the cores of a host are shared out
by running one acting process per core.
"""

from __future__ import annotations

import dataclasses
import os

import numpy as np
import torch

import config
import envs
from agent.actor import Actor
from agent.chunks import Chunk, ChunkRecorder
from agent.gameview import find_state, tempest_view
from aimodel import build_q_network
from expert.labels import with_expert


class ActingNetwork:
    """The acting copy of the Q-network: loaded from the learner's weights, greedy on a batch."""

    def __init__(self, obs_shape: tuple[int, ...], num_actions: int,
                 learner_cfg: config.LearnerConfig):
        self.net = build_q_network(obs_shape, num_actions, learner_cfg).eval()
        self.version = -1
        """The weights' version (learner steps when they were sent); -1: initial weights."""

    @torch.no_grad()
    def greedy(self, obs: np.ndarray) -> np.ndarray:
        """(B,) argmax_a Q(obs, a)."""
        return self.net(torch.from_numpy(np.ascontiguousarray(obs))).argmax(dim=1).numpy()

    def load(self, version: int, weights: dict[str, np.ndarray]) -> None:
        """The learner's weights (`weights_of` arrays) become the acting ones."""
        self.net.load_state_dict({name: torch.from_numpy(np.array(array))
                                  for name, array in weights.items()})
        self.version = version


def weights_of(net: torch.nn.Module) -> dict[str, np.ndarray]:
    """A network's state as plain arrays (what travels to acting processes)."""
    return {name: tensor.detach().to("cpu", torch.float32).numpy().copy()
            for name, tensor in net.state_dict().items()}


def actor_seed(seed: int, index: int) -> int:
    """The seed of acting process `index` for a run seeded `seed`: distinct per process, and the
    in-process actor's own for process 0."""
    return seed + 1_000_003 * index


def compile_kernels(env_cfg: config.EnvConfig, expert_cfg: config.ExpertConfig) -> None:
    """Steps a throwaway one-env copy of the envs, labels included, so that numba compiles its
    kernels (or loads them from the host's cache) while the learner waits for the processes to
    start, not inside a first chunk that the gone timeout would count; the real envs' random
    streams are untouched."""
    one = dataclasses.replace(env_cfg, num_envs=1)
    env = with_expert(envs.make_vector_env(one), one, expert_cfg)
    try:
        env.reset(seed=0)
        for _ in range(2):
            env.step(np.zeros(1, np.int64))
    finally:
        env.close()


class ActingProcess:
    """The envs, the expert's labels, the acting network and the actor of one acting process.

    Args:
        cfg: the run's configuration as `config.to_dict` data (plain, for any transport).
        index: which process this is (its streams in the learner's replay follow from it).
        seed: seeds its envs and its exploration.
    """

    def __init__(self, cfg: dict, index: int, seed: int):
        torch.set_num_threads(1)
        self.cfg = config.from_dict(cfg)
        self.index = index
        env_cfg = dataclasses.replace(self.cfg.env, seed=seed)
        compile_kernels(env_cfg, self.cfg.expert)
        self.env = with_expert(envs.make_vector_env(env_cfg), env_cfg, self.cfg.expert)
        obs_shape = self.env.single_observation_space.shape
        self.network = ActingNetwork(obs_shape, int(self.env.single_action_space.n),
                                     self.cfg.learner)
        self.recorder = ChunkRecorder(self.env.num_envs, len(obs_shape) == 3)
        self.actor = Actor(self.env, self.recorder, self.network.greedy,
                           envs.frames_per_step(env_cfg), seed=seed)

    def describe(self) -> dict:
        """What the learner needs to know of this process: its pid and its envs' shapes."""
        return {"pid": os.getpid(), "num_envs": self.env.num_envs,
                "obs_shape": tuple(self.env.single_observation_space.shape),
                "num_actions": int(self.env.single_action_space.n)}

    def set_weights(self, version: int, weights: dict[str, np.ndarray]) -> int:
        self.network.load(version, weights)
        return version

    def act(self, steps: int, epsilon: float, expert_ratio: float) -> Chunk:
        """`steps` vector steps at this exploration; the transitions and games as one chunk."""
        episodes, frames = [], self.actor.frame
        for _ in range(steps):
            episodes += self.actor.step(epsilon, expert_ratio).episodes
        chunk = self.recorder.take()
        chunk.frames, chunk.episodes = self.actor.frame - frames, episodes
        chunk.has_expert, chunk.version, chunk.actor = (self.actor.has_expert,
                                                        self.network.version, self.index)
        chunk.pid = os.getpid()
        chunk.epsilon, chunk.expert_ratio = epsilon, expert_ratio
        state = find_state(self.env) if self.index == 0 else None
        chunk.game_view = None if state is None else tempest_view(state, 0)
        return chunk

    def set_start_waves(self, waves, probabilities) -> bool:
        """Tempest's start-wave distribution (the curriculum); False where the env has none."""
        setter = getattr(self.env.unwrapped, "set_start_waves", None)
        if setter is None:
            return False
        setter(waves, probabilities)
        return True

    def close(self) -> None:
        self.env.close()
