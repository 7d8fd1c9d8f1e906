"""How well a scripted policy plays Tempest-v0: `python -m expert.play [--wave W] [--episodes N]`.

`--gif PATH [--policy P]` instead records one episode of policy P as an animated GIF (a `.png`
path writes its last frame), drawn by `envs.tempest.render`.

Plays N seeded episodes (one life each, as in training) side by side for a uniformly random
policy, the game's attract-mode AI and the expert, and prints one JSON line per policy: mean
score, mean wave reached, mean frames survived and the causes of death.  The numbers in the
README come from here, and a test holds the expert to beating random play by a wide margin.
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np

from envs.tempest.env import TempestVectorEnv
from envs.tempest.state import DEATH_CAUSES
from expert.tempest import AttractModeExpert, TempestExpert

POLICIES = ("random", "attract", "expert")


def play(policy: str, episodes: int = 20, start_wave: int = 1, seed: int = 100,
         max_frames: int = 50_000) -> dict:
    """Plays one episode in each of `episodes` envs (seeds seed..seed+episodes-1)."""
    env = TempestVectorEnv(num_envs=episodes, start_wave=start_wave,
                           max_episode_frames=max_frames)
    obs, info = env.reset(seed=seed)
    table = env.games.action_table
    expert = {"expert": TempestExpert(episodes, table, seed=seed),
              "attract": AttractModeExpert(episodes, table)}.get(policy)
    rng = np.random.default_rng(seed)
    done = np.zeros(episodes, bool)
    score, wave, frames = (np.zeros(episodes) for _ in range(3))
    causes = np.zeros(len(DEATH_CAUSES), np.int64)
    while not done.all():
        actions = expert.act(obs, info) if expert else rng.integers(0, len(table), episodes)
        obs, _, terminated, truncated, info = env.step(actions)
        end = (terminated | truncated) & ~done
        score[end], wave[end] = info["final_score"][end], info["wave"][end]
        frames[end] = info["final_length"][end]
        causes += np.bincount(info["death_cause"][end], minlength=len(DEATH_CAUSES))
        done |= end
    return {"policy": policy, "episodes": episodes, "start_wave": start_wave,
            "mean_score": float(score.mean()), "mean_wave": float(wave.mean()),
            "mean_frames": float(frames.mean()),
            "deaths": {name: int(n) for name, n in zip(DEATH_CAUSES, causes, strict=True) if n}}


def record_episode(policy: str, path: str, start_wave: int = 1, seed: int = 100,
                   max_frames: int = 3_000) -> int:
    """Plays one episode of `policy` and writes it to `path` (GIF, or the last frame as PNG);
    returns the number of frames."""
    from envs.tempest.render import render_frame, save_gif, save_png

    env = TempestVectorEnv(num_envs=1, start_wave=start_wave, max_episode_frames=max_frames)
    obs, info = env.reset(seed=seed)
    table = env.games.action_table
    expert = {"expert": TempestExpert(1, table, seed=seed),
              "attract": AttractModeExpert(1, table)}.get(policy)
    rng = np.random.default_rng(seed)
    frames = [render_frame(env.state, 0)]
    while True:
        actions = expert.act(obs, info) if expert else rng.integers(0, len(table), 1)
        obs, _, terminated, truncated, info = env.step(actions)
        frames.append(render_frame(env.state, 0))
        if terminated[0] or truncated[0]:
            break
    if str(path).endswith(".png"):
        save_png(frames[-2], path)
    else:
        save_gif(frames, path)
    return len(frames)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m expert.play", description=__doc__)
    parser.add_argument("--wave", type=int, default=1, help="start wave (default 1)")
    parser.add_argument("--episodes", type=int, default=20)
    parser.add_argument("--seed", type=int, default=100)
    parser.add_argument("--gif", metavar="PATH", help="record one episode to PATH instead")
    parser.add_argument("--policy", choices=POLICIES, default="expert")
    args = parser.parse_args(argv)
    if args.gif:
        frames = record_episode(args.policy, args.gif, args.wave, args.seed)
        print(json.dumps({"policy": args.policy, "frames": frames, "path": args.gif}))
        return 0
    for policy in POLICIES:
        print(json.dumps(play(policy, args.episodes, args.wave, args.seed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
