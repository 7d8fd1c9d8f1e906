"""`agent.games`: whole games recorded from what the env says each step."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

from agent.games import GameRecord, GameRecorder, format_table, summarize
from envs.tempest.env import TempestVectorEnv
from envs.tempest.state import DEATH_CAUSES

GRABBED, SHOT = DEATH_CAUSES.index("grabbed"), DEATH_CAUSES.index("shot")
NAN = float("nan")


class ScriptedVectorEnv(gym.vector.VectorEnv):
    """Two envs whose every step's info comes from a script: (wave, death, end, score, frames,
    reset) per env and step."""

    metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP}

    def __init__(self, script: list[list[tuple]], start_waves: tuple[int, int]):
        self.num_envs = 2
        self.single_observation_space = gym.spaces.Box(0.0, 1.0, (1,), np.float32)
        self.single_action_space = gym.spaces.Discrete(2)
        self.script, self.start_waves, self.t = script, start_waves, 0

    def reset(self, *, seed=None, options=None):
        self.t = 0
        return np.zeros((2, 1), np.float32), {"wave": np.array(self.start_waves)}

    def step(self, actions):
        rows = self.script[self.t]
        self.t += 1
        column = list(zip(*rows, strict=True))
        info = {"wave": np.array(column[0]), "death_cause": np.array(column[1]),
                "episode_end": np.array(column[2]), "final_score": np.array(column[3]),
                "final_frames": np.array(column[4]), "final_length": np.array(column[4]),
                "reset_step": np.array(column[5])}
        done = np.array(column[2])
        return np.zeros((2, 1), np.float32), np.zeros(2), done, np.zeros(2, bool), info


def test_games_are_recorded_with_waves_deaths_score_and_frames_in_order() -> None:
    """Env 0 starts at wave 3, dies once grabbed on wave 3 and once shot on wave 4, reaches
    wave 5 and ends (1,234 points, 5 frames); its next game (reset step, wave 3) ends at once
    (0 points).  Env 1 starts at wave 1 and ends on its 3rd step, shot (50 points)."""
    alive = (0, False, NAN, -1, False)
    script = [
        [(3, GRABBED, False, NAN, -1, False), (1, *alive)],
        [(4, 0, False, NAN, -1, False), (1, *alive)],
        [(4, SHOT, False, NAN, -1, False), (2, SHOT, True, 50.0, 3, False)],
        [(5, 0, False, NAN, -1, False), (1, 0, False, NAN, -1, True)],
        [(5, GRABBED, True, 1_234.0, 5, False), (1, *alive)],
        [(3, 0, False, NAN, -1, True), (1, *alive)],
        [(3, 0, True, 0.0, 1, False), (1, *alive)],
    ]
    env = GameRecorder(ScriptedVectorEnv(script, (3, 1)))
    env.reset()
    for _ in script:
        env.step(np.zeros(2, np.int64))
    first, second = env.records[0]
    assert first == GameRecord(1_234.0, 5, 5, False, 3, 5, {"grabbed": 2, "shot": 1})
    assert first.waves_cleared == 2
    assert second == GameRecord(0.0, 1, 1, False, 3, 3, {})
    assert env.records[1] == [GameRecord(50.0, 3, 3, False, 1, 2, {"shot": 1})]


def test_summary_means_and_deaths_by_cause() -> None:
    games = [GameRecord(1_000.0, 100, 100, False, 1, 4, {"grabbed": 2, "shot": 1}),
             GameRecord(3_000.0, 300, 300, True, 1, 2, {"grabbed": 1})]
    s = summarize(games)
    assert s["mean_score"] == 2_000.0 and s["mean_frames"] == 200.0 and s["truncated"] == 1
    assert s["mean_highest_wave"] == 3.0 and s["mean_waves_cleared"] == 2.0
    assert s["deaths"] == {"grabbed": 3, "shot": 1}
    table = format_table(games, "game").splitlines()
    assert table[0].split()[:3] == ["game", "score", "frames"] and len(table) == 4
    assert "(frame cap)" in table[2] and table[3].split()[:3] == ["mean", "2,000", "200"]


def test_a_game_without_waves_records_score_and_frames_only() -> None:
    s = summarize([GameRecord(21.0, 8_000, 2_000, False)])
    assert "mean_highest_wave" not in s and s["mean_score"] == 21.0


@pytest.mark.slow
def test_a_real_tempest_game_ends_when_its_lives_are_spent() -> None:
    """Whole games on the simulator: random play from wave 1 loses 3 lives (no bonus life
    at random play's scores) and every death is counted once with its cause."""
    env = GameRecorder(TempestVectorEnv(num_envs=2, episodic_life=False))
    env.reset(seed=5)
    rng = np.random.default_rng(0)
    while min(len(r) for r in env.records) < 1:
        env.step(rng.integers(0, 44, 2))
    for game in (env.records[0][0], env.records[1][0]):
        assert sum(game.deaths.values()) == 3 and game.score < 20_000
        assert game.start_wave == 1 and game.highest_wave >= 1 and game.frames > 0
