"""Acting on Ray (Ape-X's shape): N acting processes feed this process's replay and learner.

`RayActing` stands where the trainer's in-process `Actor` stands, with the same calls
(`send`, `book`, `receive`, `flush`, `frame`, `frames_taken`, `has_expert`, `rng`):

    send(epsilon, expert_ratio)   # every live process without a request gets one: act
                                  #   actors.chunk_steps vector steps at this exploration
    book()                        # the chunks that have arrived (waiting up to WAIT_S for one)
                                  #   go into the replay, each process's envs into its own
                                  #   streams; their frames and games are the report
    offer_weights(net, steps)     # every actors.sync_every learner steps, the weights go out
                                  #   through Ray's object store (one copy for all processes)

Acting and learning overlap for real here: the processes step while this one learns.  The
dashboard's epsilon, expert share and pause reach every process through `send` (a paused run
sends nothing, so the processes idle); the curriculum's start waves through `set_start_waves`.

Faults: Ray restarts a process that dies (`actors.max_restarts`).  Its request in flight is
lost (counted in `lost_chunks`, logged with the streams it ends); its streams end as truncated,
so no n-step window joins the old episode to the new one; it gets the current weights again.
With no chunk from any process for `actors.gone_timeout_s`, `book` raises `ActorsGoneError`
and the trainer saves and stops.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

import config
from agent.acting_process import ActingProcess, actor_seed, weights_of
from agent.actor import StepReport
from agent.chunks import Chunk, write_chunk
from agent.ray_cluster import connect
from replay import ReplayBuffer

WAIT_S = 0.5
"""Longest `book` waits for a chunk, so the trainer's loop still writes rows and follows
commands while the processes start or restart."""


RESTART_POLL_S = 0.2
"""How often a process that died is asked whether Ray has restarted it."""


class ActorsGoneError(RuntimeError):
    """No acting process has delivered a chunk for `actors.gone_timeout_s`."""


@dataclass
class _Process:
    """One acting process as the learner sees it."""

    handle: object
    index: int
    first_stream: int
    seed: int
    pending: object | None = None
    """The request in flight (an ObjectRef), if any."""
    pid: int = 0
    dead: bool = False
    """Gone for good: Ray gave up restarting it."""
    lost: int = 0
    """Requests lost to its deaths."""
    chunks: int = 0
    """Chunks booked from it."""
    exploration: tuple[float, float] | None = None
    """(epsilon, expert share) of its last chunk."""


def ladder_epsilon(epsilon: float, index: int, count: int, alpha: float) -> float:
    """Ape-X's per-actor exploration: epsilon ** (1 + index / (count - 1) * alpha)."""
    if count <= 1:
        return epsilon
    return float(epsilon ** (1.0 + index / (count - 1) * alpha))


