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
is deterministic.  With `actors.backend = "ray"` the actor is `agent.ray_actors.RayActing`: the
same calls, the acting done by Ray processes, and the weights offered to them after the learner
steps.  Resuming and saving live in agent/trainer_checkpoints.py.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import time
from collections.abc import Callable

import config
import envs
from agent.acting import ActingCopy, acting_device
from agent.actor import Actor, StepReport
from agent.background import BackgroundLearner, learner_mode, uses_learner_thread
from agent.checkpoint import latest_checkpoint
from agent.console import StopFlag, progress_line
from agent.controls import Overrides, apply_commands
from agent.curriculum import CurriculumControl, RunCurriculum
from agent.evaluate import EvalResult, RunEvaluations
from agent.gameview import GameViewPublisher
from agent.guard import DoctorOnDuty
from agent.imitation import TeacherScores, imitation_weight_at
from agent.learning import LearnerFeed, build_learner
from agent.lifecycle import announced
from agent.machine import replay_that_fits
from agent.ray_actors import ActorsGoneError, RayActing
from agent.rundir import RunPaths
from agent.schedules import LearnerPacer, beta_at, epsilon_at
from agent.tensorboard_sink import TensorBoardSink
from agent.trainer_checkpoints import Checkpointing, Counters
from agent.writes import RunWrites
from expert import expert_ratio_at
from expert.labels import with_expert
from metrics import DqnWindows, EventLog, IntervalAccumulator, JsonlWriter
from metrics.control import CommandInbox

EnvMaker = Callable[[config.EnvConfig], object]
"""Builds a vector env for an EnvConfig (`envs.make_vector_env`, or a fake in tests)."""
Labeller = Callable[[object, config.EnvConfig], object]
"""Puts the expert's labels on a vector env (`expert.labels.with_expert`, or nothing)."""


