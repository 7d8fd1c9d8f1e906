"""Pictures of a Tempest game: vector-style line drawings of a `GameState`, PNG and animated GIF.

WHY: to see what the simulator and the agent do (a GIF of an episode says more than a score).
The drawing follows the arcade's look, not its exact projection:

* The tube is drawn from its 16 points (`tables.LINE_X/LINE_Y`, a 0..255 plane, y up): the near
  rim at full scale, the far end as the same shape scaled toward the centre of the plane
  (0x80, 0x80) by 1/5, the 16 spokes joining them.  An open tube has no segment between point 15
  and point 0 (on the rim or at the far end).  The arcade moves its eye per tube; one fixed
  vanishing point is this renderer's simplification.
* A depth d (0x10 = rim .. 0xF0 = far end) scales a tube point toward the centre by
  1 / (1 + 4 (d - 0x10) / 0xE0): a pinhole camera, so things far down the tube crowd together as
  in the arcade, with the far end at exactly 1/5.
* Lane k lies between point k and point k+1.  Enemies are small shapes on the segment joining
  their lane's two edge points at their depth, in their type's colour (flipper red, pulsar cyan,
  tanker purple, spiker green, fuseball a burst of colours).  A flipping enemy pivots on its
  pivot line (`en_lane`) and swings from its old lane to its new one by `en_flip_step /
  en_flip_steps`, the way it tumbles over the pivot in the arcade; a fuseball rides the lines and
  slides from one line to the next while it crosses.
* The claw (yellow) sits on the rim in lane `player_pos >> 4`, prongs outward, at `player_y`
  (deeper during the drop); it is not drawn once no life is left.  Player shots are yellow dots,
  enemy shots white dots, spikes green lines from the far end up to their tip (`spike`).

Lines are drawn by a numba Bresenham kernel over one array of segments per frame; Pillow (a
lazy import, needed only to write files) writes the PNG and GIF.
"""

from __future__ import annotations

import math
from pathlib import Path

import numba
import numpy as np

from envs.tempest.state import (
    DEPTH_ONE,
    FAR_DEPTH,
    FLIPPER,
    FUSEBALL,
    LANES,
    MODE_GAME_OVER,
    PULSAR,
    RIM_DEPTH,
    SPIKER,
    TANKER,
    GameState,
)
from envs.tempest.tables import LINE_X, LINE_Y

# --- colours (RGB) -------------------------------------------------------------------------------
TUBE_COLOUR = (40, 90, 255)
PLAYER_COLOUR = (255, 255, 0)
PLAYER_SHOT_COLOUR = (255, 255, 0)
ENEMY_SHOT_COLOUR = (255, 255, 255)
SPIKE_COLOUR = (0, 255, 0)
ENEMY_COLOURS = {
    FLIPPER: (255, 0, 0),
    PULSAR: (0, 255, 255),
    TANKER: (170, 40, 255),
    SPIKER: (0, 255, 0),
}
FUSEBALL_COLOURS = ((255, 255, 255), (255, 0, 0), (255, 255, 0), (0, 255, 0), (0, 160, 255))
"""One per ray of the fuseball's burst."""

# --- projection ----------------------------------------------------------------------------------
CENTRE = 0x80
"""The vanishing point of every tube, in the 0..255 plane."""
FAR_SCALE = 0.2
"""The far end is the rim shape scaled by this toward CENTRE."""

# --- shapes: polylines in the frame of a lane segment A->B at one depth ----------------------
# A point (a, b) is M + a * (B - A) + b * |B - A| * n, with M the midpoint and n the unit normal
# pointing away from the vanishing point; a = -0.5 is A, a = +0.5 is B.
_SHAPES: dict[int, tuple[tuple[tuple[float, float], ...], ...]] = {
    FLIPPER: (((-0.5, 0.15), (0.5, -0.15), (0.5, 0.15), (-0.5, -0.15), (-0.5, 0.15)),),
    PULSAR: (((-0.5, 0.0), (-0.3, 0.2), (-0.1, -0.2), (0.1, 0.2), (0.3, -0.2), (0.5, 0.0)),),
    TANKER: (
        ((-0.35, 0.0), (0.0, 0.3), (0.35, 0.0), (0.0, -0.3), (-0.35, 0.0)),
        ((-0.15, 0.0), (0.0, 0.13), (0.15, 0.0), (0.0, -0.13), (-0.15, 0.0)),
    ),
    SPIKER: (
        (
            (0.0, 0.0), (0.08, 0.0), (0.08, 0.08), (-0.1, 0.08), (-0.1, -0.12), (0.16, -0.12),
            (0.16, 0.16), (-0.2, 0.16), (-0.2, -0.2),
        ),
    ),
}
_CLAW = (((-0.5, 0.0), (-0.25, 0.3), (0.0, 0.12), (0.25, 0.3), (0.5, 0.0), (0.0, 0.05),
          (-0.5, 0.0)),)