class RayActing:
    """The trainer's actor when `actors.backend` is "ray" (see the module's docstring).

    Args:
        cfg: the run's configuration.
        replay: the learner's replay, with `actors.num x env.num_envs` streams.
        log: the events log's `log(kind, message, **fields)`.
    """

    def __init__(self, cfg: config.Config, replay: ReplayBuffer,
                 log: Callable[..., object]):
        self.cfg, self.replay, self.log = cfg, replay, log
        self.ray, self.owns_cluster = connect(cfg.ray)
        self.frame = 0
        self.has_expert = False
        self.rng = np.random.default_rng(cfg.env.seed)
        """Draws the processes' seeds when they start (saved and restored with the run, so a
        resumed run's processes play other games than the first session's)."""
        self.lost_chunks = 0
        self.weights_version = -1
        self.versions_behind: list[int] = []
        """Per booked chunk since the last row: learner versions between it and the newest."""
        self.start_waves: tuple | None = None
        self.latest_view: dict | None = None
        """Acting process 0's env 0, as its last chunk showed it (the dashboard's game view)."""
        self.processes: list[_Process] = []
        self._weights_ref = None
        self._last_chunk_at = time.monotonic()

    def start(self) -> None:
        """Starts the acting processes (at the first `send`, after any resume), each seeded
        from `rng`, and waits until every one has built its envs."""
        a, per = self.cfg.actors, self.cfg.env.num_envs
        remote = self.ray.remote(max_restarts=a.max_restarts, num_cpus=1)(ActingProcess)
        base = int(self.rng.integers(2**31 - 1))
        self.processes = [
            _Process(remote.remote(config.to_dict(self.cfg), i, actor_seed(base, i)), i, i * per,
                     seed=actor_seed(base, i))
            for i in range(a.num)]
        try:
            described = self.ray.get([p.handle.describe.remote() for p in self.processes],
                                     timeout=a.start_timeout_s)
        except self.ray.exceptions.GetTimeoutError:
            raise ActorsGoneError(self._not_started_message()) from None
        for process, info in zip(self.processes, described, strict=True):
            process.pid = info["pid"]
        self.log("info", f"acting on {a.num} Ray processes of {per} envs each (pids "
                 f"{', '.join(str(p.pid) for p in self.processes)}), seeds from {base}",
                 pids=[p.pid for p in self.processes])
        for p in self.processes:
            self._bring_up_to_date(p)
        self._last_chunk_at = time.monotonic()

    # -- the actor's interface ----------------------------------------------------------------

    @property
    def frames_taken(self) -> int:
        return self.frame

    def send(self, epsilon: float, expert_ratio: float = 0.0) -> None:
        """A request to every live process that has none in flight."""
        if not self.processes:
            self.start()
        a = self.cfg.actors
        for p in self.processes:
            if p.pending is None and not p.dead:
                eps = (ladder_epsilon(epsilon, p.index, a.num, a.ladder_alpha)
                       if a.epsilon_ladder else epsilon)
                p.pending = p.handle.act.remote(a.chunk_steps, eps, expert_ratio)

    def book(self, wait_s: float = WAIT_S) -> StepReport:
        """The chunks that have arrived, into the replay (waiting up to `wait_s` for one)."""
        pending = {p.pending: p for p in self.processes if p.pending is not None}
        report = StepReport(0)
        if pending:
            ready, waiting = self.ray.wait(list(pending), num_returns=1, timeout=wait_s)
            if ready and waiting:  # and whatever else has arrived meanwhile
                ready += self.ray.wait(waiting, num_returns=len(waiting), timeout=0)[0]
            for ref in ready:
                self._take(pending[ref], ref, report)
        if report.frames:
            self._last_chunk_at = time.monotonic()
        elif time.monotonic() - self._last_chunk_at > self.cfg.actors.gone_timeout_s:
            for p in self.processes:  # abandoned: a final save must not wait for them
                self.lost_chunks += p.pending is not None
                p.pending = None
            raise ActorsGoneError(self._gone_message())
        return report

    def receive(self) -> None:
        """Nothing to do: the processes' answers arrive as chunks in `book`."""

    def flush(self) -> StepReport:
        """Books every request in flight (before a checkpoint: what was acted is saved)."""
        report = StepReport(0)
        for p in self.processes:
            if p.pending is not None:
                self._take(p, p.pending, report)
        return report

    # -- weights, start waves, shutdown ---------------------------------------------------------

    def offer_weights(self, net: torch.nn.Module, learner_steps: int) -> bool:
        """Sends the weights to every process when `actors.sync_every` learner steps have
        passed since the last ones went, or at once when the learner went back (the guard
        rolled it back to a checkpoint); True when they went."""
        if 0 <= learner_steps - self.weights_version < self.cfg.actors.sync_every:
            return False
        self.weights_version = learner_steps
        self._weights_ref = self.ray.put(weights_of(net))
        for p in self.processes:
            if not p.dead:
                p.handle.set_weights.remote(learner_steps, self._weights_ref)
        return True

    def set_start_waves(self, waves, probabilities) -> None:
        """Tempest's start-wave distribution, to every process (and to restarted ones)."""
        self.start_waves = (waves, probabilities)
        for p in self.processes:
            if not p.dead:
                p.handle.set_start_waves.remote(waves, probabilities)

    def close(self) -> None:
        """Stops the processes (their requests in flight are dropped), and the cluster if this
        run started it."""
        for p in self.processes:
            self.ray.kill(p.handle, no_restart=True)
        self.processes = []
        if self.owns_cluster:
            self.ray.shutdown()

    def row_fields(self) -> dict[str, object]:
        """The acting processes in a metrics row: how many live, chunks lost to deaths, and
        how many learner versions old the booked chunks' weights were (mean)."""
        return {"actors_live": self.live(), "actors_lost_chunks": self.lost_chunks,
                "actors_weights_lag": self.take_versions_behind()}

    def take_versions_behind(self) -> float | None:
        """Mean learner versions the chunks booked since the last call were behind (a row's
        `actors_weights_lag`); None when none arrived."""
        behind, self.versions_behind = self.versions_behind, []
        return float(np.mean(behind)) if behind else None

    def live(self) -> int:
        return sum(not p.dead for p in self.processes)

    # -- inside -----------------------------------------------------------------------------

    def _take(self, p: _Process, ref, report: StepReport) -> None:
        """One finished request: its chunk into the replay and the report, or its loss."""
        p.pending = None
        try:
            chunk: Chunk = self.ray.get(ref)
        except (self.ray.exceptions.RayActorError,
                self.ray.exceptions.ActorUnavailableError) as err:
            self._lost(p, err)
            return
        if chunk.pid != p.pid:  # restarted with no request lost: its envs started over too
            self._restart_seen(p, f"acting process {p.index} (pid {p.pid}) was restarted as "
                               f"pid {chunk.pid}")
            p.pid = chunk.pid
        write_chunk(self.replay, chunk, p.first_stream)
        p.exploration = (chunk.epsilon, chunk.expert_ratio)
        self.latest_view = chunk.game_view or self.latest_view
        self.frame += chunk.frames
        self.has_expert = chunk.has_expert
        p.chunks += 1
        if chunk.version >= 0 or self.weights_version >= 0:
            self.versions_behind.append(max(0, self.weights_version - chunk.version))
        report.frames += chunk.frames
        for episode in chunk.episodes:
            episode.end_frame = self.frame
            report.episodes.append(episode)
            report.env_ids.append(p.first_stream)

    def _lost(self, p: _Process, err: Exception) -> None:
        """A process died with a request in flight: count it, end its streams, and either
        bring the restarted process up to date or, when Ray has given up, mark it dead."""
        p.lost += 1
        self.lost_chunks += 1
        died = p.pid
        p.dead = not self._restarted(p)
        self._restart_seen(p, f"acting process {p.index} (pid {died}) died ({type(err).__name__})"
                           f"; its request in flight is lost ({self.lost_chunks} in all)"
                           + ("; Ray will not restart it" if p.dead else
                              f"; Ray restarted it as pid {p.pid}"))

    def _restart_seen(self, p: _Process, what: str) -> None:
        """A process's envs started over (it died): its streams end as truncated, the event is
        logged, and a restarted process gets the current weights and waves."""
        streams = np.arange(p.first_stream, p.first_stream + self.cfg.env.num_envs)
        self.replay.truncate_streams(streams)
        self.log("warning", f"{what}; its streams {streams[0]}-{streams[-1]} end as truncated",
                 actor=p.index, lost_chunks=self.lost_chunks, dead=p.dead)
        if not p.dead:
            self._bring_up_to_date(p)

    def _restarted(self, p: _Process) -> bool:
        """Whether the process answers again (Ray restarted it) within the gone timeout; while
        Ray restarts it, calls fail as unavailable, and once Ray has given up, as died."""
        errors = self.ray.exceptions
        deadline = time.monotonic() + self.cfg.actors.gone_timeout_s
        while time.monotonic() < deadline:
            try:
                info = self.ray.get(p.handle.describe.remote(),
                                    timeout=max(0.0, deadline - time.monotonic()))
            except errors.ActorUnavailableError:
                time.sleep(RESTART_POLL_S)
                continue
            except (errors.RayActorError, errors.GetTimeoutError):
                return False
            p.pid = info["pid"]
            return True
        return False

    def _bring_up_to_date(self, p: _Process) -> None:
        """A restarted process starts with the initial weights and waves: send the current."""
        if self._weights_ref is not None:
            p.handle.set_weights.remote(self.weights_version, self._weights_ref)
        if self.start_waves is not None:
            p.handle.set_start_waves.remote(*self.start_waves)

    def _not_started_message(self) -> str:
        a, cpus = self.cfg.actors, self.ray.cluster_resources().get("CPU", 0)
        return (f"the {a.num} acting processes did not start within {a.start_timeout_s:g} s; "
                f"each needs 1 CPU and the cluster has {cpus:g}: lower --actors.num, give a "
                "local cluster more with --ray.num-cpus, or raise --actors.start-timeout-s")

    def _gone_message(self) -> str:
        dead = [p.index for p in self.processes if p.dead]
        return (f"no acting process has delivered a chunk for {self.cfg.actors.gone_timeout_s:g}"
                f" s ({len(dead)} of {len(self.processes)} gone for good: {dead}); the run "
                "saves here. Resume with the same command once the cluster is healthy, or "
                "raise --actors.max-restarts / --actors.gone-timeout-s")
