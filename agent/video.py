"""`tempest-dqn eval ... --video FILE.mp4|.gif`: the first evaluated game, as a video file.

Why: nobody can judge an agent from a number alone, and the dashboard's braille view is no
clip to show anyone.  The pictures are the env's own: the Tempest simulator's vector renderer
(`envs.tempest.render`), and for ALE games the ROM's colour frames.  `AtariVectorEnv` hands out
only the 84x84 grey stacks the network reads, so an ALE game is filmed on a *twin*: a one-game
colour `AtariVectorEnv` with env 0's seed, given env 0's actions; the emulator is deterministic,
so the twin plays the very game that is evaluated (a test holds its score to the recorded one).
The score, wave, lives and frame are burned into every frame (the frame number also keeps every
frame distinct, so a GIF writer cannot merge any).  MP4 goes through imageio's ffmpeg writer
(`imageio-ffmpeg` ships the binary), GIF through Pillow; the file is written beside its name and
renamed into place, so a failed encode leaves nothing half written.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from gymnasium.vector import VectorEnv, VectorWrapper

VIDEO_SUFFIXES = (".mp4", ".gif")
MAX_VIDEO_FRAMES = 20_000
"""A game longer than this is filmed up to here unless asked otherwise (`--video-frames`;
about 17 minutes of Tempest at 20 fps)."""


def check_video_path(path: str) -> Path:
    """The path a video may be written to, or ValueError saying what is wrong."""
    target = Path(path)
    if target.suffix.lower() not in VIDEO_SUFFIXES:
        raise ValueError(f"--video {path}: the file name must end in .mp4 or .gif")
    if not target.parent.is_dir():
        raise ValueError(f"--video {path}: there is no folder {target.parent}")
    if target.is_dir():
        raise ValueError(f"--video {path} is a folder; give a file name ending in .mp4 or .gif")
    return target


def burn_in(frame: np.ndarray, text: str) -> np.ndarray:
    """`frame` (H, W, 3 uint8) with `text` written on a dark band along its top."""
    from PIL import Image, ImageDraw

    image = Image.fromarray(np.ascontiguousarray(frame, np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    draw.rectangle((0, 0, image.width, 11), fill=(0, 0, 0))
    draw.text((2, 0), text, fill=(255, 255, 255))
    return np.asarray(image)


def write_video(frames: list[np.ndarray], path: Path, fps: float) -> None:
    """Encodes `frames` to `path` (.mp4: H.264 by ffmpeg; .gif: Pillow), atomically."""
    if not frames:
        raise ValueError("a video needs at least one frame")
    if len({frame.shape for frame in frames}) != 1:
        raise ValueError("every frame of a video must have the same size")
    temporary = path.with_name(f".{path.stem}.tmp-{os.getpid()}{path.suffix}")
    try:
        if path.suffix.lower() == ".gif":
            _write_gif(frames, temporary, fps)
        else:
            _write_mp4(frames, temporary, fps)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def _write_mp4(frames: list[np.ndarray], path: Path, fps: float) -> None:
    """H.264 by the ffmpeg binary that imageio-ffmpeg ships."""
    import imageio.v2 as iio2

    with iio2.get_writer(path, format="FFMPEG", fps=fps, codec="libx264", macro_block_size=2,
                         quality=8) as writer:
        for frame in frames:
            writer.append_data(frame)


def _write_gif(frames: list[np.ndarray], path: Path, fps: float) -> None:
    """An animated GIF by Pillow, each frame on its own palette, looping."""
    from PIL import Image

    images = [Image.fromarray(np.ascontiguousarray(frame, np.uint8), "RGB").quantize(
        method=Image.Quantize.FASTOCTREE) for frame in frames]
    with open(path, "wb") as out:
        images[0].save(out, format="GIF", save_all=True, append_images=images[1:],
                       duration=max(10, round(1000 / fps)), loop=0)


class _TempestCamera:
    """Env 0's game from the simulator's renderer."""

    def __init__(self, env: VectorEnv):
        from envs.tempest.render import render_frame

        self.render = render_frame

    def start(self, info: dict[str, Any], seed: int | None) -> np.ndarray:
        return self.render(info["state"], 0)

    def shoot(self, action: int, info: dict[str, Any]) -> tuple[np.ndarray, bool]:
        """The picture after a step, and whether it shows env 0's game (always, here)."""
        return self.render(info["state"], 0), True


class _AleCamera:
    """Env 0's game replayed on a one-game colour twin (module docstring)."""

    def __init__(self, env: VectorEnv, env_cfg):
        from envs.ale import colour_twin

        self.twin = colour_twin(env_cfg)

    def start(self, info: dict[str, Any], seed: int | None) -> np.ndarray:
        obs, _ = self.twin.reset(seed=seed)
        return obs[0, -1]

    def shoot(self, action: int, info: dict[str, Any]) -> tuple[np.ndarray, bool]:
        """The twin's picture after env 0's action, and whether the twin still plays env 0's
        game (its points on this step are env 0's)."""
        obs, points, *_ = self.twin.step(np.array([action]))
        return obs[0, -1], bool(points[0] == info["raw_reward"][0])


class FirstGameVideo(VectorWrapper):
    """Films env 0's first game (or life, under the one-life protocol) as the evaluation plays
    it; `frames` holds the pictures with the burn-in, `score` the game's final score, and
    `in_sync` whether every picture showed that game (an ALE twin that drifted would not)."""

    def __init__(self, env: VectorEnv, env_cfg, tempest: bool,
                 max_frames: int = MAX_VIDEO_FRAMES):
        super().__init__(env)
        self.max_frames = max_frames
        self.camera = _TempestCamera(env) if tempest else _AleCamera(env, env_cfg)
        self.frames: list[np.ndarray] = []
        self.score: float | None = None
        self.in_sync = True
        self._filming = False
        self._action = 0
        if callable(getattr(env, "step_async", None)):  # keep the env pipelined (agent.actor)
            self.step_async = self._filmed_async
            self.step_wait = self._filmed_wait

    def reset(self, **kwargs: Any):
        obs, info = self.env.reset(**kwargs)
        self.frames, self.score, self.in_sync, self._filming = [], None, True, True
        self._keep(self.camera.start(info, kwargs.get("seed")), info, 0)
        return obs, info

    def step(self, actions: np.ndarray):
        self._action = int(np.asarray(actions).reshape(-1)[0])
        return self._filmed(*self.env.step(actions))

    def _filmed_async(self, actions: np.ndarray) -> None:
        self._action = int(np.asarray(actions).reshape(-1)[0])
        self.env.step_async(actions)

    def _filmed_wait(self):
        return self._filmed(*self.env.step_wait())

    def _filmed(self, obs, reward, terminated, truncated, info):
        if self._filming:
            picture, same = self.camera.shoot(self._action, info)
            self.in_sync = self.in_sync and same
            self._keep(picture, info, len(self.frames))
            if bool(np.asarray(info.get("episode_end", terminated | truncated))[0]):
                self.score = float(info["final_score"][0])
                self._filming = False
            elif len(self.frames) >= self.max_frames:
                self._filming = False
        return obs, reward, terminated, truncated, info

    def _keep(self, picture: np.ndarray, info: dict[str, Any], frame: int) -> None:
        score = float(np.asarray(info.get("score", (0.0,)))[0])  # ALE resets carry none
        text = f"score {score:,.0f}"
        if "wave" in info:
            text += f"  wave {int(info['wave'][0])}"
        if "lives" in info:
            text += f"  lives {int(info['lives'][0])}"
        self.frames.append(burn_in(picture, f"{text}  frame {frame}"))
