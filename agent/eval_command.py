"""`tempest-dqn eval`: a checkpoint, or a scripted policy, played on seeded episodes.

One path for every player so their numbers compare: the network of a checkpoint, the expert
that taught it, the arcade's attract-mode AI and uniform random play go through the same loop
(`agent.evaluate.evaluate`) on the same seeded envs, with the same protocol (one life, or whole
games from a chosen start wave) and the same evaluation noise (`actor.eval_epsilon`: the
network's actions, or the scripted policy's, are replaced by random ones that often).  Every
episode is recorded (`agent.games`); `--video` films the first one (`agent.video`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

import config
import envs
from agent.checkpoint import CheckpointError, latest_checkpoint, load_checkpoint
from agent.evaluate import EvalRequestError, eval_env_config, evaluate
from agent.games import GameRecorder, format_table
from agent.video import MAX_VIDEO_FRAMES, FirstGameVideo, check_video_path, write_video
from metrics.runfiles import CHECKPOINTS_DIR

POLICIES = ("network", "expert", "attract", "random")
PROTOCOLS = ("life", "game")


@dataclass(frozen=True)
class EvalRequest:
    """What `tempest-dqn eval` was asked for."""

    episodes: int
    seed: int
    policy: str = "network"
    protocol: str | None = None
    """"life", "game", or None: as the run trained (Tempest) / whole games (ALE)."""
    start_wave: int | None = None
    video: str | None = None
    video_frames: int | None = None
    """The film stops after this many pictures (a short clip of a long game); None: the
    whole episode, up to MAX_VIDEO_FRAMES."""


def run_eval(target: str | None, request: EvalRequest,
             preset: str | None = None) -> tuple[dict, str]:
    """Plays the request; returns the JSON document `tempest-dqn eval` prints and the table of
    its episodes for the terminal.

    Raises:
        CheckpointError: nothing loadable at `target`.
        EvalRequestError: a request this game or policy cannot honour.
    """
    video_path = check_video(request.video, request.video_frames)
    if request.policy == "network" and preset is not None:
        raise EvalRequestError("--preset chooses a scripted player's game; a checkpoint plays "
                               "the game it was trained on")
    if request.policy == "network":
        cfg, greedy, about = _network(target)
    else:
        cfg, greedy, about = _scripted(target, request, preset)
    env_cfg = eval_env_config(cfg.env, request.episodes, request.seed, request.protocol,
                              request.start_wave)
    env, expert_share, epsilon = _env_for(request.policy, env_cfg, cfg)
    film = (FirstGameVideo(env, env_cfg, env_cfg.id == config.TEMPEST_ENV_ID,
                           request.video_frames or MAX_VIDEO_FRAMES) if video_path else None)
    recorder = GameRecorder(film or env)
    result = evaluate(greedy, recorder, request.episodes, epsilon, request.seed,
                      envs.frames_per_step(env_cfg), expert_share)
    protocol = _protocol_name(env_cfg)
    document = {**about, "env": env_cfg.id, "policy": request.policy, "seed": request.seed,
                "protocol": protocol, **_wave(env_cfg), **result.as_dict()}
    if film is not None:
        try:
            write_video(film.frames, video_path, _video_fps(env_cfg))
        except OSError as err:  # a full disk, a folder that went away: nothing half written
            raise EvalRequestError(f"could not write the video {video_path}: {err}") from None
        document["video"] = {"path": str(video_path), "frames": len(film.frames),
                             "score": film.score, "in_sync": film.in_sync}
    return document, format_table(result.games, protocol)


def check_video(path: str | None, frames: int | None = None) -> Path | None:
    if path is None:
        return None
    if frames is not None and frames < 1:
        raise EvalRequestError(f"--video-frames must be at least 1, got {frames}")
    try:
        return check_video_path(path)
    except ValueError as err:
        raise EvalRequestError(str(err)) from None


def _network(target: str | None):
    """The checkpoint's configuration, its greedy network (on this machine's device) and what
    the document says of it."""
    from aimodel import Learner, select_device

    if target is None:
        raise EvalRequestError("give a run directory or checkpoint to evaluate its network, or "
                               "--policy expert|attract|random for a scripted player")
    generation = _generation(Path(target))
    tensors, state = load_checkpoint(generation)
    try:
        cfg = config.from_dict(state["config"])
    except (KeyError, config.ConfigError) as err:
        raise CheckpointError(f"{generation}/state.json holds no usable configuration ({err})"
                              ) from None
    shape, actions = _spaces(cfg.env)
    # this machine's device, not the training's: a run trained on a GPU evaluates on a CPU
    learner = Learner(shape, actions, cfg.learner, seed=0, decay_steps=1,
                      device=select_device("auto"))
    try:
        learner.load_state(tensors, state["learner"])
    except (ValueError, KeyError) as err:
        raise CheckpointError(f"{generation}: {err}") from None
    about = {"checkpoint": str(generation), "frame": state.get("counters", {}).get("frame")}
    return cfg, learner.greedy_actions, about


def _scripted(target: str | None, request: EvalRequest, preset: str | None):
    """A preset's configuration and a stand-in network for a scripted policy (uniform random:
    the expert plays through the env's labels, see `_env_for`)."""
    if target is not None:
        raise EvalRequestError(f"--policy {request.policy} plays without a checkpoint; leave "
                               f"out {target} (and choose the game with --preset)")
    try:
        cfg = config.resolve(preset=preset, environ={})
    except config.ConfigError as err:
        raise EvalRequestError(str(err)) from None
    if request.policy == "attract" and cfg.env.id != config.TEMPEST_ENV_ID:
        raise EvalRequestError(f"the attract-mode AI is Tempest's; {cfg.env.id} has none")
    _, n_actions = _spaces(cfg.env)
    rng = np.random.default_rng(request.seed)

    def uniform(obs: np.ndarray) -> np.ndarray:
        return rng.integers(0, n_actions, len(obs))

    return cfg, uniform, {"preset": preset or config.DEFAULT_PRESET}


