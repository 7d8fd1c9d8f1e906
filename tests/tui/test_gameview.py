"""tui.gameview: the braille canvas, the tube's projection, and the `g` panel in the app."""

from __future__ import annotations

import pytest

from tests.tui.helpers import (
    CONFIG,
    LARGE,
    SMALL,
    drive,
    game_view,
    make_row,
    screen_lines,
    widget_text,
    write_game,
    write_run,
)
from tui import gameview as gv
from tui.source import RunSource

CAPTION = "wave 3 · score 4,250 · lives 2 · play · frame 12,345"


def braille_dots(text: str) -> int:
    """Raised dots in `text` (U+2800 is the blank braille cell)."""
    return sum(bin(ord(c) - 0x2800).count("1") for c in text if 0x2800 < ord(c) <= 0x28FF)


def braille_colours(app) -> set[str]:
    """Hex colours of the braille cells on screen."""
    found = set()
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            braille = any(0x2800 < ord(c) <= 0x28FF for c in segment.text)
            if braille and segment.style and segment.style.color:
                rgb = segment.style.color.get_truecolor()
                found.add(f"#{rgb.red:02x}{rgb.green:02x}{rgb.blue:02x}")
    return found


def text_of(canvas: gv.BrailleCanvas) -> list[str]:
    return ["".join(text for text, _ in runs) for runs in canvas.rows()]


# ---- the canvas ----------------------------------------------------------------------------


def test_dots_map_to_their_braille_bits() -> None:
    canvas = gv.BrailleCanvas(2, 1)
    canvas.line((0, 0), (3, 0), "red")  # the top row of both cells
    canvas.dot(3, 3, "blue")  # bottom right of the second cell
    canvas.dot(9, 9, "blue")  # outside: skipped
    assert text_of(canvas) == [chr(0x2809) + chr(0x2809 | 0x80)]
    assert canvas.rows() == [[("⠉", "red"), (chr(0x2889), "blue")]]


def test_a_vertical_line_fills_the_left_column_and_empty_cells_are_spaces() -> None:
    canvas = gv.BrailleCanvas(2, 2)
    canvas.line((0, 7), (0, 0), "green")
    assert text_of(canvas) == ["⡇ ", "⡇ "]
    assert canvas.rows()[0] == [("⡇", "green"), (" ", "")]


def test_a_diagonal_line_sets_one_dot_per_step() -> None:
    canvas = gv.BrailleCanvas(2, 1)
    canvas.line((0, 0), (3, 3), "red")
    assert text_of(canvas) == [chr(0x2800 | 0x01 | 0x10) + chr(0x2800 | 0x04 | 0x80)]


def test_a_shallow_line_steps_along_its_longer_axis() -> None:
    canvas = gv.BrailleCanvas(2, 1)
    canvas.line((0, 0), (3, 1), "red")  # dots (0, 0), (1, 0), (2, 1), (3, 1)
    assert text_of(canvas) == [chr(0x2800 | 0x01 | 0x08) + chr(0x2800 | 0x02 | 0x10)]


# ---- geometry ------------------------------------------------------------------------------


def test_depth_scale_is_one_at_the_rim_a_fifth_at_the_far_end() -> None:
    assert gv.depth_scale(0x10) == 1.0
    assert gv.depth_scale(0xF0) == pytest.approx(0.2)
    assert gv.depth_scale(0x80) == pytest.approx(1 / 3)  # 1 / (1 + 4 * 0x70 / 0xE0)


def test_the_plane_is_fitted_square_and_centred() -> None:
    canvas = gv.BrailleCanvas(40, 10)  # 80 x 40 dots: 40 x 40 used, 20 dots each side
    view = game_view()
    proj = gv.Projection(canvas, view["tube"]["x"], view["tube"]["y"])
    assert proj.dots((0.0, 255.0)) == (20.0, 0.0)
    assert proj.dots((256.0, -1.0)) == (60.0, 40.0)
    assert proj.plane(0.5, 0x10) == (235.5, 149.0)  # between point 0 (240,128), 1 (231,170)
    assert proj.plane(16.0, 0xF0) == pytest.approx((0x80 + 0.2 * 112, 0x80))  # point 0 far
    assert proj.centre(3.5, 0x10) == proj.at(4.0, 0x10)  # a fuseball on line 4


def _cell_at(canvas: gv.BrailleCanvas, dots: tuple[float, float]) -> int:
    return canvas.bits[(round(dots[1]) >> 2) * canvas.width + (round(dots[0]) >> 1)]


@pytest.mark.parametrize("is_open", [False, True])
def test_an_open_tube_has_no_closing_segment(is_open) -> None:
    v_x = [0x10, 0x1E, 0x2C, 0x3A, 0x48, 0x56, 0x64, 0x70, 0x90, 0x9E, 0xAC, 0xBA, 0xC8, 0xD6,
           0xE4, 0xF0]  # the "V": point 0 top left, point 15 top right
    v_y = [0xF0, 0xD0, 0xB0, 0x90, 0x70, 0x50, 0x30, 0x10, 0x10, 0x30, 0x50, 0x70, 0x90, 0xB0,
           0xD0, 0xF0]  # fmt: skip
    view = game_view(tube={"x": v_x, "y": v_y, "open": is_open}, enemies=[], shots=[],
                     enemy_shots=[], spikes=[0] * 16)  # fmt: skip
    view["player"]["alive"] = False
    canvas = gv.draw_game(view, 60, 20)
    proj = gv.Projection(canvas, v_x, v_y)
    top_middle = proj.dots((0x80, 0xF0))
    assert bool(_cell_at(canvas, top_middle)) is not is_open
    assert _cell_at(canvas, proj.at(3, 0x10))  # the rest of the rim is there