class Trainer(Checkpointing):
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
        self.game_view = GameViewPublisher(paths.root)
        """Env 0's game for the dashboard's game view (Tempest; a no-op for ALE)."""
        self.remote = cfg.actors.backend == "ray"
        """Acting runs in Ray processes (agent.ray_actors); `env` is then a one-env copy that
        gives the shapes and the curriculum's waves, never stepped."""
        env_cfg = dataclasses.replace(cfg.env, num_envs=1) if self.remote else cfg.env
        self.env = self.label(make_env(env_cfg), env_cfg)
        self.pending_eval: EvalResult | None = None
        self.background: BackgroundLearner | None = None
        obs_shape = self.env.single_observation_space.shape
        self.replay = replay_that_fits(cfg, obs_shape)
        self.learner = build_learner(cfg, obs_shape, int(self.env.single_action_space.n))
        self.feed = LearnerFeed(self.replay, self.learner, cfg.learner.batch_size)
        """Sample, step, priorities and statistics (agent.learning)."""
        self.pacer = LearnerPacer(cfg.learner.replay_ratio, cfg.learner.batch_size,
                                  cfg.learner.learning_starts)
        self.windows, self.counters, self.overrides = DqnWindows(), Counters(), Overrides()
        self.acc = IntervalAccumulator(t=0.0, frame=0, episodes=0)
        """The metrics interval being accumulated (`run` starts a fresh one)."""
        self._opened = time.monotonic()
        self.events = EventLog(paths.events, clock=self.run_time)
        """events.jsonl, on the rows' clock (`run_time`): one time axis for both files."""
        self.writes = RunWrites(self.events, paths.checkpoints)
        """What happens when a write fails (agent.writes): training goes on."""
        self.game_view.on_write = self.writes.game_view_written
        self.actor = self._make_actor()
        self.writes.check_space(self.replay.nbytes, self.learner.online.parameters())
        self.evaluations = RunEvaluations(cfg, make_env, self.label, self.events)
        set_waves = getattr(self.env.unwrapped, "set_start_waves", None)
        if set_waves is not None and self.remote:
            set_waves = self.actor.set_start_waves
        self.curriculum = RunCurriculum(cfg.curriculum, set_waves, self.evaluations.at_wave,
                                        self.events.log)
        self.curriculum.apply()
        self.inbox = CommandInbox(paths.root)
        self.tensorboard = (TensorBoardSink(paths.root / "tensorboard")
                            if cfg.metrics.tensorboard else None)
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
        self.stop_message: str | None = None
        """Why the run stopped early on its own (Ray's acting processes gone), for the CLI."""
        self.device_change: str | None = None
        """"trained on cuda, continues on cpu" when a resume changed the kind of device."""

    def _make_actor(self) -> Actor | RayActing:
        """The in-process actor, or Ray's acting processes (`actors.backend`)."""
        if self.remote:
            return RayActing(self.cfg, self.replay, self.events.log)
        actor = Actor(self.env, self.replay, self.learner.greedy_actions,
                      envs.frames_per_step(self.cfg.env), seed=self.cfg.env.seed)
        if self.learner.device.type != "cpu":  # the actor never waits on the learner's GPU
            self._act_on_a_copy(actor)
        return actor

    # -- the loop ------------------------------------------------------------------------------

    def run(self) -> None:
        """Train until `run.frames`, a quit command, SIGINT or SIGTERM; always save at the end.
        events.jsonl says when the run started and how it ended (agent.lifecycle)."""
        with announced(self.events, lambda: self.actor.frame) as ending:
            try:
                ending.reason = self._loop_or_actors_gone()
                self.writes.final_checkpoint(lambda: self.save(ending.reason), self.actor.frame)
            finally:
                self._close()

    def _loop_or_actors_gone(self) -> str:
        """`_loop`; with Ray, a run whose acting processes are all gone ends (and saves) too,
        its reason in `stop_message` for the command line."""
        try:
            return self._loop()
        except ActorsGoneError as err:
            self.stop_message = str(err)
            self.events.log("error", self.stop_message)
            return "acting processes gone"

    def _loop(self) -> str:
        """Acts, learns, records and saves until the run's end; returns why it stopped ("end of
        run", "quit" or "signal")."""
        stop = StopFlag()
        self.inbox.discard_pending()  # commands left from an earlier session do not apply
        start = self.run_time()
        acc = self.acc = IntervalAccumulator(t=start, frame=self.actor.frame,
                                             episodes=self.counters.episodes)
        last_row = last_save = start
        if uses_learner_thread(self.cfg.actor):
            self.start_learner_thread()
        self.events.log("info", learner_mode(self.cfg.actor))
        with JsonlWriter(self.paths.metrics) as writer, stop.installed(), self._background():
            while self.actor.frames_taken < self.cfg.run.frames and not stop.set:
                self._follow_commands()
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
                self._publish_game_view()
                if self.evaluations.due(frame_before, self.actor.frame):
                    self._emit(acc, writer, self.run_time(), state="evaluating")
                    self.pending_eval = self._evaluate()
                    last_row = self.run_time()
                now = self.run_time()
                if now - last_row >= self.cfg.metrics.interval_s:
                    self._emit(acc, writer, now)
                    last_row = now
                if self._save_due(now - last_save):
                    reason = "requested" if self.overrides.save_requested else "periodic"
                    self.writes.checkpoint(functools.partial(self.save, reason),
                                           self.cfg.run.checkpoint_every_s)
                    self.overrides.save_requested, last_save = False, now
            self._count(self.actor.flush())
            self._emit(acc, writer, self.run_time())
        return "signal" if stop.set else "quit" if self.overrides.quit_requested else "end of run"

    def _follow_commands(self) -> None:
        """The control channel's commands, applied between two steps (agent.controls)."""
        apply_commands(self.inbox, self.events, self.overrides)
        self.curriculum.follow_control(self.overrides.curriculum, self.actor.frame)
        self.overrides.curriculum = CurriculumControl()
        self.overrides.curriculum_pinned = self.curriculum.state.pinned

    def _publish_game_view(self) -> None:
        """Env 0's game for the dashboard (a Ray run: acting process 0's env 0)."""
        if self.remote:
            self.game_view.maybe_publish_view(self.actor.latest_view, self.actor.frame)
        else:
            self.game_view.maybe_publish(self.env, self.actor.frame)

    def _close(self) -> None:
        if self.remote:
            self.actor.close()
        self.env.close()
        self.game_view.close()
        if self.tensorboard is not None:
            self.tensorboard.close()

    def run_time(self) -> float:
        """Seconds since this trainer was made: the `t` of its metrics rows and events."""
        return time.monotonic() - self._opened

    @property
    def acting(self) -> ActingCopy | None:
        """The actor's own copy of the network, if it acts on one (the feed refreshes it)."""
        return self.feed.acting

    def _act_on_a_copy(self, actor: Actor) -> None:
        """The actor's own copy of the network, where `actor.device` puts it."""
        where = acting_device(self.cfg.actor.device, self.learner.device,
                              self.learner.obs_shape)
        self.feed.acting = ActingCopy(self.learner.online, where)
        if isinstance(actor, Actor):  # Ray's processes act on copies of their own
            actor.greedy = self.acting.greedy

    def start_learner_thread(self) -> None:
        """Learner steps on their own thread from now on; the actor acts on a synced copy."""
        if self.acting is None:
            self._act_on_a_copy(self.actor)
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

    def _evaluate(self) -> EvalResult:
        """The network's evaluation, and the first time the expert's (agent.evaluate); the
        imitation gate follows the scores."""
        greedy = self.acting.greedy if self.acting else self.learner.greedy_actions
        result = self.evaluations.network(greedy, self.actor.frame)
        self.teacher.net_score = result.mean_score
        if self.teacher.expert_score is None and self.actor.has_expert:
            self.teacher.expert_score = self.evaluations.expert(self.actor.frame).mean_score
        self._refresh_imitation_weight()
        self.curriculum.evaluate(greedy, self.actor.frame)
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
        if self.remote:
            self._offer_weights()
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
        moves with the frame) and every evaluation (the gate moves with the scores).  The
        schedule and gate are agent.imitation's; 0 without expert labels or when switched off
        by hand."""
        weight = 0.0
        if self.actor.has_expert:
            weight = self.overrides.imitation_weight(imitation_weight_at(
                self.actor.frame - self.counters.schedule_origin, self.cfg.imitation,
                self.teacher.net_score, self.teacher.expert_score))
        self.learner.imitation_weight = self.imitation_weight = weight

    def _offer_weights(self) -> None:
        """Ray: the weights to the acting processes when `actors.sync_every` steps are due."""
        hold = self.background.step_lock if self.background else contextlib.nullcontext()
        with hold:
            self.actor.offer_weights(self.learner.online, self.learner.learner_steps)

    def _learn_owed(self) -> None:
        """The learner steps the booked frames owe (the replay ratio): inline, or handed to
        the learner thread."""
        owed = self.pacer.owed(self.actor.frame)
        if owed and self.duty.guarding and not self.guard_floor_saved:
            self.guard_floor_saved = True
            if self.learner.learner_steps == 0:  # not a resumed run: it has checkpoints
                self.writes.checkpoint(
                    lambda: self.save("guard mode: the weights before the first learner step"),
                    retry_in_s=None)
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
        """One learner step (`LearnerFeed.step`): sample with this frame's beta, step at the
        schedule's learning rate times the dashboard's factor, book into the interval."""
        r = self.cfg.replay
        schedule_frame = self.actor.frame - self.counters.schedule_origin
        self.learner.lr_scale = self.overrides.lr_factor
        self.feed.step(beta_at(schedule_frame, r.beta_start, r.beta_end, r.beta_frames),
                       self.acc)

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
                      expert_eval_score=self.teacher.expert_score,
                      **self.curriculum.row_fields())
        self.pending_eval = None
        self._report_compile_error()
        row.update(state=state, driver=self.overrides.driver(), device=str(self.learner.device),
                   curriculum_pinned=self.curriculum.pinned_shown)
        if self.remote:
            row.update(self.actor.row_fields())
        self.writes.row(writer, row)
        self.writes.retry_events()
        self.duty.examine(row)
        if self.tensorboard is not None:
            self.tensorboard.write(row)
        if self.progress is not None:
            self.progress(progress_line(row))
