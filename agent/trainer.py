"""The training run: envs -> actor -> replay -> learner, with metrics, control and checkpoints.

The trainer is the composition root: it builds the env with its expert's labels (and the
evaluations' envs, the network's without them), the replay, the learner, the actor, the pacer
and the sinks.  One vector step (`step`), top to bottom:

    actor.send(epsilon, expert_ratio)        # act: the envs start stepping
    report = actor.book()                    # store: transitions into the replay, episodes
    for _ in pacer.owed(frame):              # learn: samples per new frame at replay_ratio,
        learn()                              #   while the envs step where they can
    actor.receive()                          # the envs' answer
    every metrics.interval_s: a row (emit); every checkpoint_every_s: a checkpoint

With `actor.learner_thread` the learner steps run on their own thread (agent.background) while
the actor goes on acting on a synced copy of the network; inline (the tests' setting) every run
is deterministic.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import config
import envs
from agent.acting import ActingCopy, acting_device
from agent.actor import Actor, StepReport
from agent.background import BackgroundLearner
from agent.checkpoint import CheckpointError, latest_checkpoint, load_checkpoint, save_checkpoint
from agent.controls import Overrides, apply_commands
from agent.evaluate import EvalResult, eval_env_count, evaluate, evaluate_expert
from agent.gameview import GameViewPublisher
from agent.guard import DoctorOnDuty
from agent.imitation import TeacherScores, imitation_weight_at
from agent.rundir import RunPaths
from agent.schedules import LearnerPacer, beta_at, epsilon_at
from agent.tensorboard_sink import TensorBoardSink
from aimodel import Learner, PendingStep, host_batch
from expert import expert_ratio_at
from expert.labels import with_expert
from metrics import DqnWindows, EventLog, IntervalAccumulator, JsonlWriter
from metrics.control import CommandInbox
from replay import ReplayBuffer, ReplayFormatError
from replay.types import Batch


class MemoryBudgetError(Exception):
    """The configured replay does not fit in the machine's memory."""


def memory_available() -> int | None:
    """Bytes the kernel says can be allocated without swapping (Linux), else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS tells, else the CPU count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


@dataclass
class Counters:
    """Where the run stands; saved with every checkpoint."""

    frame: int = 0
    episodes: int = 0
    schedule_origin: int = 0
    """Frame the epsilon/beta schedules count from (moved by RESET_METRICS)."""


EnvMaker = Callable[[config.EnvConfig], object]
"""Builds a vector env for an EnvConfig (`envs.make_vector_env`, or a fake in tests)."""
Labeller = Callable[[object, config.EnvConfig], object]
"""Puts the expert's labels on a vector env (`expert.labels.with_expert`, or nothing)."""


