"""Greedy evaluation: during training every `actor.eval_every_frames`, and `tempest-dqn eval`.

Evaluation plays on its own environments with fixed seeds, with the network alone (epsilon
`actor.eval_epsilon`, no expert, nothing stored), so its numbers measure the policy and not the
curriculum.  Each environment plays a fixed quota of episodes, so the result does not favour
short episodes (taking the first K episodes to finish would).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

import config
import envs
from agent.actor import Actor
from agent.games import GameRecord, GameRecorder, summarize


@dataclass
class EvalResult:
    scores: list[float]
    """Game points of each episode."""
    returns: list[float]
    """Sum of the rewards the learner sees (clipped where the env clips) of each episode."""
    games: list[GameRecord] = field(default_factory=list)
    """Each episode's record (waves, deaths, frames) when the env was a GameRecorder."""

    @property
    def mean_score(self) -> float:
        return float(np.mean(self.scores))

    @property
    def mean_return(self) -> float:
        return float(np.mean(self.returns))

    def as_dict(self) -> dict:
        result = {"episodes": len(self.scores), "mean_score": self.mean_score,
                  "std_score": float(np.std(self.scores)), "mean_return": self.mean_return,
                  "scores": self.scores, "returns": self.returns}
        if self.games:
            result["summary"] = summarize(self.games)
            result["games"] = [game.as_dict() for game in self.games]
        return result


EVAL_ENVS_MAX = 64
"""Evaluations play at most this many games at once (more would only add memory)."""


def eval_env_count(episodes: int, env: config.EnvConfig) -> int:
    """Envs of an evaluation: one per episode (the episodes are then played in one round, and
    none is played only to be thrown away), up to EVAL_ENVS_MAX or the training's count if
    that is larger."""
    return max(1, min(episodes, max(EVAL_ENVS_MAX, env.num_envs)))


class EvalRequestError(ValueError):
    """An evaluation the game cannot play as asked (a user error: the message says why)."""


def eval_env_config(env: config.EnvConfig, episodes: int, seed: int, protocol: str | None = None,
                    start_wave: int | None = None) -> config.EnvConfig:
    """The env an evaluation plays on: one env per episode, `seed`, and for Tempest the
    protocol ("life": each episode one life; "game": whole games; None: as `env` trains) and the
    start wave (None: the training's).  ALE games are whole games under either (a lost life
    continues the game) and have no waves: asking for "life" or a wave there is an error."""
    changes: dict = {"num_envs": eval_env_count(episodes, env), "seed": seed}
    if env.id != config.TEMPEST_ENV_ID:
        if protocol == "life":
            raise EvalRequestError(f"{env.id} is evaluated in whole games (a lost life continues "
                                   "the game); the one-life protocol is Tempest's")
        if start_wave is not None:
            raise EvalRequestError(f"{env.id} has no waves; --start-wave is Tempest's")
        return replace(env, **changes)
    if start_wave is not None and not 1 <= start_wave <= 99:
        raise EvalRequestError(f"--start-wave must be a wave from 1 to 99, got {start_wave}")
    if protocol is not None:
        changes["episodic_life"] = protocol == "life"
    if start_wave is not None:
        changes["start_wave"] = start_wave
    return replace(env, **changes)


