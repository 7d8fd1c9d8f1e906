"""Scripted experts for two ALE games, Pong and Breakout: "move the paddle toward the ball".

The issue asked for RAM experts, but the product's ALE fast path (`ale_py.vector_env.
AtariVectorEnv`, see `envs/ale.py`) exposes no console RAM.  These experts therefore read the
screen the agent sees: the `(N, K, 84, 84)` uint8 grayscale stacks (frame skip 4, each frame the
max of the last two emulator frames), newest frame last.  That is the honest equivalent on the
fast path, and it keeps the experts stateless: everything they need is in one observation.

How the objects are found (pixel values measured on ale-py 0.12.1's 84x84 grayscale frames; the
84x84 image is the whole 210x160 screen resized with area averaging, so a small object's
pixels are blends of its colour and the background):

* Pong: background 87; the court lies in rows 14..76 between the white walls.  Our paddle is the
  RIGHT one (green, column 74, about 7 rows tall); the computer's is at columns 8..10.  The ball
  is white (236) but, being 2x4 screen pixels, shows as one or two blended pixels; it is looked
  for in the court outside the two paddle columns.
* Breakout: background 0; the walls sit in columns 0..4 and 79..83; our paddle is in rows
  75..77 (brightest on row 76, value 110).  The ball is looked for below the bricks (rows
  38..74) and above them (rows 13..21, once it has broken through); inside the brick rows it
  cannot be told from the bricks.

The ball's motion comes from the previous frame of the stack where the ball is seen; the target
is where the ball will cross our paddle's line (walls reflect it), or the ball itself when it
moves away.  A ball found in no frame of the stack means a serve is pending (Pong: go back to the
centre of the court; Breakout: press FIRE, which launches the ball after a lost life and is a
no-op while a ball is in play).  The only NO_ACTION answer is for a frame where our paddle cannot
be found at all (a blank or foreign frame): there the expert has no opinion.

Both paddles lag the joystick (`PaddleModel`): one press moves Pong's paddle ~8.5 rows and
Breakout's ~12 columns, most of it one step later.  Steering toward the ball without that in mind
oscillates around it and misses; the experts steer the position the paddle will coast to.
Measured with sticky actions 0.25: Pong wins ~60% of the points against the computer, Breakout
scores ~13 points per life (~20 without sticky actions); random play: ~5% and ~0.2.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from expert.protocol import NO_ACTION, Expert

PONG_MINIMAL_ACTIONS = ("NOOP", "FIRE", "RIGHT", "LEFT", "RIGHTFIRE", "LEFTFIRE")
"""ALE's minimal action set for Pong, by index.  RIGHT moves our paddle up, LEFT down."""

BREAKOUT_MINIMAL_ACTIONS = ("NOOP", "FIRE", "RIGHT", "LEFT")
"""ALE's minimal action set for Breakout, by index."""

FRAME_SIZE = 84
"""The observation frames are FRAME_SIZE x FRAME_SIZE (envs/ale.py configures 84x84)."""


class Blob(NamedTuple):
    """Where an object is seen in each of N frames: `found` (N,) bool, `row`/`col` (N,) float64
    intensity-weighted centroids (NaN where not found)."""

    found: np.ndarray
    row: np.ndarray
    col: np.ndarray


def find_blob(weight_NHW: np.ndarray, min_weight: float) -> Blob:
    """The weighted centroid of `weight_NHW` (non-negative) in each frame of the batch.

    An object counts as found when its total weight reaches `min_weight`, which keeps the
    faint one-pixel blends left where a ball is barely inside the searched region from counting.
    """
    total = weight_NHW.sum(axis=(1, 2), dtype=np.float64)
    found = total >= min_weight
    safe = np.where(found, total, 1.0)
    rows = np.arange(weight_NHW.shape[1], dtype=np.float64)
    cols = np.arange(weight_NHW.shape[2], dtype=np.float64)
    row = (weight_NHW.sum(axis=2, dtype=np.float64) @ rows) / safe
    col = (weight_NHW.sum(axis=1, dtype=np.float64) @ cols) / safe
    return Blob(found, np.where(found, row, np.nan), np.where(found, col, np.nan))


