"""The Pong and Breakout screen experts: hand-drawn frames pin each decision, the real emulator
shows they play far better than chance.

Pixel values and positions in the drawings are those measured on ale-py's 84x84 grayscale frames
(expert/ale.py's docstring): Pong background 87, our paddle at column 74 (147), white ball
(236); Breakout background 0, paddle on row 76 (110), ball 110.
"""

from __future__ import annotations

import numpy as np
import pytest

from config import EnvConfig
from envs import make_vector_env
from expert.ale import (
    BREAKOUT_MINIMAL_ACTIONS,
    PONG_MINIMAL_ACTIONS,
    BreakoutExpert,
    PaddleModel,
    PongExpert,
    ale_expert_for,
    intercept,
    reflect,
)
from expert.protocol import NO_ACTION

PONG_NOOP, PONG_UP, PONG_DOWN = 0, 2, 3  # NOOP, RIGHT (up), LEFT (down)
BREAK_NOOP, BREAK_FIRE, BREAK_RIGHT, BREAK_LEFT = 0, 1, 2, 3
STACK = 4


def pong_stack(paddle_rows: list[float] | None, balls: list[tuple[int, int] | None]) -> np.ndarray:
    """One Pong observation (4, 84, 84): our paddle centred on paddle_rows[k] in frame k (None:
    no paddle), the ball (row, col) in frame k (None: not on screen)."""
    obs = np.full((STACK, 84, 84), 87, np.uint8)
    for k in range(STACK):
        if paddle_rows is not None:
            centre = int(paddle_rows[k])
            obs[k, centre - 3 : centre + 4, 73:76] = (117, 147, 123)
        if balls[k] is not None:
            row, col = balls[k]
            obs[k, row : row + 2, col] = 236
    return obs


def breakout_stack(paddle_col: int | None, balls: list[tuple[int, int] | None]) -> np.ndarray:
    """One Breakout observation: the paddle centred on `paddle_col` in all frames, the ball
    (row, col) in frame k."""
    obs = np.zeros((STACK, 84, 84), np.uint8)
    obs[:, 7:12, :] = 142  # top wall
    obs[:, 22:38, 4:80] = 120  # bricks: never mistaken for the ball
    obs[:, :, 0:4] = obs[:, :, 80:84] = 142  # side walls
    obs[:, :, 4] = obs[:, :, 79] = 28  # their blend into the play area
    for k in range(STACK):
        if paddle_col is not None:
            obs[k, 75:78, paddle_col - 4 : paddle_col + 5] = np.array([[44], [110], [22]])
        if balls[k] is not None:
            row, col = balls[k]
            obs[k, row : row + 2, col] = 110
    return obs


def still(row: float) -> list[float]:
    return [row] * STACK


def coming(row: int, col: int, d_row: int, d_col: int) -> list[tuple[int, int] | None]:
    """A ball at (row, col) in the newest frame that moved (d_row, d_col) per step before."""
    return [(row - d_row * (STACK - 1 - k), col - d_col * (STACK - 1 - k)) for k in range(STACK)]


# ----------------------------------------------------------------------------------- geometry


def test_reflect_folds_positions_between_the_walls() -> None:
    got = reflect(np.array([20.0, 80.0, 90.0, 10.0, 140.0]), 14.0, 76.0)
    # 80 -> 76 - 4; 90 -> 76 - 14; 10 -> 14 + 4; 140 = 14 + 126 -> one round trip (124) + 2
    np.testing.assert_allclose(got, [20.0, 72.0, 62.0, 18.0, 16.0])


def test_intercept_follows_the_ball_to_our_line_and_off_the_walls() -> None:
    # Coming at 5 columns/step from column 24: 10 steps to column 74, rising 5 rows a step from
    # row 70: 120 -> reflected off row 76 (44 too far) and row 14 -> 32.  A ball going away
    # keeps its own row.
    got = intercept(
        np.array([24.0, 24.0]), np.array([70.0, 70.0]), np.array([5.0, -5.0]),
        np.array([5.0, 5.0]), 74.0, 14.0, 76.0,
    )
    np.testing.assert_allclose(got, [32.0, 70.0])


