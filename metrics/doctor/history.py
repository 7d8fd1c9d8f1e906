"""What the doctor remembers between rows: the judged rows (`Row`) of the longest window a rule
reads, the DQN5M points of the reversal look-back, the non-finite step counter, and the last
learning-rate raise and imitation fade; and the three questions every rule asks of them: the
recent rows, a baseline (their median), and the onset of a condition that holds now."""

from __future__ import annotations

import itertools
import math
import statistics
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from config import DoctorConfig
from metrics.doctor.advice import Remedy
from metrics.doctor.values import finite

ROW_VALUES = ("loss", "grad_norm", "grad_norm_max", "clip_delta", "clip_frac", "q_min", "q_max",
              "q_mean", "agreement", "dqn_return_5m", "dqn5m_slope", "lr",
              "imitation_weight")  # fmt: skip
"""The row keys the rules read."""
FLAT_TOLERANCE = 0.01
"""Relative change under which the learning rate counts as unchanged between rows."""
LR_FLAT_ROWS = 3
"""Rows the learning rate must have been flat before a rise counts as a raise (warm-up never is)."""


@dataclass(frozen=True)
class Row:
    """The numbers of one judged row; every value finite or None."""

    index: int
    frame: int
    values: dict[str, float | None]
    greedy_top_action: int | None

    def get(self, key: str) -> float | None:
        return self.values.get(key)

    @property
    def q_abs(self) -> float | None:
        q_min, q_max = self.get("q_min"), self.get("q_max")
        return None if q_min is None or q_max is None else max(abs(q_min), abs(q_max))

    @property
    def q_range(self) -> float | None:
        q_min, q_max = self.get("q_min"), self.get("q_max")
        return None if q_min is None or q_max is None else q_max - q_min

    @property
    def grad_peak(self) -> float | None:
        """The row's largest gradient norm (the mean when the max is missing)."""
        peak = self.get("grad_norm_max")
        return peak if peak is not None else self.get("grad_norm")


@dataclass(frozen=True)
class Condition:
    """What a rule sees at this row: present since `onset`."""

    onset: Row
    message: str
    evidence: dict[str, Any]
    remedies: tuple[Remedy | None, ...]


def is_judged(row: Mapping[str, Any]) -> bool:
    """Rows before learning starts (no learner step yet, or no Q values) are never judged."""
    steps = row.get("learner_steps")
    return (
        isinstance(steps, int)
        and steps > 0
        and row.get("q_min") is not None
        and row.get("q_max") is not None
    )


def snapshot(index: int, row: Mapping[str, Any]) -> Row:
    """The judged numbers of metrics row number `index`."""
    action = row.get("greedy_top_action")
    return Row(
        index=index,
        frame=int(row.get("frame") or 0),
        values={key: finite(row.get(key)) for key in ROW_VALUES},
        greedy_top_action=action
        if isinstance(action, int) and not isinstance(action, bool)
        else None,
    )


class History:
    """The rows before the current one, as much of them as the rules read (bounded)."""

    def __init__(self, cfg: DoctorConfig) -> None:
        self.cfg = cfg
        longest = max(cfg.baseline_rows, cfg.agreement_window_rows, cfg.lr_raise_window_rows,
                      cfg.grad_swing_rows, cfg.clip_saturated_rows)
        self.rows: deque[Row] = deque(maxlen=longest + 1)
        self.slopes: deque[Row] = deque(maxlen=50_000)
        """Rows with a DQN5M and its slope, `reversal_lookback_frames` back."""
        self.nonfinite_total: int | None = None
        self.lr_raise: tuple[Row, float] | None = None
        """(the row where the learning rate rose from a flat value, the value before)."""
        self.imitation_fade: Row | None = None
        """The last row where the imitation term's weight fell."""

    def count_nonfinite(self, row: Mapping[str, Any]) -> int:
        """Learner steps skipped since the previous row (0 on the first row or a counter reset)."""
        total = row.get("nonfinite_steps")
        if not isinstance(total, int) or isinstance(total, bool):
            return 0
        previous, self.nonfinite_total = self.nonfinite_total, total
        return total - previous if previous is not None and total > previous else 0

    def note(self, current: Row) -> None:
        """What `current` changes before the rules judge it: a raise of the learning rate from a
        flat value; a fall of the imitation term's weight (its anneal, gate, stop frame or a
        switch by hand; rows without the key count as weight 0)."""
        lr = current.get("lr")
        recent = [r.get("lr") for r in itertools.islice(reversed(self.rows), LR_FLAT_ROWS)]
        known = [v for v in recent if v]
        if lr is not None and len(known) >= LR_FLAT_ROWS:
            before = known[0]
            flat = all(abs(v - before) <= FLAT_TOLERANCE * before for v in known)
            if flat and lr >= self.cfg.lr_raise_factor * before:
                self.lr_raise = (current, before)
        if self.rows and (current.get("imitation_weight") or 0.0) < (
                self.rows[-1].get("imitation_weight") or 0.0):
            self.imitation_fade = current

    def remember(self, current: Row) -> None:
        """`current` joins the history once it has been judged."""
        self.rows.append(current)
        if current.get("dqn5m_slope") is not None and current.get("dqn_return_5m") is not None:
            self.slopes.append(current)
        oldest = current.frame - self.cfg.reversal_lookback_frames
        while self.slopes and self.slopes[0].frame < oldest:
            self.slopes.popleft()

    def recent(self, rows: int) -> list[Row]:
        """The last `rows` judged rows before the current one, oldest first."""
        return list(itertools.islice(reversed(self.rows), rows))[::-1]

    def baseline(self, measure: Callable[[Row], float | None]) -> float | None:
        """Median of `measure` over the baseline window; None until enough rows have it."""
        values = [v for v in map(measure, self.recent(self.cfg.baseline_rows)) if v is not None]
        return statistics.median(values) if len(values) >= self.cfg.min_baseline_rows else None

    def onset(self, current: Row, holds: Callable[[Row], bool]) -> Row:
        """The first row of the unbroken run of rows (ending at `current`) where `holds`."""
        onset = current
        for row in reversed(self.rows):
            if not holds(row):
                break
            onset = row
        return onset

    def ratio_rise(self, current: Row, measure: Callable[[Row], float | None],
                   factor: float) -> tuple[float, float, Row] | None:
        """(value, baseline, onset) when `measure` reached `factor` x its baseline."""
        value, base = measure(current), self.baseline(measure)
        if value is None or not base or base <= 0 or value < factor * base:
            return None
        early = math.sqrt(factor) * base
        onset = self.onset(current, lambda r: (measure(r) or 0.0) >= early)
        return value, base, onset