def latest_two(found_NK: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each env, the newest stack index where the ball is seen and the one before it.

    Returns (newest, previous) as (N,) int64 arrays, -1 where there is no such frame.  Scanning
    the whole stack keeps the ball in view while it hides behind a paddle column for a step.
    """
    depth = found_NK.shape[1]
    index = np.where(found_NK, np.arange(depth), -1)
    newest = index.max(axis=1)
    earlier = np.where(np.arange(depth) < newest[:, None], index, -1)
    return newest, earlier.max(axis=1)


def reflect(position: np.ndarray, low: float, high: float) -> np.ndarray:
    """Folds positions into [low, high] as a ball bouncing between two walls would travel."""
    span = high - low
    folded = np.mod(position - low, 2.0 * span)
    return low + np.where(folded > span, 2.0 * span - folded, folded)


def intercept(
    along: np.ndarray,
    across: np.ndarray,
    v_along: np.ndarray,
    v_across: np.ndarray,
    line: float,
    low: float,
    high: float,
) -> np.ndarray:
    """Where a ball at (along, across) moving (v_along, v_across) per step crosses `line`.

    `along` is the axis toward our paddle, `across` the axis the paddle moves on, bounded by
    walls at `low` and `high`.  Balls not moving toward the line keep their `across` position.
    """
    coming = v_along * (line - along) > 0
    steps = np.where(coming, (line - along) / np.where(coming, v_along, 1.0), 0.0)
    return np.where(coming, reflect(across + v_across * steps, low, high), across)


def _checked_frames(obs_N: np.ndarray) -> np.ndarray:
    obs = np.asarray(obs_N)
    if obs.ndim != 4 or obs.shape[2:] != (FRAME_SIZE, FRAME_SIZE):
        raise ValueError(
            f"expected (N, stack, {FRAME_SIZE}, {FRAME_SIZE}) grayscale frames, got {obs.shape}"
        )
    return obs


@dataclass(frozen=True)
class _Moves:
    """Action indices of the moves an expert uses, resolved from the env's action meanings."""

    noop: int
    fire: int
    toward_low: int  # toward row/col 0: Pong up (RIGHT), Breakout left (LEFT)
    toward_high: int

    @classmethod
    def from_meanings(cls, meanings: tuple[str, ...], low: str, high: str) -> _Moves:
        names = list(meanings)
        missing = [n for n in ("NOOP", "FIRE", low, high) if n not in names]
        if missing:
            raise ValueError(f"action set {names} lacks {missing}")
        return cls(names.index("NOOP"), names.index("FIRE"), names.index(low), names.index(high))

    def steer(self, error: np.ndarray, dead_band: float) -> np.ndarray:
        """Moves that shrink `error` (target minus paddle) and NOOP inside the dead band."""
        return np.where(
            error < -dead_band,
            self.toward_low,
            np.where(error > dead_band, self.toward_high, self.noop),
        ).astype(np.int64)


@dataclass(frozen=True)
class PaddleModel:
    """How a paddle answers the joystick, measured in frame pixels per agent step.

    One press (one agent step of RIGHT or LEFT) moves the paddle `kernel[0]` pixels in the
    step it is given, `kernel[1]` in the next and `kernel[2]` in the one after (the game's
    paddle lags the stick); the moves of successive presses add up.  A paddle that already
    moves will go on moving, so the expert steers the position the paddle will come to rest at
    without another press: its position plus the motion still owed to the presses it can infer
    from the last displacements in the stack.  Pressing pays off only when the paddle would end
    more than half a press (`quantum / 2`) from the target; a tighter band oscillates.
    """

    kernel: tuple[float, float, float]
    low: float  # the paddle's smallest and largest centre positions
    high: float

    @property
    def quantum(self) -> float:
        """How far one press moves the paddle in all."""
        return float(sum(self.kernel))

    def owed_motion(self, positions_NK: np.ndarray) -> np.ndarray:
        """(N,) displacement still to come from the presses behind the last displacements.

        The presses are unknown (another policy may have acted), so the press sequence of the
        last five steps that best explains the observed displacements is taken, fewest presses
        first on ties (a paddle against a wall shows no motion whatever is pressed).
        """
        moves = np.diff(positions_NK, axis=1)[:, ::-1][:, :3]  # newest displacement first
        moves = np.nan_to_num(moves)
        combos = _press_combos()  # (M, 5): presses one, two, ... five steps ago
        a, b, c = self.kernel
        explained = np.stack(
            [a * combos[:, i] + b * combos[:, i + 1] + c * combos[:, i + 2] for i in range(3)],
            axis=1,
        )[:, : moves.shape[1]]
        misfit = ((moves[:, None, :] - explained[None]) ** 2).sum(axis=2)
        best = combos[misfit.argmin(axis=1)]
        return (b + c) * best[:, 0] + c * best[:, 1]

    def error(self, target: np.ndarray, positions_NK: np.ndarray) -> np.ndarray:
        """Target minus the position the paddle will rest at without another press."""
        rest = np.clip(positions_NK[:, -1] + self.owed_motion(positions_NK), self.low, self.high)
        return target - rest


@functools.cache
def _press_combos() -> np.ndarray:
    """All 3**5 press sequences over five steps (-1, 0, +1), fewest presses first."""
    grids = np.meshgrid(*[np.array([0, -1, 1])] * 5, indexing="ij")
    combos = np.stack([g.ravel() for g in grids], axis=1).astype(np.float64)
    return combos[np.argsort(np.abs(combos).sum(axis=1), kind="stable")]


class Ball(NamedTuple):
    """The newest sighting of the ball in each env's stack; velocities in pixels per agent step
    (0 where the ball was seen in one frame only); row/col NaN where it was seen in none."""

    seen: np.ndarray
    row: np.ndarray
    col: np.ndarray
    v_row: np.ndarray
    v_col: np.ndarray


class _ScreenExpert:
    """What both experts share: find the paddle and the ball in every frame of the stack, aim
    at the ball's intercept, steer the paddle there.  Subclasses set the class constants and
    `ball_mask`, and say where the paddle is (`paddle_positions`) and where to aim (`target`)."""

    name: str
    BACKGROUND: int
    PADDLE: PaddleModel
    MIN_BALL_WEIGHT = 40.0  # a ball is at least a third of a white pixel's contrast in all
    ball_mask: np.ndarray  # (84, 84) bool: where the ball is looked for
    moves: _Moves
    serve_action: int | None = None  # pressed while no ball is seen, else `target` decides

    def __init__(self, num_envs: int) -> None:
        if num_envs < 1:
            raise ValueError(f"num_envs must be positive, got {num_envs}")
        self.num_envs = num_envs

    def paddle_positions(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(found, centre) of our paddle along its axis in every frame, both (N, K)."""
        raise NotImplementedError

    def target(self, ball: Ball) -> np.ndarray:
        """(N,) where our paddle's centre should go, along its axis."""
        raise NotImplementedError

    def act(self, obs_N: np.ndarray, info: dict | None = None) -> np.ndarray:
        """(N,) int64 actions from the frames alone (`info` is not needed); NO_ACTION where
        our paddle is not on the newest frame."""
        obs = _checked_frames(obs_N)
        found, paddle = self.paddle_positions(obs)
        ball = self.ball_track(obs)
        error = self.PADDLE.error(self.target(ball), paddle)
        actions = self.moves.steer(error, self.PADDLE.quantum / 2.0)
        if self.serve_action is not None:
            actions = np.where(ball.seen, actions, self.serve_action)
        return np.where(found[:, -1], actions, NO_ACTION).astype(np.int64)

    def ball_track(self, obs: np.ndarray) -> Ball:
        """The ball's newest sighting in each stack and its motion since the one before."""
        n, depth = obs.shape[:2]
        frames = obs.reshape(n * depth, FRAME_SIZE, FRAME_SIZE).astype(np.int16)
        weight = np.abs(frames - self.BACKGROUND) * self.ball_mask
        blob = find_blob(weight, self.MIN_BALL_WEIGHT)
        row, col = blob.row.reshape(n, depth), blob.col.reshape(n, depth)
        newest, previous = latest_two(blob.found.reshape(n, depth))
        envs = np.arange(n)
        moving = previous >= 0
        gap = np.where(moving, newest - previous, 1)
        now, before = np.maximum(newest, 0), np.maximum(previous, 0)
        r, c = row[envs, now], col[envs, now]
        v_row = np.where(moving, (r - row[envs, before]) / gap, 0.0)
        v_col = np.where(moving, (c - col[envs, before]) / gap, 0.0)
        return Ball(newest >= 0, r, c, v_row, v_col)


def _lit_centre(lit_NKL: np.ndarray, first: int) -> tuple[np.ndarray, np.ndarray]:
    """(found, mean index + first) of the lit pixels along the last axis; NaN where none."""
    found = lit_NKL.any(axis=-1)
    index = np.arange(first, first + lit_NKL.shape[-1], dtype=np.float64)
    centre = (lit_NKL @ index) / np.maximum(lit_NKL.sum(axis=-1), 1)
    return found, np.where(found, centre, np.nan)


class PongExpert(_ScreenExpert):
    """Pong from the screen: moves our (right) paddle to where the ball will cross its column.

    Reads the screen, not RAM, because AtariVectorEnv exposes no RAM (module docstring); the
    screen is the honest equivalent of the "RAM expert" on the fast path.  Answers NO_ACTION only
    where our paddle is not on the newest frame; with no ball in the stack (a serve is pending)
    it brings the paddle back to the centre of the court.
    """

    name = "pong"
    BACKGROUND = 87
    COURT_TOP, COURT_BOTTOM = 14, 76  # first and last court rows (inclusive)
    PADDLE_COLUMN = 74  # the centre column of our paddle
    PADDLE_PIXEL = 110  # paddle-column pixels brighter than this are paddle
    PADDLE_COLUMNS = (slice(7, 12), slice(72, 77))  # both paddles: no ball search there
    PADDLE = PaddleModel(kernel=(2.0, 5.5, 1.0), low=14.5, high=76.0)  # measured, in rows

    def __init__(self, num_envs: int, action_meanings: tuple[str, ...] = PONG_MINIMAL_ACTIONS):
        super().__init__(num_envs)
        self.moves = _Moves.from_meanings(tuple(action_meanings), low="RIGHT", high="LEFT")
        mask = np.zeros((FRAME_SIZE, FRAME_SIZE), bool)
        mask[self.COURT_TOP : self.COURT_BOTTOM + 1] = True
        for columns in self.PADDLE_COLUMNS:
            mask[:, columns] = False
        self.ball_mask = mask

    def paddle_positions(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        column = obs[:, :, self.COURT_TOP : self.COURT_BOTTOM + 1, self.PADDLE_COLUMN]
        return _lit_centre(column > self.PADDLE_PIXEL, self.COURT_TOP)

    def target(self, ball: Ball) -> np.ndarray:
        aim = intercept(
            ball.col, ball.row, ball.v_col, ball.v_row,
            self.PADDLE_COLUMN, self.COURT_TOP, self.COURT_BOTTOM,
        )
        return np.where(ball.seen, aim, (self.COURT_TOP + self.COURT_BOTTOM) / 2.0)


class BreakoutExpert(_ScreenExpert):
    """Breakout from the screen: moves the paddle under where the ball will come down.

    Reads the screen, not RAM, because AtariVectorEnv exposes no RAM (module docstring); the
    screen is the honest equivalent of the "RAM expert" on the fast path.  Presses FIRE when no
    ball is seen in the stack (launches the ball after a lost life); NO_ACTION only where the
    paddle is not on the newest frame.
    """

    name = "breakout"
    BACKGROUND = 0
    PADDLE_ROW = 76  # the paddle's brightest row
    PADDLE_PIXEL = 50  # brighter than the wall blends (22..28) at the play area's edges
    LEFT_EDGE, RIGHT_EDGE = 5, 78  # first and last play-area columns clear of the walls
    BALL_ROWS = (slice(13, 22), slice(38, 75))  # above and below the bricks
    PADDLE = PaddleModel(kernel=(4.5, 7.0, 0.5), low=8.5, high=75.5)  # measured, in columns

    def __init__(
        self, num_envs: int, action_meanings: tuple[str, ...] = BREAKOUT_MINIMAL_ACTIONS
    ):
        super().__init__(num_envs)
        self.moves = _Moves.from_meanings(tuple(action_meanings), low="LEFT", high="RIGHT")
        self.serve_action = self.moves.fire
        mask = np.zeros((FRAME_SIZE, FRAME_SIZE), bool)
        for rows in self.BALL_ROWS:
            mask[rows, self.LEFT_EDGE : self.RIGHT_EDGE + 1] = True
        self.ball_mask = mask

    def paddle_positions(self, obs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        line = obs[:, :, self.PADDLE_ROW, self.LEFT_EDGE - 1 : self.RIGHT_EDGE + 2]
        return _lit_centre(line > self.PADDLE_PIXEL, self.LEFT_EDGE - 1)

    def target(self, ball: Ball) -> np.ndarray:
        return intercept(
            ball.row, ball.col, ball.v_row, ball.v_col,
            self.PADDLE_ROW, self.LEFT_EDGE, self.RIGHT_EDGE,
        )


_EXPERTS: dict[str, tuple[type, tuple[str, ...]]] = {
    "ALE/Pong-v5": (PongExpert, PONG_MINIMAL_ACTIONS),
    "ALE/Breakout-v5": (BreakoutExpert, BREAKOUT_MINIMAL_ACTIONS),
}


def ale_expert_for(
    env_id: str, num_envs: int, action_meanings: tuple[str, ...] | list[str] | None = None
) -> Expert | None:
    """The screen expert for `env_id` ("ALE/Pong-v5", "ALE/Breakout-v5"), else None.

    `action_meanings` (the env's `get_action_meanings()`) is needed only with the full action
    set; by default the game's minimal set is assumed.
    """
    entry = _EXPERTS.get(env_id)
    if entry is None:
        return None
    cls, minimal = entry
    return cls(num_envs, tuple(action_meanings) if action_meanings else minimal)