def test_paddle_model_owes_the_lagging_part_of_recent_presses() -> None:
    pong = PaddleModel(kernel=(2.0, 5.5, 1.0), low=14.5, high=76.0)
    positions = np.array(
        [
            [40.0, 40.0, 40.0, 40.0],  # at rest: nothing owed
            [40.0, 40.0, 40.0, 42.0],  # one press a step ago: 5.5 + 1 still to come
            [20.0, 22.0, 29.5, 38.0],  # pressed three steps running: 5.5 + 1 + 1
            [50.0, 48.0, 40.5, 32.0],  # the same upwards
        ]
    )
    np.testing.assert_allclose(pong.owed_motion(positions), [0.0, 6.5, 7.5, -7.5])
    assert pong.quantum == pytest.approx(8.5)


# --------------------------------------------------------------------------------------- Pong


def test_pong_moves_toward_the_ball_and_rests_when_aligned() -> None:
    obs = np.stack(
        [
            pong_stack(still(50), coming(30, 40, 0, 3)),  # ball above the paddle -> up
            pong_stack(still(30), coming(60, 40, 0, 3)),  # ball below -> down
            pong_stack(still(45), coming(45, 40, 0, 3)),  # aligned -> stay
            pong_stack(still(50), coming(48, 40, 0, 3)),  # within half a press -> stay
            pong_stack(still(20), [None] * STACK),  # no ball: back to the centre (45) -> down
            pong_stack(still(45), [None] * STACK),  # no ball, already centred -> stay
            pong_stack(None, coming(30, 40, 0, 3)),  # no paddle: no opinion
        ]
    )
    actions = PongExpert(len(obs)).act(obs, {})
    assert actions.dtype == np.int64
    expected = [PONG_UP, PONG_DOWN, PONG_NOOP, PONG_NOOP, PONG_DOWN, PONG_NOOP, NO_ACTION]
    np.testing.assert_array_equal(actions, expected)


def test_pong_aims_at_the_intercept_not_at_the_ball() -> None:
    # The ball is low (row 70) but heading down-right into the floor: it will cross our column
    # at row 32 (see the intercept test), above a paddle at row 50 -> up, though it is below.
    obs = pong_stack(still(50), coming(70, 24, 5, 5))[None]
    assert PongExpert(1).act(obs, {})[0] == PONG_UP
    # The same ball going away from us: the expert just follows its row -> down.
    away = pong_stack(still(50), coming(70, 60, 5, -5))[None]
    assert PongExpert(1).act(away, {})[0] == PONG_DOWN


def test_pong_lets_a_moving_paddle_coast_into_place() -> None:
    # Paddle pressed down three steps running, now at row 38: it will coast 7.5 more to 45.5,
    # 1.5 rows from a ball at row 44 -> no further press (a naive expert would press down).
    obs = pong_stack([20, 22, 29.5, 38], coming(44, 40, 0, 3))[None]
    assert PongExpert(1).act(obs, {})[0] == PONG_NOOP


def test_pong_sees_a_ball_hidden_behind_our_paddle_column_in_older_frames() -> None:
    balls = [(29, 60), (29, 64), (29, 68), None]  # newest frame: ball inside column 72..76
    obs = pong_stack(still(50), balls)[None]
    assert PongExpert(1).act(obs, {})[0] == PONG_UP


def test_a_single_frame_stack_still_works() -> None:
    obs = pong_stack(still(50), coming(30, 40, 0, 3))[None, -1:]
    assert PongExpert(1).act(obs, {})[0] == PONG_UP


# ----------------------------------------------------------------------------------- Breakout


def test_breakout_moves_under_the_ball_and_fires_without_one() -> None:
    obs = np.stack(
        [
            breakout_stack(60, coming(60, 20, 4, 0)),  # ball falling left of the paddle
            breakout_stack(20, coming(60, 60, 4, 0)),  # right of it
            breakout_stack(40, coming(60, 40, 4, 0)),  # straight above it
            breakout_stack(40, coming(16, 40, 0, 0)),  # above the bricks, straight above
            breakout_stack(40, [None] * STACK),  # no ball: launch one
            breakout_stack(None, coming(60, 40, 4, 0)),  # no paddle: no opinion
        ]
    )
    actions = BreakoutExpert(len(obs)).act(obs, {})
    expected = [BREAK_LEFT, BREAK_RIGHT, BREAK_NOOP, BREAK_NOOP, BREAK_FIRE, NO_ACTION]
    np.testing.assert_array_equal(actions, expected)