def _spaces(env_cfg: config.EnvConfig) -> tuple[tuple[int, ...], int]:
    """The observation shape and the number of actions of `env_cfg`'s game."""
    env = envs.make_vector_env(replace(env_cfg, num_envs=1))
    try:
        return env.single_observation_space.shape, int(env.single_action_space.n)
    finally:
        env.close()


def _env_for(policy: str, env_cfg: config.EnvConfig, cfg: config.Config):
    """The env, the expert's share of the actions and the network's epsilon for `policy`."""
    from expert.labels import with_expert

    env = envs.make_vector_env(env_cfg)
    noise = cfg.actor.eval_epsilon
    if policy in ("network", "random"):
        return env, 0.0, (noise if policy == "network" else 0.0)
    expert_cfg = replace(cfg.expert, enabled=True,
                         policy="attract" if policy == "attract" else "auto")
    labelled = with_expert(env, env_cfg, expert_cfg)
    if labelled is env:
        env.close()
        raise EvalRequestError(f"{env_cfg.id} has no scripted expert (Tempest, Pong and "
                               "Breakout have one)")
    return labelled, 1.0 - noise, 0.0


def _protocol_name(env_cfg: config.EnvConfig) -> str:
    if env_cfg.id != config.TEMPEST_ENV_ID:
        return "game"
    return "life" if env_cfg.episodic_life else "game"


def _wave(env_cfg: config.EnvConfig) -> dict:
    return {"start_wave": env_cfg.start_wave} if env_cfg.id == config.TEMPEST_ENV_ID else {}


def _video_fps(env_cfg: config.EnvConfig) -> float:
    """Tempest: the renderer's rate; ALE: the 60 Hz console over the frame skip."""
    if env_cfg.id == config.TEMPEST_ENV_ID:
        from envs.tempest.env import RENDER_FPS

        return float(RENDER_FPS)
    return 60.0 / envs.frames_per_step(env_cfg)


def _generation(target: Path) -> Path:
    if (target / "state.json").exists():
        return target
    for checkpoints in (target / CHECKPOINTS_DIR, target):
        if checkpoints.is_dir():
            generation = latest_checkpoint(checkpoints)
            if generation is not None:
                return generation
    raise CheckpointError(f"no checkpoint at {target}: give a run directory (runs/<name>), its "
                          f"checkpoints/ folder, or one generation (checkpoints/gen-000001)")


def print_json(result: dict) -> None:
    print(json.dumps(result, indent=2))