class Trainer:
    """One run of `tempest-dqn train`.

    Args:
        cfg: the resolved, validated configuration.
        paths: the run directory (already opened).
        make_env: builds a vector env for an EnvConfig (default: the real backends).
        label: puts the expert's labels on an env (default: `with_expert` with `cfg.expert`;
            the tests' fakes label their own states).
        progress: receives one line every `tui.progress_every_s` (no terminal: stdout).
    """

    def __init__(self, cfg: config.Config, paths: RunPaths,
                 make_env: EnvMaker = envs.make_vector_env, label: Labeller | None = None,
                 progress: Callable[[str], None] | None = None):
        self.cfg, self.paths, self.progress = cfg, paths, progress
        self.label = label or (lambda env, env_cfg: with_expert(env, env_cfg, cfg.expert))
        self.make_env = make_env
        self.frames_per_step = envs.frames_per_step(cfg.env)
        self.eval_env_cfg = dataclasses.replace(
            cfg.env, num_envs=eval_env_count(cfg.actor.eval_episodes, cfg.env))
        """The evaluations' envs: one per episode (agent.evaluate)."""
        self.game_view = GameViewPublisher(paths.root)
        """Env 0's game for the dashboard's game view (Tempest; a no-op for ALE)."""
        self.env = self.label(make_env(cfg.env), cfg.env)
        self.pending_eval: EvalResult | None = None
        self.background: BackgroundLearner | None = None
        self.acting: ActingCopy | None = None
        obs_shape = self.env.single_observation_space.shape
        num_actions = int(self.env.single_action_space.n)
        self.replay = self._make_replay(obs_shape)
        decay_steps = max(1, int(cfg.run.frames * cfg.learner.replay_ratio
                                 / cfg.learner.batch_size))
        classes = envs.action_classes(cfg.env) if cfg.imitation.by_class else None
        self.learner = Learner(obs_shape, num_actions, cfg.learner, seed=cfg.env.seed,
                               decay_steps=decay_steps,
                               imitation_margin=config.imitation_margin(cfg),
                               action_classes=classes)
        self.actor = Actor(self.env, self.replay, self.learner.greedy_actions,
                           self.frames_per_step, seed=cfg.env.seed)
        if self.learner.device.type != "cpu":  # the actor never waits on the learner's GPU
            self._act_on_a_copy()
        self.pacer = LearnerPacer(cfg.learner.replay_ratio, cfg.learner.batch_size,
                                  cfg.learner.learning_starts)
        self.windows, self.counters, self.overrides = DqnWindows(), Counters(), Overrides()
        self.acc = IntervalAccumulator(t=0.0, frame=0, episodes=0)
        """The metrics interval being accumulated (`run` starts a fresh one)."""
        self._opened = time.monotonic()
        self.events = EventLog(paths.events, clock=self.run_time)
        """events.jsonl, on the rows' clock (`run_time`): one time axis for both files."""
        self.inbox = CommandInbox(paths.root)
        self.tensorboard = (TensorBoardSink(paths.root / "tensorboard")
                            if cfg.metrics.tensorboard else None)
        self.batches = [host_batch(self.replay.empty_batch(cfg.learner.batch_size),
                                   self.learner.device) for _ in range(2)]
        """Two batch buffers, in pinned memory for a GPU: one is filled while the other's
        step may still be copying it to the device."""
        self._batch_turn = 0
        self._in_flight: tuple[PendingStep, Batch] | None = None
        """A deferred learner's last queued step, booked after the next one is queued."""
        self.duty = DoctorOnDuty(cfg, self.events, paths.checkpoints, self._roll_back_learner)
        """The doctor on every row; guard mode's rollbacks (agent.guard)."""
        self.guard_floor_saved = False
        """Guard mode saved (or had no need to save: a resumed run) its first checkpoint."""
        self.compile_error_told = False
        self.teacher = TeacherScores()
        """The imitation gate's scores: the expert's (measured once) and the network's latest."""
        self.last_epsilon: float | None = None
        self.last_expert_ratio: float | None = None
        self.imitation_weight = 0.0
        """lambda in force (schedule, gate and the control channel's switch), set every step."""
        self.device_change: str | None = None
        """"trained on cuda, continues on cpu" when a resume changed the kind of device."""

    def _make_replay(self, obs_shape) -> ReplayBuffer:
        """The replay buffer, its memory checked against what the machine has, then committed."""
        r = self.cfg.replay
        replay = ReplayBuffer.from_config(r, self.cfg.env.num_envs, obs_shape,
                                          self.cfg.learner.gamma)
        available = memory_available()
        if available is not None and replay.nbytes > 0.9 * available:
            raise MemoryBudgetError(
                f"the replay needs {replay.nbytes / 1e9:.1f} GB ({r.capacity:,} transitions) "
                f"but only {available / 1e9:.1f} GB of memory is available; lower "
                f"--replay.capacity (about {int(r.capacity * 0.8 * available / replay.nbytes):,}"
                f" would fit)")
        replay.prefault()
        return replay

    # -- resume and save ---------------------------------------------------------------------

    def resume(self) -> bool:
        """Load the latest checkpoint if there is one; False for a fresh run.

        Raises:
            CheckpointError: the checkpoint cannot be loaded; it is left untouched and the
                message names the file and the problem.
        """
        generation = latest_checkpoint(self.paths.checkpoints)
        if generation is None:
            return False
        tensors, state = load_checkpoint(generation)
        try:
            self.learner.load_state(tensors, state["learner"])
            self.replay.load(generation / "replay")
        except (ValueError, KeyError, ReplayFormatError) as err:
            raise CheckpointError(f"{generation}: {err}") from None
        self._restore(state)
        self.replay.truncate_streams()  # the envs restart: the saved episodes end here
        self.events.log("info", f"resumed from {generation.name} at frame {self.actor.frame}")
        self._note_device_change(state["learner"].get("device"))
        return True

    def _note_device_change(self, trained_on: str | None) -> None:
        """Says (events, and `device_change` for the CLI) when a run continues on another kind
        of device than it trained on: same weights and state, other arithmetic and speed."""
        here = self.learner.device.type
        if trained_on is None or trained_on == here:
            return
        self.device_change = f"trained on {trained_on}, continues on {here}"
        self.events.log("info", f"the checkpoint was {self.device_change}")

    def _restore(self, state: dict) -> None:
        c = state["counters"]
        self.counters = Counters(c["frame"], c["episodes"], c["schedule_origin"])
        self.actor.frame = self.counters.frame
        self.actor.rng.bit_generator.state = state["actor_rng"]
        self.pacer.load_state(state["pacer"])
        self.windows = DqnWindows.from_state(state["windows"])
        self.teacher = TeacherScores.from_state(state.get("imitation"))
        if self.cfg.run.reset_metrics:
            self.counters.schedule_origin = self.counters.frame
            self.windows.reset()
            self.events.log("info", "RESET_METRICS: schedules and metric windows restart here")

    def save(self, reason: str) -> None:
        """A checkpoint of everything, taken between two learner steps, with the step in
        flight booked first (its transitions belong in the saved replay)."""
        self._count(self.actor.flush())
        hold = self.background.step_lock if self.background else contextlib.nullcontext()
        with hold:
            self._book_in_flight()  # its counters and priorities belong in the checkpoint
            tensors, learner_meta = self.learner.state()
            state = {"counters": self.counters.__dict__ | {"frame": self.actor.frame},
                     "actor_rng": self.actor.rng.bit_generator.state,
                     "pacer": self.pacer.state(), "windows": self.windows.state(),
                     "imitation": self.teacher.state(),
                     "learner": learner_meta, "config": config.to_dict(self.cfg)}
            generation = save_checkpoint(self.paths.checkpoints, tensors, state, self.replay,
                                         self.cfg.run.keep_checkpoints, self.duty.pinned())
        self.events.log("checkpoint", f"saved {generation.name} ({reason})",
                        frame=self.actor.frame, path=str(generation))

    def _roll_back_learner(self, generation: Path | None,
                           changes: dict[str, object]) -> config.LearnerConfig:
        """Guard mode: the learner state of `generation` (None: keep the weights) with the
        learner config `changes` applied, taken between two learner steps."""
        loaded = load_checkpoint(generation) if generation is not None else None
        hold = self.background.step_lock if self.background else contextlib.nullcontext()
        with hold:
            self._book_in_flight()
            if loaded is not None:
                tensors, state = loaded
                self.learner.load_state(tensors, state["learner"])
            self.learner.cfg = dataclasses.replace(self.learner.cfg, **changes)
            self.cfg = dataclasses.replace(self.cfg, learner=self.learner.cfg)
            if self.acting is not None:
                self.acting.sync(self.learner.online)
        return self.learner.cfg

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Train until `run.frames`, a quit command, SIGINT or SIGTERM; always save at the end."""
        stop = _StopFlag()
        self.inbox.discard_pending()  # commands left from an earlier session do not apply
        start = self.run_time()
        acc = self.acc = IntervalAccumulator(t=start, frame=self.actor.frame,
                                             episodes=self.counters.episodes)
        last_row = last_save = start
        if self.uses_learner_thread():
            self.start_learner_thread()
        self.events.log("info", self.learner_mode())
        with JsonlWriter(self.paths.metrics) as writer, stop.installed(), self._background():
            while self.actor.frames_taken < self.cfg.run.frames and not stop.set:
                apply_commands(self.inbox, self.events, self.overrides)
                if self.overrides.quit_requested:
                    break
                now = self.run_time()
                if self.overrides.paused:
                    time.sleep(0.05)
                    if now - last_row >= self.cfg.metrics.interval_s:
                        self._emit(acc, writer, now, state="paused")
                        last_row = now
                    continue
                frame_before = self.actor.frame
                self.step()
                self.game_view.maybe_publish(self.env, self.actor.frame)
                if self._eval_due(frame_before):
                    self._emit(acc, writer, self.run_time(), state="evaluating")
                    self.pending_eval = self._evaluate()
                    last_row = self.run_time()
                now = self.run_time()
                if now - last_row >= self.cfg.metrics.interval_s:
                    self._emit(acc, writer, now)
                    last_row = now
                if self._save_due(now - last_save):
                    self.save("periodic" if not self.overrides.save_requested else "requested")
                    self.overrides.save_requested, last_save = False, now
            self._count(self.actor.flush())
            self._emit(acc, writer, self.run_time())
        reason = "signal" if stop.set else "quit" if self.overrides.quit_requested else "end of run"
        self.save(reason)
        self.env.close()
        self.game_view.close()
        if self.tensorboard is not None:
            self.tensorboard.close()

    def run_time(self) -> float:
        """Seconds since this trainer was made: the `t` of its metrics rows and events."""
        return time.monotonic() - self._opened

    def uses_learner_thread(self) -> bool:
        """`actor.learner_thread`, where the machine has the CPUs for it (the field's doc)."""
        a = self.cfg.actor
        return a.learner_thread and usable_cpus() >= a.learner_thread_min_cpus

    def learner_mode(self) -> str:
        """Where the learner steps run, and why, in a sentence for the events log."""
        a, cpus = self.cfg.actor, usable_cpus()
        if self.uses_learner_thread():
            return f"learner: its own thread beside the actor ({cpus} CPUs)"
        if not a.learner_thread:
            return "learner: inline (actor.learner_thread false)"
        return (f"learner: inline, {cpus} CPUs < actor.learner_thread_min_cpus "
                f"{a.learner_thread_min_cpus} (set it to 0 for the thread)")

    def _act_on_a_copy(self) -> None:
        """The actor's own copy of the network, where `actor.device` puts it."""
        where = acting_device(self.cfg.actor.device, self.learner.device,
                              self.learner.obs_shape)
        self.acting = ActingCopy(self.learner.online, where)
        self.actor.greedy = self.acting.greedy

    def start_learner_thread(self) -> None:
        """Learner steps on their own thread from now on; the actor acts on a synced copy."""
        if self.acting is None:
            self._act_on_a_copy()
        self.background = BackgroundLearner(self.learn)
        self.background.start()

    @contextlib.contextmanager
    def _background(self):
        """Stops the learner thread (after its owed steps) when the loop ends, however."""
        try:
            yield
        finally:
            if self.background is not None:
                self.background.stop()

    def _eval_due(self, frame_before: int) -> bool:
        every = self.cfg.actor.eval_every_frames
        return every > 0 and self.actor.frame // every > frame_before // every

    def _evaluate(self) -> EvalResult:
        """Greedy episodes on separate envs with fixed seeds (the same seeds every time); the
        first time, the expert too, by the same protocol (the imitation gate's G_expert)."""
        a = self.cfg.actor
        greedy = self.acting.greedy if self.acting else self.learner.greedy_actions
        seed = self.cfg.env.seed + 1_000_003
        result = evaluate(greedy, self.make_env(self.eval_env_cfg), a.eval_episodes,
                          a.eval_epsilon, seed=seed, frames_per_step=self.frames_per_step)
        self.events.log("info", f"evaluation at frame {self.actor.frame}: mean score "
                        f"{result.mean_score:.2f} over {len(result.scores)} episodes",
                        frame=self.actor.frame, scores=result.scores)
        self.teacher.net_score = result.mean_score
        if self.teacher.expert_score is None and self.actor.has_expert:
            labelled = self.label(self.make_env(self.eval_env_cfg), self.eval_env_cfg)
            expert = evaluate_expert(labelled, a.eval_episodes, a.eval_epsilon, seed,
                                     self.frames_per_step)
            self.teacher.expert_score = expert.mean_score
            self.events.log("info", f"the expert, by the same protocol on the same seeds: mean "
                            f"score {expert.mean_score:.2f} over {len(expert.scores)} episodes "
                            "(the imitation gate's G_expert, measured once)",
                            frame=self.actor.frame, scores=expert.scores)
        self._refresh_imitation_weight()
        return result

    def _save_due(self, since_save: float) -> bool:
        every = self.cfg.run.checkpoint_every_s
        return self.overrides.save_requested or (every > 0 and since_save >= every)

    def step(self) -> None:
        """One vector step: act, store, learn (while the envs step, where they can)."""
        epsilon, expert_ratio = self._exploration()
        self.actor.send(epsilon, expert_ratio)
        report = self.actor.book()
        self._count(report)
        self._refresh_imitation_weight()
        self._learn_owed()
        self.actor.receive()
        self.last_expert_ratio = expert_ratio if self.actor.has_expert else None
        self.last_epsilon = epsilon

    def _exploration(self) -> tuple[float, float]:
        """(epsilon, the expert's share) in force: the schedules at this frame, through the
        dashboard's overrides."""
        schedule_frame = self.actor.frame - self.counters.schedule_origin
        a = self.cfg.actor
        epsilon = self.overrides.epsilon(epsilon_at(schedule_frame, a.epsilon_start,
                                                    a.epsilon_end, a.epsilon_decay_frames))
        scheduled = expert_ratio_at(schedule_frame, self.cfg.expert)
        self.overrides.scheduled_expert_ratio = scheduled
        return epsilon, self.overrides.expert.ratio(scheduled)

    def _refresh_imitation_weight(self) -> None:
        """lambda for the coming learner steps and rows: after every booked step (the schedule
        moves with the frame) and every evaluation (the gate moves with the scores)."""
        frame = self.actor.frame - self.counters.schedule_origin
        self.learner.imitation_weight = self.imitation_weight = self._imitation_weight(frame)

    def _imitation_weight(self, schedule_frame: int) -> float:
        """lambda in force: the schedule and gate (agent.imitation), 0 without expert labels
        or while switched off by hand."""
        if not self.actor.has_expert:
            return 0.0
        scheduled = imitation_weight_at(schedule_frame, self.cfg.imitation,
                                        self.teacher.net_score, self.teacher.expert_score)
        return self.overrides.imitation_weight(scheduled)

    def _learn_owed(self) -> None:
        """The learner steps the booked frames owe (the replay ratio): inline, or handed to
        the learner thread."""
        owed = self.pacer.owed(self.actor.frame)
        if owed and self.duty.guarding and not self.guard_floor_saved:
            self.guard_floor_saved = True
            if self.learner.learner_steps == 0:  # not a resumed run: it has checkpoints
                self.save("guard mode: the weights before the first learner step")
                self.duty.floor = latest_checkpoint(self.paths.checkpoints)
        if self.background is not None:
            if owed:  # nothing owed: not even the condition's lock (3% of a random-policy step)
                self.background.give(owed)
            return
        for _ in range(owed):
            self.learn()

    def _count(self, report: StepReport) -> None:
        """A booked step's frames and finished episodes into the interval and the windows."""
        if not report.frames:
            return
        self.acc.add_frames(report.frames)
        for episode in report.episodes:
            self.acc.add_episode(episode.score)
            self.windows.add(episode.end_frame, episode.dqn_return)
        self.counters.episodes += len(report.episodes)

    def learn(self) -> None:
        """One learner step: sample, learn, new priorities, statistics into the interval.

        A deferred learner (a GPU) books each step after queueing the next: the device
        computes step t while the host samples batch t+1, and step t's numbers have landed
        by the time they are read (its priorities reach the replay a step later)."""
        r = self.cfg.replay
        schedule_frame = self.actor.frame - self.counters.schedule_origin
        beta = beta_at(schedule_frame, r.beta_start, r.beta_end, r.beta_frames)
        self.learner.lr_scale = self.overrides.lr_factor
        self._batch_turn ^= 1  # the other buffer: its step has been booked
        batch = self.replay.sample(self.cfg.learner.batch_size, beta=beta,
                                   out=self.batches[self._batch_turn])
        flight = (self.learner.step_async(batch), batch)
        if self.acting is not None:
            self.acting.sync(self.learner.online)
        if self.learner.deferred:
            flight, self._in_flight = self._in_flight, flight
        self._book(flight)

    def _book_in_flight(self) -> None:
        """Books the step a deferred learner still has in flight (before a save or rollback)."""
        flight, self._in_flight = self._in_flight, None
        self._book(flight)

    def _book(self, flight: tuple[PendingStep, Batch] | None) -> None:
        """A queued step's new priorities and statistics (none for a skipped step)."""
        if flight is None:
            return
        pending, batch = flight
        stats = self.learner.resolve(pending)
        if stats.skipped:
            return
        self.replay.update_priorities(batch.indices, stats.td_error)
        self.acc.add_learner_step(loss=stats.loss, grad_norm=stats.grad_norm,
                                  clip_delta=stats.clip_delta, clipped=stats.clipped,
                                  q_min=stats.q_min, q_max=stats.q_max, q_mean=stats.q_mean,
                                  batch_size=len(batch.reward), agreement_hits=stats.agreement[0],
                                  agreement_count=stats.agreement[1],
                                  greedy_counts=stats.greedy_hist, imitation=stats.imitation)

    def _report_compile_error(self) -> None:
        """Once: learner.compile fell back to eager, and why (a missing C++ compiler, ...)."""
        error = self.learner.compile_error
        if error and not self.compile_error_told:
            self.compile_error_told = True
            self.events.log("warning", f"learner.compile failed, the learner runs eager: {error}"
                            " (--learner.compile false silences this)")

    def _emit(self, acc: IntervalAccumulator, writer: JsonlWriter, now: float,
              state: str = "training") -> None:
        """Closes the interval into a row (§5 keys, plus `state` and `driver` for the
        dashboard's header) and hands it to the sinks."""
        row = acc.row(now, epsilon=self.last_epsilon, expert_ratio=self.last_expert_ratio,
                      lr=self.learner.current_lr(), learner_steps=self.learner.learner_steps,
                      target_age=self.learner.target_age, replay_size=len(self.replay),
                      nonfinite_steps=self.learner.nonfinite_steps,
                      dqn=self.windows.summary(acc.frame),
                      eval_return=self.pending_eval.mean_return if self.pending_eval else None,
                      eval_score=self.pending_eval.mean_score if self.pending_eval else None,
                      imitation_weight=self.imitation_weight,
                      expert_eval_score=self.teacher.expert_score)
        self.pending_eval = None
        self._report_compile_error()
        row.update(state=state, driver=self.overrides.driver(), device=str(self.learner.device))
        writer.write(row)
        self.duty.examine(row)
        if self.tensorboard is not None:
            self.tensorboard.write(row)
        if self.progress is not None:
            self.progress(progress_line(row))


def progress_line(row: dict) -> str:
    """One line for a terminal without the dashboard: frames, FPS, returns, loss, epsilon."""
    def fmt(key: str, spec: str) -> str:
        value = row.get(key)
        return "-" if value is None else format(value, spec)

    return (f"frame {row['frame']:>11,}  fps {fmt('fps', '7.0f')}  episodes {row['episodes']:>6}"
            f"  return {fmt('return_mean', '8.2f')}  dqn1m {fmt('dqn_return_1m', '8.2f')}"
            f"  loss {fmt('loss', '8.4f')}  eps {fmt('epsilon', '5.3f')}"
            f"  q [{fmt('q_min', '.2f')}, {fmt('q_max', '.2f')}]")


class _StopFlag:
    """SIGINT and SIGTERM end the loop cleanly (the final checkpoint is still written)."""

    def __init__(self) -> None:
        self.set = False

    def _handle(self, signum, frame) -> None:
        self.set = True

    def installed(self):
        import contextlib

        @contextlib.contextmanager
        def scope():
            previous = {s: signal.signal(s, self._handle) for s in (signal.SIGINT, signal.SIGTERM)}
            try:
                yield self
            finally:
                for s, handler in previous.items():
                    signal.signal(s, handler)
        return scope()