def test_breakout_aims_where_the_ball_comes_down() -> None:
    # Ball at row 56, column 40, falling 4 rows and moving 4 columns right a step: it reaches
    # the paddle row (76) in 5 steps at column 60 -> right, though it is above the paddle at 40.
    obs = breakout_stack(40, coming(56, 40, 4, 4))[None]
    assert BreakoutExpert(1).act(obs, {})[0] == BREAK_RIGHT


# ------------------------------------------------------------------------------------ factory


def test_ale_expert_for_names_the_two_games_only() -> None:
    pong, breakout = ale_expert_for("ALE/Pong-v5", 3), ale_expert_for("ALE/Breakout-v5", 3)
    assert isinstance(pong, PongExpert) and pong.name == "pong"
    assert isinstance(breakout, BreakoutExpert) and breakout.name == "breakout"
    assert ale_expert_for("ALE/SpaceInvaders-v5", 3) is None
    assert ale_expert_for("Tempest-v0", 3) is None


def test_the_full_action_set_is_honoured_when_given() -> None:
    full = ["NOOP", "FIRE", "UP", "RIGHT", "LEFT", "DOWN", "UPRIGHT", "UPLEFT"]
    expert = ale_expert_for("ALE/Pong-v5", 1, full)
    obs = pong_stack(still(50), coming(30, 40, 0, 3))[None]
    assert expert is not None and expert.act(obs, {})[0] == 3  # RIGHT in the full set
    with pytest.raises(ValueError, match="lacks"):
        ale_expert_for("ALE/Breakout-v5", 1, ["NOOP", "UP"])


def test_frames_of_another_size_are_refused() -> None:
    with pytest.raises(ValueError, match="84"):
        PongExpert(1).act(np.zeros((1, 4, 64, 64), np.uint8), {})


# ------------------------------------------------------------------------ the real emulator


def play(game: str, steps: int, use_expert: bool) -> tuple[float, float, int]:
    """(points won, points lost, lives lost) over `steps` steps of 2 envs, sticky actions off."""
    cfg = EnvConfig(
        id=f"ALE/{game}-v5", num_envs=2, seed=0, sticky_action_prob=0.0, episodic_life=False
    )
    env = make_vector_env(cfg)
    meanings = env.get_action_meanings()
    assert tuple(meanings) == {"Pong": PONG_MINIMAL_ACTIONS,
                               "Breakout": BREAKOUT_MINIMAL_ACTIONS}[game]
    expert = ale_expert_for(cfg.id, cfg.num_envs, meanings)
    rng = np.random.default_rng(0)
    obs, info = env.reset()
    won = lost = 0.0
    lives_lost = 0
    for _ in range(steps):
        if use_expert:
            actions = expert.act(obs, info)
            actions = np.where(actions == NO_ACTION, 0, actions)
        else:
            actions = rng.integers(0, len(meanings), cfg.num_envs)
        lives = info["lives"]
        obs, _, _, _, info = env.step(actions)
        points = info["raw_reward"]
        won += float(points[points > 0].sum())
        lost -= float(points[points < 0].sum())
        lives_lost += int(((info["lives"] < lives) & ~info["reset_step"]).sum())
    env.close()
    return won, lost, lives_lost


def test_pong_expert_wins_points_where_random_play_loses_them() -> None:
    # Measured (ale-py 0.12.1, 2 envs x 2,000 steps): expert 12 won / 0 lost, random 4 / 85.
    won, lost, _ = play("Pong", 2000, use_expert=True)
    random_won, random_lost, _ = play("Pong", 2000, use_expert=False)
    assert won >= 2 * random_won
    assert won - lost > 0 > random_won - random_lost
    assert lost < random_lost / 4


@pytest.mark.slow
def test_breakout_expert_scores_far_more_per_life_than_random_play() -> None:
    # Measured (2 envs x 3,000 steps): expert 882 points / 10 lives lost, random 34 / 174.
    points, _, lives = play("Breakout", 3000, use_expert=True)
    random_points, _, random_lives = play("Breakout", 3000, use_expert=False)
    assert points / max(lives, 1) > 5 * random_points / max(random_lives, 1)
    assert points > 5 * random_points
