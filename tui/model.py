"""What the dashboard shows, computed from metrics rows alone: header, tiles and chart series.

Why pure Python with no Textual: the numbers a user acts on (the sign of the DQN5M slope, learner
steps per second, replay fill, the last evaluation) are derived here and tested with hand-made
rows; the widgets only lay the results out.  Every value follows DESIGN.md §5; a key that is null
or absent shows as missing, never as zero.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np

from metrics.skim import Skim
from tui import format as fmt

Row = dict[str, Any]

RECENT_ROWS = 2000
"""Rows kept as they are (the last ~66 minutes at one row per 2 s)."""
WHOLE_RUN_POINTS = 2000
"""Rows kept of the whole run, thinned evenly, so charts show the start of a long run too."""
TREND_ROWS = 40
"""Rows behind each tile's trend sparkline."""
RATE_ROWS = 5
"""Rows over which learner steps per second are measured (smooths the 2 s interval's jitter)."""

STATES = ("training", "paused", "evaluating")
DRIVERS = ("schedule", "expert only", "expert off", "greedy", "manual")


class History:
    """The rows the dashboard keeps, bounded whatever the run's length.

    `recent`: the last RECENT_ROWS rows.  `whole`: every stride-th row of the run, at most
    WHOLE_RUN_POINTS; when full, every other row is dropped and the stride doubles.  A row whose
    frame goes backwards means the file was replaced by a new run (`--fresh`): start over.
    """

    def __init__(self, recent: int = RECENT_ROWS, whole: int = WHOLE_RUN_POINTS) -> None:
        self.recent: deque[Row] = deque(maxlen=recent)
        self.whole_limit = max(2, whole)
        self.restarts = 0
        self._clear()

    def _clear(self) -> None:
        self.recent.clear()
        self.whole: list[Row] = []
        self.stride = 1
        self.count = 0
        self.last_eval: Row | None = None

    @property
    def latest(self) -> Row | None:
        return self.recent[-1] if self.recent else None

    def add(self, rows: Iterable[Row]) -> None:
        for row in rows:
            latest = self.latest
            if latest is not None and _frame(row) < _frame(latest):
                self._clear()
                self.restarts += 1
            self._append(row)

    def _append(self, row: Row) -> None:
        if self.count % self.stride == 0:
            self.whole.append(row)
            if len(self.whole) > self.whole_limit:
                self.whole = self.whole[::2]
                self.stride *= 2
        self.count += 1
        self.recent.append(row)
        if row.get("eval_score") is not None or row.get("eval_return") is not None:
            self.last_eval = row

    def seed(self, skimmed: Skim) -> None:
        """Starts from a skimmed file (metrics.skim): what `add` of its every row would keep."""
        self._clear()
        self.whole, self.stride, self.count = list(skimmed.whole), skimmed.stride, skimmed.count
        self.recent.extend(skimmed.recent)
        self.last_eval = skimmed.last_eval

    def chart_rows(self) -> list[Row]:
        """The thinned whole run followed by every recent row after its last kept row."""
        if not self.whole:
            return []
        after_last_kept = self.count - 1 - (len(self.whole) - 1) * self.stride
        tail = list(self.recent)[-after_last_kept:] if after_last_kept > 0 else []
        return self.whole + tail

    def trend_rows(self, n: int = TREND_ROWS) -> list[Row]:
        return list(self.recent)[-n:]


def _frame(row: Row) -> float:
    frame = row.get("frame")
    return frame if isinstance(frame, int | float) else 0


def values(rows: Sequence[Row], key: str) -> list[float]:
    """The non-null values of `key`, oldest first."""
    return [row[key] for row in rows if isinstance(row.get(key), int | float)]


def series(rows: Sequence[Row], key: str, x_scale: float = 1e-6) -> tuple[list[float], list[float]]:
    """(frames × x_scale, values) of the rows where `key` is not null; for charts."""
    xs, ys = [], []
    for row in rows:
        value, frame = row.get(key), row.get("frame")
        if isinstance(value, int | float) and isinstance(frame, int | float):
            xs.append(frame * x_scale)
            ys.append(float(value))
    return xs, ys


