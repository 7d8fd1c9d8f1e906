"""The actor: steps N vectorised environments, chooses actions, writes replay, counts episodes.

Array names carry their dimension: `_N` per environment, `_M` per environment that stores a
transition this step.  The actor works with any gymnasium `VectorEnv` in NEXT_STEP autoreset
mode (ALE's `AtariVectorEnv`, the Tempest simulator, the test fakes): the step after an episode
ends returns the reset observation, its action is ignored, and it is not stored as a transition.

A vector step has three phases, so a caller can work while the envs step:

    actor.send(epsilon, expert_ratio)   # choose the actions, start the envs on them
    report = actor.book()               # replay writes and episodes of the answered step
    ...                                 # the caller's work (the trainer's learner steps)
    actor.receive()                     # the envs' answer: the next observations

`step()` runs the three in turn.  Pipelining: an env with gymnasium's `step_async(actions)` /
`step_wait()` pair (ALE's adapter, whose emulators run on ALE's own threads) steps between `send`
and `receive`, so `book` books the *previous* step and the caller's work overlaps the emulation
instead of following it; `flush()` books the step in flight (before a checkpoint, at the end).
Why: ALE's worker thread falls asleep when the next action comes late, and waking it costs more
than our bookkeeping (bench loop: a Pong step took 0.42 ms after 0.15 ms of bookkeeping, 0.36 ms
back to back, 0.375 ms with the same bookkeeping done while it ran).  Envs without the pair
(Tempest, the fakes) step in `send`, and `book` books that step at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np

from expert import mix
from replay import NO_EXPERT_ACTION, ReplayBuffer, Source

_DQN, _RANDOM = int(Source.DQN), int(Source.RANDOM)
"""Plain ints: the hot path compares arrays against them (an enum lookup costs each time)."""


@dataclass
class Episode:
    """One finished episode, as the metrics see it."""

    score: float
    """Game points (unclipped) over the whole episode."""
    reward: float
    """Sum of the rewards the learner saw (clipped where the env clips)."""
    dqn_return: float
    """Points collected on steps where the network chose the action (greedy or epsilon)."""
    length: int
    """Agent steps."""
    end_frame: int
    """Total emulator frames (all envs) when it ended."""


@dataclass
class StepReport:
    """What one vector step produced."""

    frames: int
    episodes: list[Episode] = field(default_factory=list)
    env_ids: list[int] = field(default_factory=list)
    """Which env each finished episode came from."""

    def finished_by_env(self) -> list[tuple[int, Episode]]:
        return list(zip(self.env_ids, self.episodes, strict=True))


class _Taken(NamedTuple):
    """One vector step: what the actor saw and did, and what the envs answered."""

    obs_N: np.ndarray
    action_N: np.ndarray
    source_N: np.ndarray
    expert_N: np.ndarray
    next_obs_N: np.ndarray
    reward_N: np.ndarray
    terminated_N: np.ndarray
    truncated_N: np.ndarray
    info: dict[str, Any]


def pipelined(env) -> bool:
    """Whether `env` can step in the background (gymnasium's step_async/step_wait pair)."""
    return callable(getattr(env, "step_async", None)) and callable(getattr(env, "step_wait",
                                                                            None))


class Actor:
    """Epsilon-greedy acting on N envs with replay writes and per-episode bookkeeping.

    Args:
        env: a vector env with NEXT_STEP autoreset.
        replay: where transitions go (None: evaluation, nothing is stored).
        greedy: maps a batch of observations to the network's greedy actions.
        frames_per_step: emulator frames per agent step (ALE: the frame skip; Tempest: 1).
        seed: seeds exploration (which envs act randomly, and how).
    """

    def __init__(self, env, replay: ReplayBuffer | None, greedy: Callable[[np.ndarray], np.ndarray],
                 frames_per_step: int = 1, seed: int = 0):
        self.env, self.replay, self.greedy = env, replay, greedy
        self.num_envs = env.num_envs
        self.num_actions = int(env.single_action_space.n)
        self.frames_per_step = frames_per_step
        self.rng = np.random.default_rng(seed)
        self.frame = 0
        self.obs_N: np.ndarray | None = None
        self.resetting_N = np.zeros(self.num_envs, bool)
        self._no_labels = np.full(self.num_envs, NO_EXPERT_ACTION, np.int64)
        self._all_dqn = np.full(self.num_envs, _DQN, np.uint8)
        self.expert_N = self._no_labels
        self.has_expert = False
        """Whether the env labels its states with an expert's action (info["expert_action"])."""
        self._score_N = np.zeros(self.num_envs)
        self._reward_N = np.zeros(self.num_envs)
        self._dqn_N = np.zeros(self.num_envs)
        self._length_N = np.zeros(self.num_envs, np.int64)
        self.pipelined = pipelined(env)
        self._in_flight: _Taken | None = None
        """Pipelined: the last step taken, answered by the envs, not yet booked."""
        self._seen: tuple[np.ndarray, ...] = ()
        """What the actor saw and chose for the step sent (observations, actions, sources,
        labels)."""
        self._answered: _Taken | None = None
        """The last step the envs answered."""

    def reset(self, seed: int | None = None) -> None:
        """Start every env afresh (the first step of a run, or of an evaluation)."""
        self._in_flight = None
        self.obs_N, info = self.env.reset(seed=seed)
        self.resetting_N[:] = False
        self.expert_N = self._expert_labels(info)
        self._score_N[:] = self._dqn_N[:] = self._reward_N[:] = 0.0
        self._length_N[:] = 0

    def send(self, epsilon: float, expert_ratio: float = 0.0) -> None:
        """Choose this step's actions and start the envs on them.

        With `expert_ratio` > 0 and an env that labels its states (`info["expert_action"]`),
        the expert acts in that share of the envs (expert.mix); the label is stored either way.
        """
        if self.obs_N is None:
            self.reset()
        action_N, source_N = self._act(epsilon, expert_ratio)
        self._seen = (self.obs_N, action_N, source_N, self.expert_N)
        if self.pipelined:
            self.env.step_async(action_N)
        else:
            self._answered = _Taken(*self._seen, *self.env.step(action_N))

    def book(self) -> StepReport:
        """Replay writes and episode accounting of the step the envs have answered and nobody
        has booked: the previous one for a pipelined env (this one is still running), the one
        just sent otherwise."""
        if self.pipelined:
            return self.flush()
        return self._book(self._answered)

    def receive(self) -> None:
        """The envs' answer to the step sent: its observations and labels become current."""
        if self.pipelined:
            self._in_flight = self._answered = _Taken(*self._seen, *self.env.step_wait())
        taken = self._answered
        self.obs_N, self.expert_N = taken.next_obs_N, self._expert_labels(taken.info)

    def step(self, epsilon: float, expert_ratio: float = 0.0) -> StepReport:
        """One whole vector step: `send`, `book`, `receive` (a pipelined env's report is the
        previous step's)."""
        self.send(epsilon, expert_ratio)
        report = self.book()
        self.receive()
        return report

    @property
    def frames_taken(self) -> int:
        """Frames stepped so far, the step in flight included (`frame` counts booked steps)."""
        return self.frame + (self.num_envs * self.frames_per_step
                             if self._in_flight is not None else 0)

    def flush(self) -> StepReport:
        """Books the step in flight (pipelined envs); an empty report when there is none."""
        taken, self._in_flight = self._in_flight, None
        return StepReport(0) if taken is None else self._book(taken)

    def _act(self, epsilon: float, expert_ratio: float) -> tuple[np.ndarray, np.ndarray]:
        """Actions and their sources for the current observations."""
        if expert_ratio > 0.0 and self.has_expert:
            network_N = np.asarray(self.greedy(self.obs_N), np.int64)
            return mix(network_N, self.expert_N, epsilon, expert_ratio, self.num_actions,
                       self.rng)
        return self._choose(epsilon)

    def _book(self, taken: _Taken) -> StepReport:
        """Replay writes and episode accounting of one answered step."""
        info, reward_N = taken.info, taken.reward_N
        # An env that says which steps were resets is believed; otherwise the step after an
        # episode end is one (NEXT_STEP autoreset).
        reset_N = np.asarray(info.get("reset_step", self.resetting_N), bool)
        ended_N = np.asarray(info.get("episode_end", taken.terminated_N | taken.truncated_N),
                             bool)
        any_reset, any_ended = reset_N.any(), ended_N.any()
        if self.replay is not None:
            self._store(taken, reset_N if any_reset else None)
        self.frame += self.num_envs * self.frames_per_step
        points_N = info.get("raw_reward", reward_N)
        if any_reset or any_ended:
            episodes = self._account(points_N, reward_N, taken.source_N, reset_N, ended_N)
            report = StepReport(self.num_envs * self.frames_per_step, episodes,
                                np.flatnonzero(ended_N).tolist())
        else:  # the common step: every env mid-episode
            self._accumulate(points_N, reward_N, taken.source_N)
            report = StepReport(self.num_envs * self.frames_per_step)
        self.resetting_N = ended_N
        return report

    def _store(self, t: _Taken, reset_N: np.ndarray | None) -> None:
        """Write the step's transitions, leaving out the envs whose step was only a reset."""
        continues_N = t.info.get("life_lost")
        if reset_N is None:  # no fancy indexing on the common step
            self.replay.add(t.obs_N, t.action_N, t.reward_N, t.terminated_N, t.truncated_N,
                            t.next_obs_N, t.source_N, t.expert_N, continues=continues_N)
            return
        live_M = np.flatnonzero(~reset_N)
        if live_M.size == 0:
            return
        continues_M = None if continues_N is None else np.asarray(continues_N, bool)[live_M]
        self.replay.add(t.obs_N[live_M], t.action_N[live_M], t.reward_N[live_M],
                        t.terminated_N[live_M], t.truncated_N[live_M], t.next_obs_N[live_M],
                        t.source_N[live_M], t.expert_N[live_M], env_ids=live_M,
                        continues=continues_M)

    def _choose(self, epsilon: float) -> tuple[np.ndarray, np.ndarray]:
        """The network's greedy actions, replaced by random ones with probability epsilon."""
        action_N = np.asarray(self.greedy(self.obs_N), np.int64)
        explore_N = self.rng.random(self.num_envs) < epsilon
        if not explore_N.any():  # the common case late in training: no random draw needed
            return action_N, self._all_dqn
        action_N = np.where(explore_N, self.rng.integers(0, self.num_actions, self.num_envs),
                            action_N)
        source_N = np.where(explore_N, _RANDOM, _DQN).astype(np.uint8)
        return action_N, source_N

    def _accumulate(self, points_N, reward_N, source_N) -> None:
        """Add a step in which no env reset or ended to the running episodes; the points of
        the network's own actions (greedy or epsilon) also count towards its DQN return, the
        expert's do not."""
        points_N = np.asarray(points_N, np.float64)
        self._score_N += points_N
        self._reward_N += reward_N
        self._dqn_N += np.where(source_N <= _RANDOM, points_N, 0.0)
        self._length_N += 1

    def _account(self, points_N, reward_N, source_N, reset_N, ended_N) -> list[Episode]:
        """Add the step's points to the running episodes; return those that just ended.

        An episode here is a whole game (with episodic life, a lost life ends a transition
        window for learning but not the game the score belongs to).
        """
        live_N = ~reset_N
        points_N = np.where(live_N, np.asarray(points_N, np.float64), 0.0)
        network_N = source_N <= _RANDOM  # DQN (0) or RANDOM (1): the network chose
        self._score_N += points_N
        self._reward_N += np.where(live_N, np.asarray(reward_N, np.float64), 0.0)
        self._dqn_N += np.where(network_N, points_N, 0.0)
        self._length_N += live_N
        done_N = ended_N  # may fall on a reset step (ALE reports some game overs late)
        finished = [Episode(float(self._score_N[e]), float(self._reward_N[e]),
                            float(self._dqn_N[e]), int(self._length_N[e]), self.frame)
                    for e in np.flatnonzero(done_N)]
        self._score_N[done_N] = self._dqn_N[done_N] = self._reward_N[done_N] = 0.0
        self._length_N[done_N] = 0
        return finished

    def _expert_labels(self, info: dict) -> np.ndarray:
        labels = info.get("expert_action") if isinstance(info, dict) else None
        self.has_expert = labels is not None
        return self._no_labels if labels is None else np.asarray(labels, np.int64)
