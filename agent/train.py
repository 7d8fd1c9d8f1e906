"""`tempest-dqn train`: build a run from a resolved configuration and drive it to the end.

Every way this can fail because of what the user asked for (an env that does not exist yet, an
unusable run directory, a checkpoint that does not load) becomes a `UserFacingError` with a
message that says what to do; the CLI prints it and exits 2 without a traceback.  A final
checkpoint the disk refuses (agent.writes.FinalSaveError) is said the same way, with exit code 1:
the input was fine, the machine was not; so is a run whose Ray acting processes are all gone
(it saves first).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import config
from agent import generations
from agent.checkpoint import CheckpointError
from agent.machine import MemoryBudgetError
from agent.ray_cluster import RayUnavailableError, import_ray
from agent.rundir import RunDirError, RunPaths, open_run_dir, run_name
from agent.tensorboard_sink import TensorBoardUnavailable
from agent.trainer import Trainer


class UserFacingError(Exception):
    """A problem the user can fix (bad input): the CLI prints it and exits 2, no traceback."""


def train(cfg: config.Config) -> int:
    """Train `cfg` (resuming its run directory unless --fresh); returns the exit code."""
    _check_device(cfg.learner)
    _check_env(cfg.env)
    _check_ray(cfg)
    _check_observation(cfg)
    try:
        paths = open_run_dir(cfg)
    except RunDirError as err:
        raise UserFacingError(str(err)) from None
    printer = _ThrottledPrinter(cfg.tui.progress_every_s)
    try:
        trainer = Trainer(cfg, paths, progress=printer)
    except (MemoryBudgetError, TensorBoardUnavailable, RayUnavailableError) as err:
        raise UserFacingError(str(err)) from None
    try:
        resumed = trainer.resume()
    except CheckpointError as err:
        raise UserFacingError(f"cannot resume: {err}\nThe checkpoints are left as they are; or "
                              f"start over with --fresh (the old run is archived, not deleted)"
                              ) from None
    where = f"resumed at frame {trainer.actor.frame:,}" if resumed else "fresh start"
    if trainer.device_change:
        where += f"; {trainer.device_change}"
    dashboard = _start_dashboard(cfg, paths.root)  # only once nothing can fail on the way
    stop_hint = "q in the dashboard" if dashboard else "Ctrl-C"
    print(f"training {cfg.env.id} in {paths.root} ({where}); {stop_hint} saves and stops",
          file=sys.stderr)
    printer.quiet_while = dashboard
    try:
        trainer.run()
    finally:
        _stop_dashboard(dashboard)
    if trainer.stop_message:  # the run could not go on (Ray's acting processes gone)
        print(f"stopped at frame {trainer.actor.frame:,}: {trainer.stop_message}; checkpoint in"
              f" {paths.checkpoints}", file=sys.stderr)
        return 1
    print(f"done at frame {trainer.actor.frame:,}; checkpoint in {paths.checkpoints}",
          file=sys.stderr)
    return 0


def _check_device(cfg: config.LearnerConfig) -> None:
    """A CUDA learner on a machine without CUDA is the user's to fix, before anything is
    written (a run trained on a GPU continues here with --learner.device cpu)."""
    if cfg.device != "cuda":
        return
    from aimodel import cuda_missing_message

    message = cuda_missing_message()
    if message:
        raise UserFacingError(message + " (a run trained on a GPU resumes there unchanged)")


def _check_ray(cfg: config.Config) -> None:
    """Ray acting without Ray installed is the user's to fix, before anything is written."""
    if cfg.actors.backend != "ray":
        return
    try:
        import_ray(local=not cfg.ray.address)
    except RayUnavailableError as err:
        raise UserFacingError(str(err)) from None


def _check_env(cfg: config.EnvConfig) -> None:
    """An env that cannot be built (an unknown game, settings it refuses) is the user's to fix,
    before anything is written."""
    import envs

    try:
        envs.make_vector_env(cfg).close()
    except ValueError as err:
        raise UserFacingError(str(err)) from None


def _check_observation(cfg: config.Config) -> None:
    """A Tempest run resumes only on the observation its network was trained on (with or
    without the lane map, its enemy shots as a depth or a clock): a mismatch is said before
    anything is written, with the flags that resume the run.  A checkpoint that cannot be read
    is left to the resume to report."""
    if cfg.run.force_fresh_model or cfg.env.id != config.TEMPEST_ENV_ID:
        return
    paths = RunPaths(Path(cfg.run.run_dir) / run_name(cfg))
    try:
        generation = generations.to_resume(paths, cfg.run.resume_from)
        if generation is None:
            return
        saved = config.from_dict(json.loads((generation / "state.json").read_text())["config"])
    except (CheckpointError, OSError, ValueError, KeyError, TypeError, config.ConfigError):
        return
    trained_on, flags = _observation(saved.env)
    if saved.env.id == cfg.env.id and flags != _observation(cfg.env)[1]:
        resume = " ".join(f"{flag} {str(value).lower()}" for flag, value in flags.items())
        raise UserFacingError(f"{generation}: its network was trained {trained_on}; resume it "
                              f"with {resume} (or start over with --fresh: the run is "
                              f"archived, not deleted)")


def _observation(env: config.EnvConfig) -> tuple[str, dict[str, bool]]:
    """What a Tempest network sees, in words and as the flags that ask for it (the clocks are
    channels of the lane map: without the map they change nothing)."""
    if not env.lane_map:
        return "without the lane map", {"--env.lane-map": False}
    shots = "a clock" if env.shot_clock else "a depth"
    spikes = "a clock" if env.spike_clock else "a depth"
    return (f"with the lane map, its enemy shots as {shots} and its spikes as {spikes}",
            {"--env.lane-map": True, "--env.shot-clock": env.shot_clock,
             "--env.spike-clock": env.spike_clock})


def _start_dashboard(cfg: config.Config, run_dir) -> subprocess.Popen | None:
    """With a terminal, the dashboard runs as a child process on it (`python -m tui`): it never
    imports torch, cannot slow the training loop's thread, and closing it (ctrl+q) leaves the
    run going; `q` in it asks the trainer to save and stop through the control channel."""
    if not (cfg.tui.enabled and sys.stdout.isatty()):
        return None
    return subprocess.Popen([sys.executable, "-m", "tui", str(run_dir),
                             "--hz", str(cfg.tui.refresh_hz)])


def _stop_dashboard(dashboard: subprocess.Popen | None) -> None:
    if dashboard is None or dashboard.poll() is not None:
        return
    dashboard.terminate()
    try:
        dashboard.wait(timeout=5)
    except subprocess.TimeoutExpired:
        dashboard.kill()


class _ThrottledPrinter:
    """Prints at most one progress line every `every_s` seconds (stdout, for logs and pipes),
    and none while the dashboard (`quiet_while`) owns the terminal."""

    def __init__(self, every_s: float, quiet_while: subprocess.Popen | None = None):
        self.every_s, self.last = every_s, float("-inf")
        self.quiet_while = quiet_while

    def __call__(self, line: str) -> None:
        if self.quiet_while is not None and self.quiet_while.poll() is None:
            return
        now = time.monotonic()
        if now - self.last >= self.every_s:
            print(line, flush=True)
            self.last = now
