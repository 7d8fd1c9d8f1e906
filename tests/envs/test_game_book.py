"""GameBook on hand-made step arrays: the bookkeeping rules without an emulator."""

from __future__ import annotations

import numpy as np

from envs.ale import clip_reward
from envs.game_book import GameBook


def info(lives, frame, episode_frame):
    return {
        "lives": np.array(lives, np.int32),
        "frame_number": np.array(frame, np.int32),
        "episode_frame_number": np.array(episode_frame, np.int32),
    }


def no(n=2):
    return np.zeros(n, bool)


def test_clip_reward_keeps_the_sign_only() -> None:
    raw = np.array([-7, -1, 0, 1, 4, 7, 200], np.float32)
    clipped = clip_reward(raw)
    assert clipped.dtype == np.float32
    np.testing.assert_array_equal(clipped, [-1, -1, 0, 1, 1, 1, 1])


def test_scores_accumulate_and_close_on_game_over() -> None:
    book = GameBook(2, life_loss_terminates=False, max_frames=108_000)
    book.reset(info([3, 3], [1, 1], [1, 1]))
    out = book.update(np.array([4, 0], np.float32), no(), no(), info([3, 3], [5, 5], [5, 5]))
    np.testing.assert_array_equal(out["episode_score"], [4, 0])
    assert np.isnan(out["final_score"]).all() and (out["final_length"] == -1).all()
    done = np.array([True, False])
    out = book.update(np.array([7, 1], np.float32), done, no(), info([0, 3], [9, 9], [9, 9]))
    assert out["game_over"].tolist() == [True, False]
    assert out["episode_end"].tolist() == [True, False]
    assert out["final_score"][0] == 11 and np.isnan(out["final_score"][1])
    assert out["final_length"].tolist() == [2, -1]
    assert out["final_frames"].tolist() == [9, -1]
    # env 0 resets (its episode counter restarts), env 1 steps on
    out = book.update(np.zeros(2, np.float32), no(), no(), info([3, 3], [10, 13], [1, 13]))
    assert out["reset_step"].tolist() == [True, False]
    assert out["episode_score"].tolist() == [0, 1]
    assert out["episode_length"].tolist() == [0, 3]
    assert np.isnan(out["final_score"]).all()


def test_a_life_loss_terminates_without_ending_the_game() -> None:
    book = GameBook(1, life_loss_terminates=True, max_frames=108_000)
    book.reset(info([2], [1], [1]))
    term = np.array([True])
    out = book.update(np.array([1], np.float32), term, no(1), info([1], [5], [5]))
    assert out["life_lost"].tolist() == [True] and out["game_over"].tolist() == [False]
    assert not out["episode_end"][0] and np.isnan(out["final_score"][0])
    out = book.update(np.array([2], np.float32), no(1), no(1), info([1], [9], [9]))
    assert not out["reset_step"][0] and out["episode_score"][0] == 3
    out = book.update(np.array([0], np.float32), term, no(1), info([0], [13], [13]))
    assert out["game_over"].tolist() == [True] and out["final_score"][0] == 3
    assert out["final_length"][0] == 3


def test_a_life_lost_on_the_capping_step_still_ends_the_game() -> None:
    book = GameBook(1, life_loss_terminates=True, max_frames=8)
    book.reset(info([5], [3], [3]))  # 2 frames of reset no-ops: the cap counts from here
    out = book.update(np.array([1], np.float32), no(1), no(1), info([5], [7], [7]))
    assert not out["episode_end"][0]
    out = book.update(np.zeros(1, np.float32), np.array([True]), no(1), info([4], [11], [11]))
    assert out["life_lost"][0] and out["episode_end"][0]
    assert out["final_score"][0] == 1 and out["final_length"][0] == 2


def test_a_reset_the_book_did_not_expect_closes_the_game_on_the_reset_step() -> None:
    """A game over on the very step a life was lost looks like a life loss; the reset tells."""
    book = GameBook(1, life_loss_terminates=True, max_frames=108_000)
    book.reset(info([3], [1], [1]))
    out = book.update(np.array([5], np.float32), np.array([True]), no(1), info([2], [5], [5]))
    assert out["life_lost"][0] and np.isnan(out["final_score"][0])
    out = book.update(np.zeros(1, np.float32), no(1), no(1), info([3], [7], [2]))
    assert out["reset_step"][0]
    assert out["final_score"][0] == 5 and out["final_length"][0] == 1
    assert out["final_frames"][0] == 5 and out["episode_score"][0] == 0


def test_a_partial_reset_restarts_only_the_masked_envs() -> None:
    book = GameBook(2, life_loss_terminates=False, max_frames=108_000)
    book.reset(info([3, 3], [1, 1], [1, 1]))
    book.update(np.array([2, 3], np.float32), no(), no(), info([3, 3], [5, 5], [5, 5]))
    book.reset(info([3, 3], [1, 5], [1, 5]), np.array([True, False]))
    out = book.update(np.array([1, 1], np.float32), no(), no(), info([3, 3], [5, 9], [5, 9]))
    assert out["episode_score"].tolist() == [1, 4]
    assert out["episode_length"].tolist() == [1, 2]