_FUSE_RAY = 0.3
"""A fuseball ray's length, in lane widths."""
_DOT = 1.5
"""Half the size of a shot's dot, in plane units (pixels at size 256)."""


def depth_scale(depth: np.ndarray | float) -> np.ndarray:
    """How much a tube point at `depth` (integer depth units, 0x10..0xF0) shrinks toward the
    vanishing point: 1 at the rim, FAR_SCALE at the far end, 1/z in between (module docstring)."""
    stretch = 1.0 / FAR_SCALE - 1.0
    return 1.0 / (1.0 + stretch * (np.asarray(depth, np.float64) - RIM_DEPTH)
                  / (FAR_DEPTH - RIM_DEPTH))


class _Canvas:
    """Collects the segments of one frame in pixel coordinates, then draws them all at once."""

    def __init__(self, tube: int, size: int) -> None:
        self.size = size
        self.points = np.stack([LINE_X[tube], LINE_Y[tube]], axis=1).astype(np.float64)
        self.segments: list[np.ndarray] = []  # (k, 4) x0 y0 x1 y1 in the 0..255 plane
        self.colours: list[np.ndarray] = []  # (k, 3)

    def at(self, line: np.ndarray | int, depth: np.ndarray | float) -> np.ndarray:
        """Plane coordinates of tube point(s) `line` at `depth`."""
        point = self.points[np.asarray(line) % LANES]
        scale = np.asarray(depth_scale(depth))[..., None]
        return CENTRE + (point - CENTRE) * scale

    def polyline(self, xy: np.ndarray, colour: tuple[int, int, int]) -> None:
        """Joins consecutive points of `xy` (k, 2)."""
        if len(xy) < 2:
            return
        self.segments.append(np.concatenate([xy[:-1], xy[1:]], axis=1))
        self.colours.append(np.broadcast_to(np.array(colour, np.uint8), (len(xy) - 1, 3)))

    def lines(self, start: np.ndarray, end: np.ndarray, colour: tuple[int, int, int]) -> None:
        """Segments start[i] -> end[i]."""
        self.segments.append(np.concatenate([start, end], axis=1))
        self.colours.append(np.broadcast_to(np.array(colour, np.uint8), (len(start), 3)))

    def shape(self, polylines, a: np.ndarray, b: np.ndarray, colour) -> None:
        """A shape template drawn on the lane segment a -> b (see `_SHAPES`)."""
        u = b - a
        width = float(np.hypot(*u))
        if width == 0.0:
            return
        normal = np.array([-u[1], u[0]]) / width
        middle = (a + b) / 2.0
        if np.dot(normal, middle - CENTRE) < 0:
            normal = -normal
        for line in polylines:
            local = np.array(line, np.float64)
            self.polyline(middle + local[:, :1] * u + local[:, 1:] * width * normal, colour)

    def dot(self, xy: np.ndarray, colour: tuple[int, int, int]) -> None:
        """A small plus sign at each point of `xy` (k, 2)."""
        half = max(_DOT, 256.0 / self.size)  # plane units: at least one pixel
        for offset in (np.array([half, 0.0]), np.array([0.0, half])):
            self.lines(xy - offset, xy + offset, colour)

    def paint(self) -> np.ndarray:
        """The frame: (size, size, 3) uint8, black background."""
        frame = np.zeros((self.size, self.size, 3), np.uint8)
        if self.segments:
            plane = np.concatenate(self.segments)
            pixels = np.empty_like(plane)
            scale = self.size / 256.0
            pixels[:, 0::2] = plane[:, 0::2] * scale
            pixels[:, 1::2] = (255.0 - plane[:, 1::2]) * scale  # the plane's y points up
            draw_segments(frame, pixels, np.ascontiguousarray(np.concatenate(self.colours)))
        return frame


