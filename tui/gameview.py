"""`g`: the live Tempest game, drawn from run_dir/game.json with braille characters.

Why braille: each terminal cell holds 2x4 dots, so an 80x24 terminal still shows the tube's
shape and where the enemies are; a cell has one colour (the last thing drawn in it wins, drawn
in the order tube, spikes, shots, enemies, claw).  A braille dot is about square (a cell is
about twice as high as wide), so the 0..255 plane keeps its proportions.

The geometry follows envs/tempest/render.py without importing it (tui may import only config
and metrics): the rim is the tube's 16 points, the far end the same shape scaled by 1/5 toward
the centre (0x80, 0x80), a depth d between them scales by 1 / (1 + 4 (d - 0x10) / 0xE0); lane k
lies between point k and point k+1, and a lane-centre coordinate x is at point x + 0.5, so a
flipping enemy's fractional lane slides along the rim shape (metrics.gameview has the units).
Marks are render.py's shapes drawn on the lane's segment at their depth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from textual.app import RenderResult
from textual.content import Content
from textual.widget import Widget

from config import TEMPEST_ENV_ID
from metrics.gameview import CENTRE, FAR_DEPTH, FAR_SCALE, RIM_DEPTH, TUBE_POINTS

WAITING = "game view: waiting for the trainer"
NO_GAME_VIEW = "game view: this env has no game view (ALE)"

LANES = TUBE_POINTS

TUBE_COLOUR = "#3c64ff"
PLAYER_COLOUR = "yellow"
SHOT_COLOUR = "yellow"
ENEMY_SHOT_COLOUR = "white"
SPIKE_COLOUR = "lime"
"""Bright green (#00ff00): Textual's "green" is the dark #008000."""
ENEMY_COLOURS = {"flipper": "red", "pulsar": "cyan", "tanker": "magenta", "spiker": SPIKE_COLOUR,
                 "fuseball": "white"}  # fmt: skip

Point = tuple[float, float]
Shape = tuple[tuple[Point, ...], ...]

# Polylines in the frame of a lane segment A->B (render.py): (a, b) is M + a (B - A) + b |B - A| n,
# M the midpoint, n the unit normal pointing away from the centre; a = -0.5 is A, +0.5 is B.
SHAPES: dict[str, Shape] = {
    "flipper": (((-0.5, 0.15), (0.5, -0.15), (0.5, 0.15), (-0.5, -0.15), (-0.5, 0.15)),),
    "pulsar": (((-0.5, 0.0), (-0.3, 0.2), (-0.1, -0.2), (0.1, 0.2), (0.3, -0.2), (0.5, 0.0)),),
    "tanker": (((-0.35, 0.0), (0.0, 0.3), (0.35, 0.0), (0.0, -0.3), (-0.35, 0.0)),),
    "spiker": (((0.0, 0.0), (0.08, 0.0), (0.08, 0.08), (-0.1, 0.08), (-0.1, -0.12),
                (0.16, -0.12), (0.16, 0.16), (-0.2, 0.16), (-0.2, -0.2)),),
    "fuseball": tuple(((0.0, 0.0), (0.3 * math.cos(a), 0.3 * math.sin(a)))
                      for a in (0.3 + 2 * math.pi * k / 5 for k in range(5))),
    "claw": (((-0.5, 0.0), (-0.25, 0.3), (0.0, 0.12), (0.25, 0.3), (0.5, 0.0), (0.0, 0.05),
              (-0.5, 0.0)),),
}  # fmt: skip

# Braille dot bits: BITS[dy][dx] for a dot at column dx (0..1), row dy (0..3) of a cell.
BITS = ((0x01, 0x08), (0x02, 0x10), (0x04, 0x20), (0x40, 0x80))


class BrailleCanvas:
    """`width` x `height` cells of 2x4 dots; dot (0, 0) is the top-left corner."""

    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = max(0, width), max(0, height)
        self.dots_wide, self.dots_high = 2 * self.width, 4 * self.height
        self.bits = [0] * (self.width * self.height)
        self.colours: list[str] = [""] * (self.width * self.height)

    def dot(self, x: float, y: float, colour: str) -> None:
        """Sets the dot nearest (x, y); dots outside the canvas are skipped."""
        self._set(round(x), round(y), colour)

    def _set(self, x: int, y: int, colour: str) -> None:
        if 0 <= x < self.dots_wide and 0 <= y < self.dots_high:
            cell = (y >> 2) * self.width + (x >> 1)
            self.bits[cell] |= BITS[y & 3][x & 1]
            self.colours[cell] = colour

    def line(self, start: Point, end: Point, colour: str) -> None:
        """The dots nearest the segment, one per step along its longer axis (a terminal's
        braille view needs no more than that; the video renderer has its own kernel)."""
        (x0, y0), (x1, y1) = start, end
        steps = max(1, round(max(abs(x1 - x0), abs(y1 - y0))))
        for i in range(steps + 1):
            self.dot(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps, colour)

    def polyline(self, points: Sequence[Point], colour: str) -> None:
        for start, end in zip(points[:-1], points[1:], strict=True):
            self.line(start, end, colour)

    def rows(self) -> list[list[tuple[str, str]]]:
        """Each row as runs of (characters, colour); empty cells are spaces without colour."""
        rows = []
        for y in range(self.height):
            runs: list[tuple[str, str]] = []
            for x in range(self.width):
                bits = self.bits[y * self.width + x]
                char = chr(0x2800 + bits) if bits else " "
                colour = self.colours[y * self.width + x] if bits else ""
                if runs and runs[-1][1] == colour:
                    runs[-1] = (runs[-1][0] + char, colour)
                else:
                    runs.append((char, colour))
            rows.append(runs)
        return rows


def depth_scale(depth: float) -> float:
    """1 at the rim, FAR_SCALE at the far end, 1/z between (render.depth_scale)."""
    stretch = 1.0 / FAR_SCALE - 1.0
    return 1.0 / (1.0 + stretch * (depth - RIM_DEPTH) / (FAR_DEPTH - RIM_DEPTH))


class Projection:
    """Tube points at a depth -> canvas dots: the 0..255 plane (y up) fitted into the canvas,
    square, centred."""

    def __init__(self, canvas: BrailleCanvas, xs: Sequence[int], ys: Sequence[int]) -> None:
        self.points = list(zip(xs, ys, strict=True))
        self.unit = min(canvas.dots_wide, canvas.dots_high) / 256.0
        self.left = (canvas.dots_wide - 256.0 * self.unit) / 2.0
        self.top = (canvas.dots_high - 256.0 * self.unit) / 2.0

    def plane(self, position: float, depth: float) -> Point:
        """The plane point at point coordinate `position` (fractional: along the rim shape)."""
        i = math.floor(position)
        f = position - i
        (ax, ay), (bx, by) = self.points[i % LANES], self.points[(i + 1) % LANES]
        x, y = ax + (bx - ax) * f, ay + (by - ay) * f
        scale = depth_scale(min(max(depth, RIM_DEPTH), FAR_DEPTH))
        return CENTRE + (x - CENTRE) * scale, CENTRE + (y - CENTRE) * scale

    def dots(self, plane: Point) -> Point:
        return self.left + plane[0] * self.unit, self.top + (255.0 - plane[1]) * self.unit

    def at(self, position: float, depth: float) -> Point:
        """Canvas dots of point coordinate `position` at `depth`."""
        return self.dots(self.plane(position, depth))

    def lane(self, lane: float, depth: float) -> tuple[Point, Point]:
        """The two edge points (dots) of the lane whose centre is lane coordinate `lane`."""
        return self.at(lane, depth), self.at(lane + 1.0, depth)

    def centre(self, lane: float, depth: float) -> Point:
        return self.at(lane + 0.5, depth)


def draw_shape(canvas: BrailleCanvas, shape: Shape, a: Point, b: Point, colour: str) -> None:
    """A shape template on the segment a -> b (dots); a single dot when the segment is tiny."""
    ux, uy = b[0] - a[0], b[1] - a[1]
    width = math.hypot(ux, uy)
    mx, my = (a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0
    if width < 2.0:
        canvas.dot(mx, my, colour)
        return
    nx, ny = -uy / width, ux / width
    cx, cy = canvas.dots_wide / 2.0, canvas.dots_high / 2.0
    if nx * (mx - cx) + ny * (my - cy) < 0:
        nx, ny = -nx, -ny
    for line in shape:
        canvas.polyline([(mx + s * ux + t * width * nx, my + s * uy + t * width * ny)
                         for s, t in line], colour)  # fmt: skip


def draw_tube(canvas: BrailleCanvas, proj: Projection, is_open: bool) -> None:
    near = [proj.at(k, RIM_DEPTH) for k in range(LANES)]
    far = [proj.at(k, FAR_DEPTH) for k in range(LANES)]
    for start, end in zip(near, far, strict=True):
        canvas.line(start, end, TUBE_COLOUR)
    for ring in (near, far):
        canvas.polyline(ring if is_open else [*ring, ring[0]], TUBE_COLOUR)


def draw_marks(canvas: BrailleCanvas, proj: Projection, view: dict[str, Any]) -> None:
    """Spikes, shots, enemies, then the claw (the last drawn colours a shared cell)."""
    for lane, tip in enumerate(view["spikes"]):
        if tip:
            canvas.line(proj.centre(lane, FAR_DEPTH), proj.centre(lane, min(tip, FAR_DEPTH)),
                        SPIKE_COLOUR)  # fmt: skip
    big = min(canvas.dots_wide, canvas.dots_high) >= 120
    for key, colour in (("shots", SHOT_COLOUR), ("enemy_shots", ENEMY_SHOT_COLOUR)):
        for shot in view[key]:
            x, y = proj.centre(shot["lane"], shot["depth"])
            canvas.dot(x, y, colour)
            if big:
                for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
                    canvas.dot(x + dx, y + dy, colour)
    for enemy in view["enemies"]:
        kind = enemy["type"]
        a, b = proj.lane(enemy["lane"], enemy["depth"])
        draw_shape(canvas, SHAPES[kind], a, b, ENEMY_COLOURS[kind])
    player = view["player"]
    if player["alive"]:
        a, b = proj.lane(player["lane"], player["depth"])
        draw_shape(canvas, SHAPES["claw"], a, b, PLAYER_COLOUR)


def draw_game(view: dict[str, Any], width: int, height: int) -> BrailleCanvas:
    """The whole picture of one snapshot on a canvas of `width` x `height` cells."""
    canvas = BrailleCanvas(width, height)
    tube = view["tube"]
    proj = Projection(canvas, tube["x"], tube["y"])
    draw_tube(canvas, proj, bool(tube["open"]))
    draw_marks(canvas, proj, view)
    return canvas


def caption(view: dict[str, Any]) -> str:
    state = view["mode"] if view["player"]["alive"] else f"{view['mode']}, player down"
    return (f"wave {view['wave']} · score {view['score']:,} · lives {view['lives']} · "
            f"{state} · frame {view['frame']:,}")  # fmt: skip


def absent_message(env_id: object) -> str:
    """What to say without a snapshot: Tempest runs (or a run whose config is not read yet)
    will publish one; other envs (ALE) never do."""
    return WAITING if env_id in (None, TEMPEST_ENV_ID) else NO_GAME_VIEW


class GameView(Widget):
    """`g`: the snapshot drawn to fit the widget, with a caption line; or why there is none."""

    DEFAULT_CSS = "GameView { height: 1fr; }"

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.view: dict[str, Any] | None = None
        self.message = WAITING

    def show(self, view: dict[str, Any] | None, message: str = WAITING) -> None:
        if view != self.view or message != self.message:
            self.view, self.message = view, message
            self.refresh()

    def render(self) -> RenderResult:
        width, height = self.size.width, self.size.height
        if self.view is None or height < 2 or width < 4:
            return Content.styled(self.message, "$text-muted")
        head = Content.styled(caption(self.view), "bold").truncate(width, ellipsis=True)
        canvas = draw_game(self.view, width, height - 1)
        lines = [head] + [Content.assemble(*((text, colour) for text, colour in runs))
                          for runs in canvas.rows()]  # fmt: skip
        return Content("\n").join(lines)