def decimate(xs: list[float], ys: list[float], columns: int) -> tuple[list[float], list[float]]:
    """At most the first, the lowest, the highest and the last point of each of `columns` equal
    slices of the x range, in x order: what a plot `columns` dots wide can show of the series
    (its envelope, spikes included).  Why: plotext's cost grows with the points it is given,
    and a long run's chart would otherwise draw ~2,000 points per line into ~150 dot columns."""
    if len(xs) <= 4 * columns or columns < 1:
        return xs, ys
    lo, span = xs[0], (xs[-1] - xs[0]) or 1.0
    column = [min(columns - 1, int((x - lo) / span * columns)) for x in xs]
    keep: list[int] = []
    start = 0
    for i in range(1, len(xs) + 1):
        if i < len(xs) and column[i] == column[start]:
            continue
        part = range(start, i)
        low, high = min(part, key=ys.__getitem__), max(part, key=ys.__getitem__)
        keep += sorted({start, low, high, i - 1})
        start = i
    return [xs[i] for i in keep], [ys[i] for i in keep]


def band_points(rows: Sequence[Row], low: str, high: str, columns: int, cells: int,
                x_scale: float = 1e-6) -> tuple[list[float], list[float]]:
    """Points that fill the band between `low` and `high` over frames on a chart `columns`
    cells wide and `cells` high: at `columns` evenly spaced x positions (low and high
    interpolated between rows), a column of points from low to high, one cell apart."""
    spans = [(row["frame"] * x_scale, float(row[low]), float(row[high])) for row in rows
             if all(isinstance(row.get(k), int | float) for k in ("frame", low, high))]
    if not spans:
        return [], []
    frames, lows, highs = (np.array(column) for column in zip(*spans, strict=True))
    xs_grid = np.linspace(frames[0], frames[-1], max(1, columns)) if len(spans) > 1 else frames
    lo_grid, hi_grid = np.interp(xs_grid, frames, lows), np.interp(xs_grid, frames, highs)
    step = (highs.max() - lows.min()) / max(1, cells) or 1.0
    xs: list[float] = []
    ys: list[float] = []
    for x, lo, hi in zip(xs_grid.tolist(), lo_grid.tolist(), hi_grid.tolist(), strict=True):
        column = np.arange(lo, hi, step).tolist() + [hi]
        xs += [x] * len(column)
        ys += column
    return xs, ys


def last_value(rows: Sequence[Row], key: str) -> float | None:
    """The newest non-null value of `key` among `rows`."""
    for row in reversed(rows):
        if isinstance(row.get(key), int | float):
            return row[key]
    return None


# ---- derived numbers ----------------------------------------------------------------------------


def learner_rates(rows: Sequence[Row]) -> list[float]:
    """Learner steps per second between consecutive rows (pairs with no elapsed time skipped)."""
    rates = []
    for before, after in zip(rows, rows[1:], strict=False):
        rate = _rate(before, after)
        if rate is not None:
            rates.append(rate)
    return rates


def learner_steps_per_s(rows: Sequence[Row], over: int = RATE_ROWS) -> float | None:
    """(learner_steps now − `over` rows ago) / (t now − t then); None without two timed rows."""
    if len(rows) < 2:
        return None
    return _rate(rows[-min(over + 1, len(rows))], rows[-1])


def _rate(before: Row, after: Row) -> float | None:
    keys = ("t", "learner_steps")
    if not all(isinstance(r.get(k), int | float) for r in (before, after) for k in keys):
        return None
    elapsed = after["t"] - before["t"]
    if elapsed <= 0:
        return None
    return max(0.0, (after["learner_steps"] - before["learner_steps"]) / elapsed)


def replay_fill(row: Row | None, capacity: int | None) -> float | None:
    """replay_size / capacity, or None when either is unknown."""
    size = row.get("replay_size") if row else None
    if not isinstance(size, int | float) or not capacity:
        return None
    return size / capacity