@numba.njit(cache=True)
def draw_segments(frame: np.ndarray, segments: np.ndarray, colours: np.ndarray) -> None:
    """Bresenham lines: segments (k, 4) x0, y0, x1, y1 in pixels (x right, y down), colours
    (k, 3) uint8; pixels outside the frame are skipped."""
    height, width = frame.shape[0], frame.shape[1]
    for i in range(segments.shape[0]):
        x0 = int(round(segments[i, 0]))
        y0 = int(round(segments[i, 1]))
        x1 = int(round(segments[i, 2]))
        y1 = int(round(segments[i, 3]))
        dx, dy = abs(x1 - x0), -abs(y1 - y0)
        sx = 1 if x0 < x1 else -1
        sy = 1 if y0 < y1 else -1
        err = dx + dy
        while True:
            if 0 <= x0 < width and 0 <= y0 < height:
                frame[y0, x0, 0] = colours[i, 0]
                frame[y0, x0, 1] = colours[i, 1]
                frame[y0, x0, 2] = colours[i, 2]
            if x0 == x1 and y0 == y1:
                break
            twice = 2 * err
            if twice >= dy:
                err += dy
                x0 += sx
            if twice <= dx:
                err += dx
                y0 += sy


def _draw_tube(canvas: _Canvas, is_open: bool) -> None:
    lines = np.arange(LANES)
    near, far = canvas.at(lines, RIM_DEPTH), canvas.at(lines, FAR_DEPTH)
    canvas.lines(near, far, TUBE_COLOUR)
    for ring in (near, far):
        canvas.polyline(ring if is_open else np.vstack([ring, ring[:1]]), TUBE_COLOUR)


def _flip_segment(canvas: _Canvas, pivot: int, direction: int, progress: float,
                  depth: float) -> tuple[np.ndarray, np.ndarray]:
    """The (pivot point, swinging end) of an enemy flipping about line `pivot`.

    Toward higher lanes (direction 1) it leaves lane pivot-1 for lane pivot, toward lower lanes
    it leaves lane pivot for lane pivot-1 (reference §1.7).  The jump angle turns down for
    direction 1 and up for direction 0 (core_kinds.flip_step), so the end sweeps that way
    around the pivot, through the tube.
    """
    p = canvas.at(pivot, depth)
    source = canvas.at(pivot - 1 if direction == 1 else pivot + 1, depth)
    target = canvas.at(pivot + 1 if direction == 1 else pivot - 1, depth)
    start = math.atan2(*(source - p)[::-1])
    finish = math.atan2(*(target - p)[::-1])
    turn = -1.0 if direction == 1 else 1.0
    sweep = (turn * (finish - start)) % (2.0 * math.pi)
    angle = start + turn * sweep * progress
    length = (1.0 - progress) * np.hypot(*(source - p)) + progress * np.hypot(*(target - p))
    return p, p + length * np.array([math.cos(angle), math.sin(angle)])


def _draw_enemies(canvas: _Canvas, s: GameState, g: int) -> None:
    for e in np.flatnonzero((s.en_type[g] >= 0) & (s.en_y[g] > 0)):
        kind, lane = int(s.en_type[g, e]), int(s.en_lane[g, e])
        depth = s.en_y[g, e] / DEPTH_ONE
        flipping = s.en_flipping[g, e] != 0
        steps = max(int(s.en_flip_steps[g, e]), 1)
        progress = min(max(s.en_flip_step[g, e] / steps, 0.0), 1.0) if flipping else 0.0
        direction = int(s.en_dir[g, e])
        if kind == FUSEBALL:
            # It rides line `lane`; crossing, it slides toward line lane+1 (direction 0) or
            # comes from it (direction 1: the line was already decremented when it set off).
            slide = (progress if direction == 0 else 1.0 - progress) if flipping else 0.0
            spot = (1.0 - slide) * canvas.at(lane, depth) + slide * canvas.at(lane + 1, depth)
            width = float(np.hypot(*(canvas.at(lane + 1, depth) - canvas.at(lane, depth))))
            for ray, colour in enumerate(FUSEBALL_COLOURS):
                angle = 2.0 * math.pi * ray / len(FUSEBALL_COLOURS) + 0.3
                tip = spot + _FUSE_RAY * width * np.array([math.cos(angle), math.sin(angle)])
                canvas.polyline(np.stack([spot, tip]), colour)
            continue
        if kind not in _SHAPES:
            continue
        if flipping:
            a, b = _flip_segment(canvas, lane, direction, progress, depth)
        else:
            a, b = canvas.at(lane, depth), canvas.at(lane + 1, depth)
        canvas.shape(_SHAPES[kind], a, b, ENEMY_COLOURS[kind])