def evaluate(greedy: Callable[[np.ndarray], np.ndarray], env, episodes: int, epsilon: float,
             seed: int, frames_per_step: int = 1, expert_share: float = 0.0) -> EvalResult:
    """Play `episodes` episodes on `env` (its envs share them evenly) and close it.

    `expert_share` > 0 hands that share of the actions to the env's expert (its labels); the
    rest are `greedy`'s, `epsilon`-greedy."""
    quota = -(-episodes // env.num_envs)
    actor = Actor(env, None, greedy, frames_per_step, seed=seed)
    actor.reset(seed=seed)
    done = np.zeros(env.num_envs, np.int64)
    played: list[tuple[int, int, float, float]] = []
    try:
        while (done < quota).any():
            for env_id, episode in actor.step(epsilon, expert_share).finished_by_env():
                if done[env_id] < quota:
                    played.append((int(done[env_id]), env_id, episode.score, episode.reward))
                    done[env_id] += 1
    finally:
        env.close()
    chosen = sorted(played)[:episodes]  # by (round, env), never by finishing time
    records = env.records if isinstance(env, GameRecorder) else None
    games = [records[env_id][k] for k, env_id, *_ in chosen] if records is not None else []
    return EvalResult([p[2] for p in chosen], [p[3] for p in chosen], games)


def evaluate_expert(env, episodes: int, epsilon: float, seed: int,
                    frames_per_step: int = 1) -> EvalResult:
    """The expert by the network's protocol: the same episodes and seeds, its actions where it
    has one, and `epsilon` of uniformly random actions (an evaluation's noise) in place of the
    network's.  `env` must label its states (`info["expert_action"]`)."""
    rng = np.random.default_rng(seed)
    actions = int(env.single_action_space.n)

    def uniform(obs: np.ndarray) -> np.ndarray:
        return rng.integers(0, actions, len(obs))

    return evaluate(uniform, env, episodes, 0.0, seed, frames_per_step, 1.0 - epsilon)


class RunEvaluations:
    """A training run's evaluations: the network on envs of their own without the expert's
    labels, on fixed seeds (the same every time), and once the expert by the same protocol (the
    imitation gate's G_expert); each is logged in the run's events.

    Args:
        cfg: the run's configuration (`actor.eval_*`, the env).
        make_env: builds a vector env for an EnvConfig.
        label: puts the expert's labels on an env.
        events: the run's events log.
    """

    def __init__(self, cfg: config.Config, make_env, label, events) -> None:
        self.actor_cfg, self.make_env, self.label, self.events = cfg.actor, make_env, label, events
        self.seed = cfg.env.seed + 1_000_003
        protocol = cfg.actor.eval_protocol if cfg.env.id == config.TEMPEST_ENV_ID else None
        self.env_cfg = eval_env_config(cfg.env, cfg.actor.eval_episodes, cfg.env.seed, protocol)
        self.frames_per_step = envs.frames_per_step(cfg.env)

    def due(self, frame_before: int, frame: int) -> bool:
        """An evaluation is due when a step crossed a multiple of `actor.eval_every_frames`."""
        every = self.actor_cfg.eval_every_frames
        return every > 0 and frame // every > frame_before // every

    def network(self, greedy: Callable[[np.ndarray], np.ndarray], frame: int) -> EvalResult:
        a = self.actor_cfg
        result = evaluate(greedy, self.make_env(self.env_cfg), a.eval_episodes, a.eval_epsilon,
                          seed=self.seed, frames_per_step=self.frames_per_step)
        self.events.log("info", f"evaluation at frame {frame}: mean score "
                        f"{result.mean_score:.2f} over {len(result.scores)} episodes",
                        frame=frame, scores=result.scores)
        return result

    def at_wave(self, greedy: Callable[[np.ndarray], np.ndarray], wave: int, episodes: int,
                frame: int) -> list[GameRecord]:
        """The start-wave curriculum's evaluation (agent.curriculum): `episodes` one-life
        episodes started at `wave`, on the evaluation seeds, recorded."""
        env_cfg = eval_env_config(self.env_cfg, episodes, self.env_cfg.seed, "life", wave)
        result = evaluate(greedy, GameRecorder(self.make_env(env_cfg)), episodes,
                          self.actor_cfg.eval_epsilon, seed=self.seed,
                          frames_per_step=self.frames_per_step)
        return result.games

    def expert(self, frame: int) -> EvalResult:
        a = self.actor_cfg
        labelled = self.label(self.make_env(self.env_cfg), self.env_cfg)
        result = evaluate_expert(labelled, a.eval_episodes, a.eval_epsilon, self.seed,
                                 self.frames_per_step)
        self.events.log("info", f"the expert, by the same protocol on the same seeds: mean "
                        f"score {result.mean_score:.2f} over {len(result.scores)} episodes "
                        "(the imitation gate's G_expert, measured once)",
                        frame=frame, scores=result.scores)
        return result