def slope_tone(slope: float | None) -> str:
    """"good" when the DQN5M slope is >= 0, "bad" when negative, "" when unknown."""
    if slope is None:
        return ""
    return "good" if slope >= 0 else "bad"


def run_state(row: Row | None) -> str:
    """The row's "state" (training / paused / evaluating); "training" for rows without it."""
    state = row.get("state") if row else None
    return state if state in STATES else "training"


def run_driver(row: Row | None) -> str:
    """Who picks the actions (the row's "driver"); "schedule" for rows without it."""
    driver = row.get("driver") if row else None
    return driver if driver in DRIVERS else "schedule"


# ---- header ------------------------------------------------------------------------------------


class Header(NamedTuple):
    """The header's values, already formatted."""

    run: str
    env_id: str
    device: str
    frames: str
    fps: str
    elapsed: str
    state: str
    driver: str


def config_value(config: dict[str, Any] | None, *path: str) -> Any:
    """config.json's `config.<path>` value, or None if any part is missing."""
    node: Any = (config or {}).get("config")
    for part in path:
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def header(run: str, config: dict[str, Any] | None, row: Row | None, pending: str = "") -> Header:
    """`pending` replaces the row's state: "pausing…" / "resuming…" while a pause or resume is
    in flight, "finished" / "stopped" / "died"... for a run that is not running (tui.lifecycle)."""
    row = row or {}
    device = row.get("device") or config_value(config, "learner", "device")
    return Header(
        run=run,
        env_id=str(config_value(config, "env", "id") or fmt.MISSING),
        device=str(device or fmt.MISSING),
        frames=fmt.si(row.get("frame")),
        fps=fmt.integer(row.get("fps")),
        elapsed=fmt.duration(row.get("t")),
        state=pending or (run_state(row) if row else "waiting"),
        driver=run_driver(row),
    )


# ---- tiles -------------------------------------------------------------------------------------


class Tile(NamedTuple):
    """One number of the tile grid with its recent trend.

    tone: "good" / "bad" colour the value (the DQN5M slope's sign); "" is neutral.
    """

    key: str
    label: str
    value: str
    detail: str
    trend: tuple[float, ...]
    tone: str = ""


def tiles(history: History, capacity: int | None) -> list[Tile]:
    """Every tile, in display order."""
    rows = history.trend_rows()
    row = rows[-1] if rows else {}
    return [
        Tile("epsilon", "ε", fmt.number(row.get("epsilon")), "exploration",
             _trend(rows, "epsilon")),
        Tile("expert", "expert", fmt.percent(row.get("expert_ratio")), run_driver(row or None),
             _trend(rows, "expert_ratio")),
        _q_range(rows, row),
        Tile("dqn1m", "DQN1M", fmt.number(row.get("dqn_return_1m")), "network 1M fr",
             _trend(rows, "dqn_return_1m")),
        Tile("dqn5m", "DQN5M", fmt.number(row.get("dqn_return_5m")), "network 5M fr",
             _trend(rows, "dqn_return_5m")),
        _slope(rows, row),
        _loss(rows, row),
        _grad(rows, row),
        Tile("clip", "ClipΔ", fmt.number(row.get("clip_delta")),
             f"clipped {fmt.percent(row.get('clip_frac'))}", _trend(rows, "clip_delta")),
        Tile("agreement", "agree", fmt.percent(row.get("agreement")), "vs expert",
             _trend(rows, "agreement")),
        _imitation(rows, row),
        _curriculum(rows, row),
        _replay(rows, row, capacity),
        _steps(rows),
        Tile("spf", "samp/fr", fmt.number(row.get("samples_per_frame")), "per new frame",
             _trend(rows, "samples_per_frame")),
        Tile("lr", "LR", _lr(row.get("lr")), "learning rate", _trend(rows, "lr")),
        _eval(history),
    ]  # fmt: skip


def _trend(rows: Sequence[Row], key: str) -> tuple[float, ...]:
    return tuple(values(rows, key))


def _lr(lr: float | None) -> str:
    return fmt.MISSING if lr is None else f"{lr:.2e}"