def _draw_shots_and_spikes(canvas: _Canvas, s: GameState, g: int) -> None:
    for depths, lanes, colour in ((s.shot_y[g], s.shot_lane[g], PLAYER_SHOT_COLOUR),
                                  (s.eshot_y[g], s.eshot_lane[g], ENEMY_SHOT_COLOUR)):
        live = depths > 0
        if live.any():
            depth = depths[live] / DEPTH_ONE
            centre = (canvas.at(lanes[live], depth) + canvas.at(lanes[live] + 1, depth)) / 2.0
            canvas.dot(centre, colour)
    lanes = np.flatnonzero(s.spike[g] > 0)
    if len(lanes):
        tips = np.minimum(s.spike[g, lanes], FAR_DEPTH).astype(np.float64)
        def centre(depth):
            return (canvas.at(lanes, depth) + canvas.at(lanes + 1, depth)) / 2.0
        canvas.lines(centre(np.full(len(lanes), float(FAR_DEPTH))), centre(tips), SPIKE_COLOUR)


def _draw_player(canvas: _Canvas, s: GameState, g: int) -> None:
    if s.lives[g] <= 0 or s.mode[g] == MODE_GAME_OVER:
        return
    lane = int(s.player_pos[g]) >> 4
    depth = max(s.player_y[g] / DEPTH_ONE, RIM_DEPTH)
    canvas.shape(_CLAW, canvas.at(lane, depth), canvas.at(lane + 1, depth), PLAYER_COLOUR)


def render_frame(state: GameState, index: int = 0, size: int = 256) -> np.ndarray:
    """Game `index` of `state` as a (size, size, 3) uint8 RGB picture (module docstring)."""
    if size < 16:
        raise ValueError(f"size must be at least 16 pixels, got {size}")
    canvas = _Canvas(int(state.tube[index]) % LANES, size)
    _draw_tube(canvas, bool(state.is_open[index]))
    _draw_shots_and_spikes(canvas, state, index)
    _draw_enemies(canvas, state, index)
    _draw_player(canvas, state, index)
    return canvas.paint()


def save_png(frame: np.ndarray, path: str | Path) -> None:
    """Writes one RGB frame as a PNG."""
    from PIL import Image

    Image.fromarray(np.ascontiguousarray(frame, np.uint8), "RGB").save(path, format="PNG")


def save_gif(frames: list[np.ndarray], path: str | Path, fps: int = 20) -> None:
    """Writes the frames as an animated GIF that loops, `fps` frames per second.

    Every frame is mapped onto one shared palette (the renderer's colours come out exact; others
    take their nearest), without dithering, so a few thousand frames write in seconds.  Pillow
    merges consecutive identical frames into one longer frame: the timing is kept, the count of
    frames in the file may be lower.
    """
    from PIL import Image

    if not frames:
        raise ValueError("save_gif needs at least one frame")
    if fps < 1:
        raise ValueError(f"fps must be positive, got {fps}")
    palette = _palette_image()
    images = [
        Image.fromarray(np.ascontiguousarray(f, np.uint8), "RGB").quantize(
            palette=palette, dither=Image.Dither.NONE
        )
        for f in frames
    ]
    images[0].save(
        path, format="GIF", save_all=True, append_images=images[1:],
        duration=max(10, round(1000 / fps)), loop=0, disposal=1, optimize=False,
    )


def _palette_image():
    """A Pillow palette image holding black, the renderer's colours and a grey ramp."""
    from PIL import Image

    colours = [(0, 0, 0), TUBE_COLOUR, PLAYER_COLOUR, ENEMY_SHOT_COLOUR, SPIKE_COLOUR,
               *ENEMY_COLOURS.values(), *FUSEBALL_COLOURS]
    colours += [(v, v, v) for v in range(16, 256, 16)]
    flat = [channel for colour in dict.fromkeys(colours) for channel in colour]
    image = Image.new("P", (1, 1))
    image.putpalette(flat + [0] * (768 - len(flat)))
    return image
