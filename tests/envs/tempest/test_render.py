"""The renderer: what is drawn where, in which colour, and the PNG/GIF files.

Expected pixels are worked out by hand from the circle tube's points (tube 0, reference §1.2):
point 4 = (0x80, 0xF0), point 5 = (0x56, 0xE7), point 6 = (0x31, 0xCF), point 0 = (0xF0, 0x80),
point 1 = (0xE7, 0xAA); at size 256 a plane point (x, y) is pixel column x, row 255 - y; a depth d
scales toward (0x80, 0x80) by 1 / (1 + 4 (d - 0x10) / 0xE0) (1/3 at 0x80, 1/5 at 0xF0).
"""

from __future__ import annotations

import numpy as np
import pytest

from envs.tempest.render import (
    ENEMY_COLOURS,
    ENEMY_SHOT_COLOUR,
    PLAYER_COLOUR,
    SPIKE_COLOUR,
    TUBE_COLOUR,
    depth_scale,
    render_frame,
    save_gif,
    save_png,
)
from envs.tempest.state import (
    DEPTH_ONE,
    FLIPPER,
    FUSEBALL,
    MODE_PLAY,
    PULSAR,
    RIM,
    SPIKER,
    TANKER,
    GameState,
    allocate,
)

RED = ENEMY_COLOURS[FLIPPER]


def empty(tube: int = 0, is_open: int = 0) -> GameState:
    state = allocate(1)
    state.tube[0], state.is_open[0], state.mode[0] = tube, is_open, MODE_PLAY
    return state


def with_enemy(kind: int, lane: int, depth: int, **fields: int) -> GameState:
    state = empty()
    state.en_type[0, 0], state.en_lane[0, 0], state.en_y[0, 0] = kind, lane, depth * DEPTH_ONE
    for name, value in fields.items():
        getattr(state, name)[0, 0] = value
    return state