def _q_range(rows: Sequence[Row], row: Row) -> Tile:
    low, high = fmt.number(row.get("q_min")), fmt.number(row.get("q_max"))
    return Tile("q_range", "Q-range", f"{low}…{high}", f"mean {fmt.number(row.get('q_mean'))}",
                _trend(rows, "q_mean"))  # fmt: skip


def _slope(rows: Sequence[Row], row: Row) -> Tile:
    slope = row.get("dqn5m_slope")
    value = fmt.MISSING if slope is None else f"{fmt.signed(slope)}/M"
    return Tile("slope", "slope", value, "DQN5M per M fr", _trend(rows, "dqn5m_slope"),
                slope_tone(slope))  # fmt: skip


def _loss(rows: Sequence[Row], row: Row) -> Tile:
    nonfinite = row.get("nonfinite_steps") or 0
    detail = f"{nonfinite:,} non-finite steps" if nonfinite else "TD loss"
    return Tile("loss", "loss", fmt.number(row.get("loss")), detail, _trend(rows, "loss"),
                "bad" if nonfinite else "")  # fmt: skip


def _grad(rows: Sequence[Row], row: Row) -> Tile:
    value = f"{fmt.number(row.get('grad_norm'))}/{fmt.number(row.get('grad_norm_max'))}"
    return Tile("grad", "grad", value, "norm mean/max", _trend(rows, "grad_norm"))


def _imitation(rows: Sequence[Row], row: Row) -> Tile:
    """lambda of the imitation term in force, and its mean margin loss ("off" at lambda 0;
    rows of runs from before the term have neither)."""
    weight = row.get("imitation_weight")
    loss = row.get("imitation_loss")
    detail = "λ: term off" if weight == 0 else f"λ; margin loss {fmt.number(loss)}"
    return Tile("imitation", "imitate", fmt.number(weight), detail,
                _trend(rows, "imitation_weight"))


def _curriculum(rows: Sequence[Row], row: Row) -> Tile:
    """The start-wave curriculum's frontier and its latest clear rate ("off" when the run has
    none, "—" before the first row or in rows from before it)."""
    frontier = row.get("curriculum_frontier")
    if frontier is None:
        value = "off" if "curriculum_frontier" in row else fmt.MISSING
        return Tile("curriculum", "waves", value, "start-wave curriculum", ())
    detail = f"clear {fmt.percent(row.get('curriculum_clear_rate'), 0)}"
    if row.get("curriculum_pinned"):
        detail += " · pinned"
    return Tile("curriculum", "waves", f"≤ {frontier}", detail,
                _trend(rows, "curriculum_frontier"))


def _replay(rows: Sequence[Row], row: Row, capacity: int | None) -> Tile:
    size = fmt.si(row.get("replay_size"))
    value = f"{size}/{fmt.si(capacity)}" if capacity else size
    detail = f"{fmt.percent(replay_fill(row, capacity), 0)} full"
    return Tile("replay", "replay", value, detail, _trend(rows, "replay_size"))


def _steps(rows: Sequence[Row]) -> Tile:
    """Learner steps per second; a run on Ray acting processes says how many are live and how
    many chunks their deaths lost (the rows' actors_live and actors_lost_chunks)."""
    row = rows[-1] if rows else {}
    detail = "learner steps"
    if row.get("actors_live") is not None:
        live = row["actors_live"]
        detail = f"{live} actor{'' if live == 1 else 's'}"
        if row.get("actors_lost_chunks"):
            detail += f" · {row['actors_lost_chunks']} lost"
    return Tile("steps", "steps/s", fmt.number(learner_steps_per_s(rows)), detail,
                tuple(learner_rates(rows)))  # fmt: skip


def _eval(history: History) -> Tile:
    """Score (game points) and return of the last greedy evaluation, and when it ran."""
    row = history.last_eval or {}
    value = f"{fmt.number(row.get('eval_score'))} / {fmt.number(row.get('eval_return'))}"
    detail = f"at {fmt.si(row.get('frame'))} fr" if row else "none yet"
    scores = values(history.trend_rows(len(history.recent)), "eval_score")
    return Tile("eval", "eval", value, detail, tuple(scores))
