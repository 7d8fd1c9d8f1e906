"""The learner's side of the loop: a batch sampled into one of two reused buffers, the learner's
step on it, the acting copy refreshed, and the step's priorities and statistics booked.

Why two buffers and "booked": on a GPU the learner decides and reports a step on the device
(`Learner.step_async`); the host books step t after it has queued step t+1, so the device
computes step t while the host samples batch t+1, and step t's numbers have landed by the time
they are read (its priorities reach the replay a step later).  The buffer a queued step reads is
never refilled: batches alternate between the two (pinned memory on a GPU, for asynchronous
copies).  On a CPU every step is booked at once.
"""

from __future__ import annotations

import config
import envs
from agent.acting import ActingCopy
from aimodel import Learner, PendingStep, host_batch
from metrics import IntervalAccumulator
from replay import ReplayBuffer
from replay.types import Batch


def build_learner(cfg: config.Config, obs_shape: tuple[int, ...], num_actions: int) -> Learner:
    """The learner `cfg` describes for an env of `obs_shape` and `num_actions`: its learning
    rate decays over the run's learner steps, its imitation margin is in the env's Q units, and
    its margin compares the env's classes of actions where `imitation.by_class` asks."""
    learner_steps = cfg.run.frames * cfg.learner.replay_ratio / cfg.learner.batch_size
    classes = envs.action_classes(cfg.env) if cfg.imitation.by_class else None
    return Learner(obs_shape, num_actions, cfg.learner, seed=cfg.env.seed,
                   decay_steps=max(1, int(learner_steps)),
                   imitation_margin=config.imitation_margin(cfg), action_classes=classes)


class LearnerFeed:
    """Feeds `learner` from `replay` one step at a time; `acting`, when set, is the actor's
    copy of the network, refreshed after every step."""

    def __init__(self, replay: ReplayBuffer, learner: Learner, batch_size: int) -> None:
        self.replay, self.learner, self.batch_size = replay, learner, batch_size
        self.batches = [host_batch(replay.empty_batch(batch_size), learner.device)
                        for _ in range(2)]
        """Two batch buffers, in pinned memory for a GPU: one is filled while the other's
        step may still be copying it to the device."""
        self._turn = 0
        self.in_flight: tuple[PendingStep, Batch] | None = None
        """A deferred learner's last queued step, booked after the next one is queued."""
        self.acting: ActingCopy | None = None

    def step(self, beta: float, acc: IntervalAccumulator) -> None:
        """One learner step on a batch sampled with importance exponent `beta`; its numbers go
        into `acc` (a deferred learner's: the previous step's)."""
        self._turn ^= 1  # the other buffer: its step has been booked
        batch = self.replay.sample(self.batch_size, beta=beta, out=self.batches[self._turn])
        flight = (self.learner.step_async(batch), batch)
        if self.acting is not None:
            self.acting.sync(self.learner.online)
        if self.learner.deferred:
            flight, self.in_flight = self.in_flight, flight
        self._book(flight, acc)

    def book_in_flight(self, acc: IntervalAccumulator) -> None:
        """Books the step a deferred learner still has in flight (before a save or rollback)."""
        flight, self.in_flight = self.in_flight, None
        self._book(flight, acc)

    def _book(self, flight: tuple[PendingStep, Batch] | None, acc: IntervalAccumulator) -> None:
        """A queued step's new priorities and statistics (none for a skipped step)."""
        if flight is None:
            return
        pending, batch = flight
        stats = self.learner.resolve(pending)
        if stats.skipped:
            return
        self.replay.update_priorities(batch.indices, stats.td_error)
        acc.add_learner_step(loss=stats.loss, grad_norm=stats.grad_norm,
                             clip_delta=stats.clip_delta, clipped=stats.clipped,
                             q_min=stats.q_min, q_max=stats.q_max, q_mean=stats.q_mean,
                             batch_size=len(batch.reward), agreement_hits=stats.agreement[0],
                             agreement_count=stats.agreement[1],
                             greedy_counts=stats.greedy_hist, imitation=stats.imitation)