def test_each_thing_has_its_colour() -> None:
    canvas = gv.draw_game(game_view(), 80, 30)
    assert set(canvas.colours) == {"", gv.TUBE_COLOUR, "red", "cyan", "magenta", "lime",
                                   "white", "yellow"}  # fmt: skip
    only_claw = game_view(enemies=[], shots=[], enemy_shots=[], spikes=[0] * 16)
    claw = gv.draw_game(only_claw, 80, 30)
    assert "yellow" in claw.colours and "red" not in claw.colours
    only_claw["player"]["alive"] = False
    assert "yellow" not in gv.draw_game(only_claw, 80, 30).colours


def test_caption_and_messages() -> None:
    assert gv.caption(game_view()) == CAPTION
    down = game_view(mode="other", player={"lane": 4.0, "depth": 0x10, "alive": False})
    assert gv.caption(down).endswith("· other, player down · frame 12,345")
    assert gv.absent_message("Tempest-v0") == gv.absent_message(None) == gv.WAITING
    assert gv.absent_message("ALE/Pong-v5") == gv.NO_GAME_VIEW


# ---- the source and the app -----------------------------------------------------------------


def test_the_source_reads_game_json_only_when_asked(tmp_path) -> None:
    run_dir = write_run(tmp_path / "run", [make_row(0)])
    view = write_game(run_dir)
    run = RunSource(run_dir)
    plain = run.poll()
    assert (plain.game_read, plain.game) == (False, None)
    asked = run.poll(game=True)
    assert (asked.game_read, asked.game) == (True, view)
    (run_dir / "game.json").write_text('{"version": 1, "fra')
    torn = run.poll(game=True)
    assert (torn.game_read, torn.game) == (True, None)


SIZES = [pytest.param(SMALL, id="80x24"), pytest.param(LARGE, id="160x48")]


@pytest.mark.parametrize("size", SIZES)
def test_g_draws_the_game_then_g_goes_back(tmp_path, size) -> None:
    run_dir = write_run(tmp_path / "run", [make_row(0)])
    write_game(run_dir)

    async def toggle(app, pilot):
        await pilot.press("g")
        await app.poll_once()
        await pilot.pause()
        shown = widget_text(app, "#game"), app.query_one("#tiles").display, braille_colours(app)
        await pilot.press("g")
        await pilot.pause()
        return shown, app.query_one("#main").current, app.query_one("#tiles").display

    (game, tiles_with_game, colours), back, tiles_after = drive(run_dir, size, toggle)
    assert colours == {"#3c64ff", "#ff0000", "#00ffff", "#ff00ff", "#00ff00", "#ffffff",
                       "#ffff00"}  # tube, flipper, pulsar, tanker, spiker+spikes, fuseball, claw
    assert CAPTION in game
    assert braille_dots(game) > (300 if size == SMALL else 800)
    assert tiles_with_game is (size == LARGE)  # a small terminal gives the game their rows
    assert (back, tiles_after) == ("charts", True)
    assert len(game.splitlines()[0]) == size[0]  # it fits the width


def test_game_json_is_read_only_while_the_panel_is_shown(tmp_path) -> None:
    run_dir = write_run(tmp_path / "run", [make_row(0)])
    write_game(run_dir)

    async def poll_with_charts(app, pilot):
        await app.poll_once()
        return app.game_view.view

    assert drive(run_dir, SMALL, poll_with_charts) is None


def test_without_game_json_a_tempest_run_waits_then_shows_the_game(tmp_path) -> None:
    run_dir = write_run(tmp_path / "run", [make_row(0)])

    async def wait_then_show(app, pilot):
        await pilot.press("g")
        await app.poll_once()
        await pilot.pause()
        waiting = "\n".join(screen_lines(app))
        write_game(run_dir, wave=9)
        await app.poll_once()
        await pilot.pause()
        return waiting, widget_text(app, "#game")

    waiting, shown = drive(run_dir, SMALL, wait_then_show)
    assert gv.WAITING in waiting
    assert "wave 9 · score" in shown and braille_dots(shown) > 100


def test_an_ale_run_has_no_game_view(tmp_path) -> None:
    config = {**CONFIG, "config": {**CONFIG["config"], "env": {"id": "ALE/Pong-v5"}}}
    run_dir = write_run(tmp_path / "run", [make_row(0)], config=config)

    async def toggle(app, pilot):
        await pilot.press("g")
        await app.poll_once()
        await pilot.pause()
        return "\n".join(screen_lines(app))

    assert gv.NO_GAME_VIEW in drive(run_dir, SMALL, toggle)
