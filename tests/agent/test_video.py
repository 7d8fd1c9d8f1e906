"""`--video`: the first evaluated game as a readable file of the right frame count, filmed
from the simulator's renderer or, for ALE, from a colour twin that plays the same game."""

from __future__ import annotations

import imageio.v2 as iio2
import imageio.v3 as iio3
import numpy as np
import pytest

from agent.eval_command import EvalRequest, run_eval
from agent.evaluate import EvalRequestError
from agent.video import burn_in, check_video_path, write_video


def _frames(count: int) -> list[np.ndarray]:
    return [burn_in(np.full((64, 48, 3), 40 * (k % 5), np.uint8), f"frame {k}")
            for k in range(count)]


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_write_video_writes_every_frame_readably(tmp_path, suffix) -> None:
    path = tmp_path / f"clip{suffix}"
    write_video(_frames(37), path, fps=20)
    if suffix == ".mp4":
        with iio2.get_reader(path) as reader:
            assert reader.count_frames() == 37 and reader.get_meta_data()["fps"] == 20
    else:
        assert iio3.imread(path).shape[:3] == (37, 64, 48)
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary left


def test_a_failed_encode_leaves_no_file(tmp_path) -> None:
    path = tmp_path / "clip.gif"
    with pytest.raises(ValueError):
        write_video([np.zeros((8, 8, 3), np.uint8), np.zeros((9, 9, 3), np.uint8)], path, 20)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("name", "fragment"), [("clip.avi", "must end in .mp4 or .gif"),
                                                ("missing/clip.mp4", "there is no folder")])
def test_a_bad_video_path_is_refused_before_anything_plays(tmp_path, name, fragment) -> None:
    with pytest.raises(ValueError, match=fragment):
        check_video_path(str(tmp_path / name))
    with pytest.raises(EvalRequestError, match=fragment):
        run_eval(None, EvalRequest(1, 0, "random", video=str(tmp_path / name)))


def test_burn_in_writes_on_a_dark_band_and_keeps_the_picture_size() -> None:
    picture = np.full((30, 60, 3), 200, np.uint8)
    burned = burn_in(picture, "score 1")
    assert burned.shape == picture.shape and (burned[12:] == 200).all()
    assert (burned[:12] > 128).any() and (burned[:12] == 0).any()  # light text on black


@pytest.mark.slow
def test_a_tempest_game_is_filmed_frame_for_frame(tmp_path) -> None:
    """One whole game of random play: the picture before the first step, then one per step."""
    path = tmp_path / "game.mp4"
    document, _ = run_eval(None, EvalRequest(1, 7, "random", "game", video=str(path)))
    game = document["games"][0]
    assert document["video"] == {"path": str(path), "frames": game["frames"] + 1,
                                 "score": game["score"], "in_sync": True}
    with iio2.get_reader(path) as reader:
        assert reader.count_frames() == game["frames"] + 1
        assert reader.get_data(0).shape == (256, 256, 3)


@pytest.mark.slow
def test_an_ale_game_is_filmed_on_a_twin_that_plays_the_same_game(tmp_path) -> None:
    """The twin is seeded like env 0 and given its actions: its points are the game's on every
    step (in_sync), and it shows the ROM's colour picture, one per agent step."""
    path = tmp_path / "breakout.gif"
    document, _ = run_eval(None, EvalRequest(2, 3, "random", video=str(path)), "breakout")
    first = document["games"][0]
    assert document["video"]["in_sync"] and document["video"]["score"] == first["score"]
    assert iio3.imread(path).shape == (first["steps"] + 1, 210, 160, 3)


def test_a_long_game_is_cut_at_the_frames_asked_for(tmp_path) -> None:
    path = tmp_path / "clip.gif"
    document, _ = run_eval(None, EvalRequest(1, 7, "random", "game", video=str(path),
                                             video_frames=25))
    assert document["video"]["frames"] == 25 and document["video"]["score"] is None
    assert iio3.imread(path).shape[0] == 25
    with pytest.raises(EvalRequestError, match="--video-frames must be at least 1"):
        run_eval(None, EvalRequest(1, 7, "random", video=str(path), video_frames=0))


def test_a_full_disk_is_a_clear_error_and_leaves_no_file(tmp_path) -> None:
    """The encoder writes beside the final name; when the disk refuses, the temporary goes and
    `tempest-dqn eval` says what happened (exit 2, no traceback)."""
    from agent.cli import main
    from tests.small_disk import small_filesystem

    with small_filesystem(tmp_path / "disk", size_kb=64) as disk:
        code = main(["eval", "--policy", "random", "--protocol", "game", "--episodes", "1",
                     "--video", str(disk / "game.gif")], environ={})
        assert code == 2 and list(disk.iterdir()) == []