def pixels_of(frame: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """(k, 2) row, column of every pixel of exactly that colour."""
    return np.argwhere((frame == np.array(colour, np.uint8)).all(axis=2))


def nearest(frame: np.ndarray, colour: tuple[int, int, int], row: float, col: float) -> float:
    found = pixels_of(frame, colour)
    assert len(found), f"no pixel of colour {colour}"
    return float(np.hypot(found[:, 0] - row, found[:, 1] - col).min())


def centroid(frame: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    return pixels_of(frame, colour).mean(axis=0)


def test_depth_scale_runs_from_the_rim_to_a_fifth_at_the_far_end() -> None:
    np.testing.assert_allclose(depth_scale(np.array([0x10, 0x80, 0xF0])), [1.0, 1 / 3, 0.2])


def test_a_frame_is_square_rgb_bytes() -> None:
    for size in (256, 100):
        frame = render_frame(empty(), 0, size)
        assert frame.shape == (size, size, 3) and frame.dtype == np.uint8


def test_an_empty_state_draws_only_the_tube() -> None:
    frame = render_frame(empty())
    colours = {tuple(c) for c in frame.reshape(-1, 3)}
    assert colours == {(0, 0, 0), TUBE_COLOUR}
    # The rim passes through point 4 (0x80, 0xF0) -> row 15, column 128.
    assert nearest(frame, TUBE_COLOUR, 15, 128) == 0.0


def test_an_enemy_is_drawn_in_its_colour_at_its_lane_and_depth() -> None:
    # Lane 4 at depth 0x80: points 4 and 5 scaled by 1/3 toward the centre -> (128, 165.3) and
    # (114, 162.3); their middle (121, 163.8) is row 91.2, column 121.
    for kind in (FLIPPER, PULSAR, TANKER, SPIKER):
        frame = render_frame(with_enemy(kind, lane=4, depth=0x80))
        colour = ENEMY_COLOURS[kind]
        assert nearest(frame, colour, 91.2, 121) <= 2.5, kind
        spread = np.abs(pixels_of(frame, colour) - [91.2, 121]).max()
        assert spread <= 10, f"type {kind} drawn {spread} pixels away"
        others = [c for k, c in ENEMY_COLOURS.items() if k not in (kind, SPIKER, FLIPPER)]
        assert all(len(pixels_of(frame, c)) == 0 for c in others)


def test_a_fuseball_sits_on_its_line_not_in_the_lane_middle() -> None:
    # Line 4 at depth 0x80 -> (128, 165.3): row 89.7, column 128.  Its rays are many colours.
    frame = render_frame(with_enemy(FUSEBALL, lane=4, depth=0x80))
    assert nearest(frame, (255, 255, 255), 89.7, 128) <= 1.5
    assert len({tuple(c) for c in frame.reshape(-1, 3)}) >= 5


def test_a_flipping_enemy_swings_from_its_old_lane_to_its_new_one() -> None:
    # Toward higher lanes about line 5 at the rim: from lane 4 (middle (107, 235.5): row 19.5,
    # column 107) to lane 5 (middle (67.5, 219): row 36, column 67.5).
    lane4, lane5 = np.array([19.5, 107]), np.array([36, 67.5])

    def at(step: int) -> np.ndarray:
        state = with_enemy(FLIPPER, lane=5, depth=0x10, en_flipping=1, en_dir=1,
                           en_flip_step=step, en_flip_steps=8)
        return centroid(render_frame(state), RED)

    assert np.hypot(*(at(0) - lane4)) < 3
    assert np.hypot(*(at(8) - lane5)) < 3
    halfway = at(4)
    assert np.hypot(*(halfway - lane4)) > 6 and np.hypot(*(halfway - lane5)) > 6


def test_open_tubes_leave_out_the_segment_from_point_15_to_point_0() -> None:
    # The V (tube 7): point 15 = (0xF0, 0xF0) and point 0 = (0x10, 0xF0): the closing rim
    # segment is row 15 across the top; its middle is column 128.
    closed, opened = render_frame(empty(7, 0)), render_frame(empty(7, 1))
    assert tuple(closed[15, 128]) == TUBE_COLOUR
    assert tuple(opened[15, 128]) == (0, 0, 0)
    extra = (closed != opened).any(axis=2)
    assert extra.sum() > 100 and not ((opened != 0).any(axis=2) & ~(closed != 0).any(axis=2)).any()


def test_the_claw_sits_on_the_rim_in_its_lane_while_lives_are_left() -> None:
    state = empty()
    state.player_pos[0], state.player_y[0] = 0x4A, RIM  # lane 4
    assert len(pixels_of(render_frame(state), PLAYER_COLOUR)) == 0  # no life left: no claw
    state.lives[0] = 1
    frame = render_frame(state)
    # Lane 4 on the rim: middle row 19.5, column 107; the claw spans the lane (43 pixels).
    assert nearest(frame, PLAYER_COLOUR, 19.5, 107) <= 3.0
    assert np.abs(pixels_of(frame, PLAYER_COLOUR) - [19.5, 107]).max() <= 23


def test_shots_are_dots_at_their_lane_and_depth() -> None:
    state = empty()
    state.shot_y[0, 3], state.shot_lane[0, 3] = 0x80 * DEPTH_ONE, 4
    state.eshot_y[0, 1], state.eshot_lane[0, 1] = 0xF0 * DEPTH_ONE, 0
    frame = render_frame(state)
    assert nearest(frame, PLAYER_COLOUR, 91.2, 121) <= 1.0
    # Lane 0 middle (235.5, 149) at the far end (1/5): (149.5, 132.2) -> row 122.8, col 149.5.
    assert nearest(frame, ENEMY_SHOT_COLOUR, 122.8, 149.5) <= 1.0
    assert len(pixels_of(frame, ENEMY_SHOT_COLOUR)) <= 9


def test_a_spike_runs_from_the_far_end_to_its_tip() -> None:
    state = empty()
    state.spike[0, 0] = 0x80
    frame = render_frame(state)
    # Lane 0 at the far end: row 122.8, column 149.5; at the tip (1/3): row 120, column 163.8;
    # nearer than the tip (0x40, scale 0.54): row 115.7, column 185.9 stays black.
    assert nearest(frame, SPIKE_COLOUR, 122.8, 149.5) <= 1.0
    assert nearest(frame, SPIKE_COLOUR, 120, 163.8) <= 1.0
    assert nearest(frame, SPIKE_COLOUR, 115.7, 185.9) > 10


def test_png_round_trips_exactly(tmp_path) -> None:
    from PIL import Image

    frame = render_frame(with_enemy(FLIPPER, lane=4, depth=0x80))
    save_png(frame, tmp_path / "frame.png")
    np.testing.assert_array_equal(np.asarray(Image.open(tmp_path / "frame.png").convert("RGB")),
                                  frame)


def test_gif_holds_every_frame_at_the_given_rate(tmp_path) -> None:
    from PIL import Image

    frames = [render_frame(with_enemy(FLIPPER, lane=4, depth=d), 0, 128)
              for d in (0xF0, 0xC0, 0x90, 0x60, 0x30)]
    save_gif(frames, tmp_path / "episode.gif", fps=20)
    with Image.open(tmp_path / "episode.gif") as gif:
        assert gif.n_frames == 5 and gif.size == (128, 128)
        assert gif.info["duration"] == 50 and gif.info.get("loop") == 0
        gif.seek(2)
        np.testing.assert_array_equal(np.asarray(gif.convert("RGB")), frames[2])


def test_gif_refuses_nothing_to_write(tmp_path) -> None:
    with pytest.raises(ValueError, match="at least one frame"):
        save_gif([], tmp_path / "none.gif")
