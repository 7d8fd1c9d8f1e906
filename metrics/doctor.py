"""The training doctor: recognises the collapse patterns of seeds/ in the metrics rows and says what
to change, in this run's own settings.

Why: every failure report in seeds/ was written after the fact, from numbers that had been on the
screen for millions of frames (seed 003's Q max climbed 324 -> 1999 before anyone looked; seed
004's agreement fell 90% -> 10% while the loss looked fine).  The doctor watches the same rows the
dashboard shows (DESIGN.md §5) while they arrive, names the pattern once, when it begins, with the
numbers that triggered it and the remedy the seeds found ("lower --learner.lr from 0.003 to
0.001"), so a user can act minutes after the onset instead of days.

How it judges: most rules compare a row with the median of the rows before it (`baseline_rows`),
so they work for any game's reward, Q and loss scale and follow slow, healthy drift; a few use
absolute facts (a Q value above the largest return the rewards allow, non-finite steps, a DQN5M
slope relative to the DQN5M level).  Every threshold is a `DoctorConfig` field whose docstring
says where its default comes from.  A condition fires once when it begins (`Finding.frame` is
its onset, not the row that confirmed it) and may fire again only after it has been absent for
`rearm_rows` rows: a live run must not log the same finding every 2 s.

No torch, and nothing but `config` from the project: the dashboard and `tempest-dqn doctor` import
this module.
"""

from __future__ import annotations

import itertools
import math
import numbers
import statistics
import textwrap
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config import DoctorConfig

CODES: tuple[str, ...] = (
    "q_divergence", "q_collapse", "loss_explosion", "performance_reversal", "grad_instability",
    "clip_saturated", "clip_inactive", "agreement_collapse", "nonfinite", "lr_too_high", "healthy",
)  # fmt: skip
"""Every finding code, `healthy` last (it means: none of the others)."""

GUARD_CODES: frozenset[str] = frozenset({"q_divergence", "loss_explosion", "nonfinite"})
"""Codes on which guard mode (`doctor.guard`) rolls back to the last checkpoint before the onset."""

SEVERITIES: tuple[str, ...] = ("info", "warning", "critical")

_SEVERITY: dict[str, str] = {
    "q_divergence": "critical", "q_collapse": "critical", "loss_explosion": "critical",
    "nonfinite": "critical", "performance_reversal": "warning", "grad_instability": "warning",
    "clip_saturated": "warning", "clip_inactive": "warning", "agreement_collapse": "warning",
    "lr_too_high": "warning", "healthy": "info",
}  # fmt: skip

_FLAT_TOLERANCE = 0.01
"""Relative change under which the learning rate counts as unchanged between rows."""
_LR_FLAT_ROWS = 3
"""Rows the learning rate must have been flat before a rise counts as a raise (warm-up never is)."""
_BLOWUP = {"q_divergence": "Q divergence", "loss_explosion": "the loss explosion",
           "nonfinite": "non-finite learner steps"}  # fmt: skip
_ROW_VALUES = ("loss", "grad_norm", "grad_norm_max", "clip_delta", "clip_frac", "q_min", "q_max",
               "q_mean", "agreement", "dqn_return_5m", "dqn5m_slope", "lr",
               "imitation_weight")  # fmt: skip


# ----------------------------------------------------------------------------------- findings


@dataclass(frozen=True)
class Finding:
    """One problem the doctor recognised, from its onset, with the numbers and the remedy.

    `frame` is the frame of the onset (the first row where the condition began); `row` and
    `detected_frame` are where it was recognised.  `remedy` is the first remedy that is a plain
    configuration change, as dotted overrides (`{"learner.lr": 0.001}`), for guard mode to apply;
    empty when there is none.
    """

    code: str
    frame: int
    severity: str
    message: str
    advice: str
    evidence: dict[str, Any]
    row: int
    detected_frame: int
    remedy: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready data (the shape events.jsonl and `tempest-dqn doctor --json` use)."""
        return {
            "code": self.code,
            "frame": self.frame,
            "severity": self.severity,
            "message": self.message,
            "advice": self.advice,
            "evidence": dict(self.evidence),
            "row": self.row,
            "detected_frame": self.detected_frame,
            "remedy": dict(self.remedy),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Finding:
        """The inverse of `to_dict` (e.g. for a finding read back from events.jsonl)."""
        return cls(
            code=str(data["code"]),
            frame=int(data["frame"]),
            severity=str(data["severity"]),
            message=str(data["message"]),
            advice=str(data["advice"]),
            evidence=dict(data.get("evidence") or {}),
            row=int(data["row"]),
            detected_frame=int(data["detected_frame"]),
            remedy=dict(data.get("remedy") or {}),
        )


@dataclass(frozen=True)
class _Remedy:
    text: str
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class _Row:
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
class _Condition:
    """What a rule sees at this row: present since `onset`."""

    onset: _Row
    message: str
    evidence: dict[str, Any]
    remedies: tuple[_Remedy | None, ...]


@dataclass
class _CodeState:
    active: bool = False
    absent_rows: int = 0


# ------------------------------------------------------------------------------------- numbers


def _number(value: object) -> float | None:
    """A row value as a float (NaN/inf kept), or None when it is null or not a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def _finite(value: object) -> float | None:
    number = _number(value)
    return number if number is not None and math.isfinite(number) else None


def _fmt(value: float | None) -> str:
    """A number as a person reads it: 0.003, 324.6, 1779, 998,830."""
    if value is None:
        return "?"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def _rows(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def _pct(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"


def _signed(value: float) -> str:
    return f"+{_fmt(value)}" if value > 0 else _fmt(value)


def _round_sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def _clean(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready evidence: ints and finite floats as they are, anything else None."""
    return {
        key: value if isinstance(value, int) and not isinstance(value, bool) else _finite(value)
        for key, value in evidence.items()
    }


def _median(values: Iterable[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def _flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys from nested sections; a config.json document ({"config": {...}}) is unwrapped."""
    if not prefix and isinstance(settings.get("config"), Mapping):
        settings = settings["config"]
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


# -------------------------------------------------------------------------------------- advice


class _Advisor:
    """Turns the seeds' remedies into this run's flags and numbers (generic words when unknown)."""

    def __init__(self, settings: Mapping[str, Any], cfg: DoctorConfig) -> None:
        self.settings = dict(settings)
        self.cfg = cfg

    def number(self, key: str) -> float | None:
        return _finite(self.settings.get(key))

    def q_bound(self) -> tuple[float, float, float] | None:
        """(bound, largest reward per step, gamma): no correct Q estimate exceeds the bound."""
        gamma = self.number("learner.gamma")
        if gamma is None or not 0 < gamma < 1 or self.settings.get("learner.normalize_rewards"):
            return None
        reward = None
        if self.settings.get("env.clip_rewards") is True:
            reward = 1.0
        elif self.settings.get("env.id") == "Tempest-v0":
            reward = self.number("env.reward_clip") or None
        return None if reward is None else (reward / (1 - gamma), reward, gamma)

    def lower_lr(self, lr_now: float | None) -> _Remedy:
        # the larger of the configured lr and the row's: the row's is lower during warm-up and
        # decay, higher after a live raise (the dashboard's L)
        lr = max((v for v in (self.number("learner.lr"), lr_now) if v), default=None)
        if not lr:
            return _Remedy("lower the learning rate, --learner.lr (seed 003: 0.003 → 0.001)")
        new = self.cfg.lr_high if lr > self.cfg.lr_high else _round_sig(lr / 2)
        return _Remedy(
            f"lower --learner.lr from {_fmt(lr)} to {_fmt(new)} (seed 003 went 0.003 → 0.001, "
            "and 0.0005 if Q still explodes)",
            {"learner.lr": new},
        )

    def revert_lr(self, before: float, after: float, frame: int) -> _Remedy:
        return _Remedy(
            f"undo the raise: --learner.lr {_fmt(before)} (it went {_fmt(before)} → {_fmt(after)} "
            f"at frame {frame:,}; the dashboard's lr 'half' does it live)",
            {"learner.lr": before},
        )

    def lower_tau(self) -> _Remedy | None:
        tau, every = self.number("learner.tau"), self.number("learner.hard_update_every")
        if tau is None:
            return _Remedy(
                "steady the target network: --learner.tau 0.005 or less (seed 003: 0.012 → 0.005)"
            )
        if 0.005 < tau < 1:
            return _Remedy(
                f"--learner.tau {_fmt(tau)} → 0.005 for steadier bootstrap targets "
                "(seed 003: 0.012 → 0.005)",
                {"learner.tau": 0.005},
            )
        if tau >= 1 and every:
            slower = int(2 * every)
            return _Remedy(
                "copy the target half as often: "
                f"--learner.hard-update-every {int(every)} → {slower}",
                {"learner.hard_update_every": slower},
            )
        return None

    def shorter_n_step(self) -> _Remedy | None:
        n = self.number("replay.n_step")
        if n is None:
            return _Remedy("shorten the n-step returns, --replay.n-step (seed 003: 8 → 5)")
        if n > 5:
            return _Remedy(
                f"--replay.n-step {int(n)} → 5: fewer diverging bootstrap steps per "
                "target (seed 003: 8 → 5)",
                {"replay.n_step": 5},
            )
        return None

    def smoother_gradients(self) -> _Remedy:
        batch, micro = self.number("learner.batch_size"), self.number("learner.micro_batches")
        if batch is None or micro is None:
            return _Remedy(
                "average 4x the samples per optimiser step (seed 003: gradient "
                "accumulation 1 → 4): --learner.batch-size and --learner.micro-batches "
                "both 4x"
            )
        batch, micro = int(batch), int(micro)
        return _Remedy(
            f"average 4x the samples per step, as seed 003's accumulation 1 → 4 did: "
            f"--learner.batch-size {batch} → {4 * batch} with --learner.micro-batches {micro} → "
            f"{4 * micro} (same memory per pass)",
            {"learner.batch_size": 4 * batch, "learner.micro_batches": 4 * micro},
        )

    def enable_clipping(self) -> _Remedy | None:
        clip = self.number("learner.max_grad_norm")
        if clip is None:
            return _Remedy(
                "make sure gradient clipping is on: --learner.max-grad-norm 10 (seed 004)"
            )
        if clip == 0:
            return _Remedy(
                "enable --learner.max-grad-norm 10 (seed 004: with clipping off, one "
                "bad batch exploded the loss 42,000x)",
                {"learner.max_grad_norm": 10.0},
            )
        return None

    def tighten_clipping(self, typical: float | None) -> _Remedy | None:
        clip = self.number("learner.max_grad_norm")
        if not clip or not typical:
            return None
        new = _round_sig(3 * typical, 2)
        return _Remedy(
            f"clipping at --learner.max-grad-norm {_fmt(clip)} never engages (typical norm "
            f"{_fmt(typical)}): lower it to {_fmt(new)} so spikes are cut",
            {"learner.max_grad_norm": new},
        )

    def raise_clipping(self) -> _Remedy:
        clip = self.number("learner.max_grad_norm")
        if not clip:
            return _Remedy(
                "once the loss is steady, a larger --learner.max-grad-norm lets "
                "steps be as large as the learning rate intends (seed 000)"
            )
        return _Remedy(
            f"only once the loss is steady: --learner.max-grad-norm {_fmt(clip)} → "
            f"{_fmt(2 * clip)} (seed 000: 0.5 → 1.0)",
            {"learner.max_grad_norm": 2 * clip},
        )

    def clamp_targets(self, q_level: float | None) -> _Remedy | None:
        clamp = self.number("learner.td_target_clamp")
        if clamp:
            return None
        value = 50.0
        if q_level and 2 * q_level > value:  # twice the healthy |Q|, rounded up to 2 digits
            step = 10 ** (math.floor(math.log10(2 * q_level)) - 1)
            value = float(math.ceil(2 * q_level / step) * step)
        return _Remedy(
            f"clamp TD targets: --learner.td-target-clamp {_fmt(value)} (seed 003's emergency "
            "brake; seed 004 ran a TD clip of 50)",
            {"learner.td_target_clamp": value},
        )

    def normalize_rewards(self) -> _Remedy | None:
        if self.settings.get("learner.normalize_rewards") is True:
            return None
        return _Remedy(
            "scale rewards by a running estimate: --learner.normalize-rewards true (seeds 000 and "
            "002: raw returns of 1000+ blew the value loss up; per-batch normalisation left it "
            "stuck at 1.0)",
            {"learner.normalize_rewards": True},
        )

    def huber(self) -> _Remedy | None:
        if self.settings.get("learner.loss") != "mse":
            return None
        return _Remedy(
            "--learner.loss huber, robust to outlier targets (seeds 001, 004)",
            {"learner.loss": "huber"},
        )

    def raise_floor(self) -> _Remedy | None:
        if self.settings.get("expert.enabled") is False:
            return None
        floor = self.number("expert.ratio_floor")
        if floor is None:
            return _Remedy(
                "raise the expert floor while it recovers, --expert.ratio-floor "
                "(seed 003: 10% → 20%)"
            )
        new = max(2 * floor, 0.1)
        start = self.number("expert.ratio_start")
        new = _round_sig(min(new, start if start is not None else 1.0))
        if new <= floor:
            return None
        return _Remedy(
            f"raise --expert.ratio-floor {_fmt(floor)} → {_fmt(new)} while it recovers "
            "(seed 003: 10% → 20%)",
            {"expert.ratio_floor": new},
        )

    def fresh(self, why: str) -> _Remedy:
        return _Remedy(
            f"if it does not recover, restart from fresh weights with --fresh (the run "
            f"is archived, not deleted); {why}"
        )

    def guard_hint(self, code: str) -> _Remedy | None:
        if code not in GUARD_CODES or self.cfg.guard:
            return None
        return _Remedy(
            "--guard (--doctor.guard true) rolls back to the last checkpoint before the onset "
            "and applies the first remedy by itself"
        )


def _advice(remedies: Sequence[_Remedy]) -> str:
    if not remedies:
        return "nothing to change"
    return "; ".join(f"{i}) {remedy.text}" for i, remedy in enumerate(remedies, start=1))


# -------------------------------------------------------------------------------------- doctor


class Doctor:
    """Live: feed rows one by one with `observe`; each call returns the findings new at that row.

    Args:
        cfg: thresholds (default `DoctorConfig()`).
        settings: the run's resolved configuration as dotted keys ({"learner.lr": 0.003, ...});
            nested sections or a whole config.json document are accepted too.  Used for the
            advice's concrete numbers and a few facts (is clipping on, the largest possible Q);
            anything missing gives generic wording.
    """

    def __init__(
        self, cfg: DoctorConfig | None = None, settings: Mapping[str, object] | None = None
    ) -> None:
        self.cfg = cfg or DoctorConfig()
        self._advisor = _Advisor(_flatten(settings or {}), self.cfg)
        self._findings: list[Finding] = []
        self._rows_seen = 0
        self._judged_rows = 0
        self._last_frame = 0
        self.restart()

    @property
    def findings(self) -> list[Finding]:
        """Every finding so far, in the order they were made."""
        return list(self._findings)

    @property
    def judged_rows(self) -> int:
        """Rows judged so far (those after learning started)."""
        return self._judged_rows

    def restart(self, settings: Mapping[str, object] | None = None) -> None:
        """Forgets baselines, windows and which codes are active (after a guard rollback the same
        problem may come back and must be reported again); keeps `findings` and the row count.
        New `settings` (the rollback's remedy applied) change the advice from here on."""
        cfg = self.cfg
        if settings is not None:
            self._advisor = _Advisor(_flatten(settings), cfg)
        longest = max(
            cfg.baseline_rows,
            cfg.agreement_window_rows,
            cfg.lr_raise_window_rows,
            cfg.grad_swing_rows,
            cfg.clip_saturated_rows,
        )
        self._history: deque[_Row] = deque(maxlen=longest + 1)
        self._slopes: deque[_Row] = deque(maxlen=50_000)
        self._states = {code: _CodeState() for code in CODES}
        self._nonfinite_total: int | None = None
        self._lr_raise: tuple[_Row, float] | None = None
        self._imitation_fade: _Row | None = None

    def observe(self, row: Mapping[str, Any]) -> list[Finding]:
        """Judges one row (in order); returns the findings that begin at this row."""
        index = self._rows_seen
        self._rows_seen += 1
        skipped = self._count_nonfinite(row)
        if not _is_judged(row):
            return []
        current = _snapshot(index, row)
        self._judged_rows += 1
        self._last_frame = current.frame
        self._note_lr_raise(current)
        self._note_imitation_fade(current)
        conditions = self._conditions(current, row, skipped)
        self._remember(current)
        new = self._fire(conditions, current)
        self._findings.extend(new)
        return new

    def healthy(self) -> Finding:
        """The `healthy` finding for the rows seen so far (what `diagnose` returns when nothing
        else was found)."""
        rows, judged, frame = self._rows_seen, self._judged_rows, self._last_frame
        if judged:
            message = (
                f"no problem found in {rows:,} rows ({judged:,} judged, after learning started)"
            )
        else:
            message = f"nothing to judge: none of the {rows:,} rows comes after learning started"
        return Finding(
            code="healthy",
            frame=frame,
            severity="info",
            message=message,
            advice="nothing to change",
            evidence={"rows": rows, "judged_rows": judged},
            row=max(rows - 1, 0),
            detected_frame=frame,
        )

    # ------------------------------------------------------------------------------ state

    def _count_nonfinite(self, row: Mapping[str, Any]) -> int:
        """Learner steps skipped since the previous row (0 on the first row or a counter reset)."""
        total = row.get("nonfinite_steps")
        if not isinstance(total, int) or isinstance(total, bool):
            return 0
        previous, self._nonfinite_total = self._nonfinite_total, total
        return total - previous if previous is not None and total > previous else 0

    def _remember(self, current: _Row) -> None:
        self._history.append(current)
        if current.get("dqn5m_slope") is not None and current.get("dqn_return_5m") is not None:
            self._slopes.append(current)
        oldest = current.frame - self.cfg.reversal_lookback_frames
        while self._slopes and self._slopes[0].frame < oldest:
            self._slopes.popleft()

    def _note_lr_raise(self, current: _Row) -> None:
        """Remembers the last row where the learning rate rose from a flat value."""
        lr = current.get("lr")
        recent = [r.get("lr") for r in itertools.islice(reversed(self._history), _LR_FLAT_ROWS)]
        known = [v for v in recent if v]
        if lr is None or len(known) < _LR_FLAT_ROWS:
            return
        before = known[0]
        flat = all(abs(v - before) <= _FLAT_TOLERANCE * before for v in known)
        if flat and lr >= self.cfg.lr_raise_factor * before:
            self._lr_raise = (current, before)

    def _note_imitation_fade(self, current: _Row) -> None:
        """Remembers the last row where the imitation term's weight fell: its anneal, its gate,
        its stop frame, or a switch by hand (rows without the key count as weight 0)."""
        if self._history and (current.get("imitation_weight") or 0.0) < (
                self._history[-1].get("imitation_weight") or 0.0):
            self._imitation_fade = current

    def _fire(self, conditions: Mapping[str, _Condition | None], current: _Row) -> list[Finding]:
        new = []
        for code in CODES[:-1]:
            state, condition = self._states[code], conditions.get(code)
            if condition is None:
                if state.active:
                    state.absent_rows += 1
                    state.active = state.absent_rows < self.cfg.rearm_rows
                continue
            state.absent_rows = 0
            if not state.active:
                state.active = True
                new.append(self._finding(code, condition, current))
        return new

    def _finding(self, code: str, condition: _Condition, current: _Row) -> Finding:
        remedies = [r for r in condition.remedies if r is not None]
        hint = self._advisor.guard_hint(code)
        first_change = next((r.overrides for r in remedies if r.overrides), {})
        return Finding(
            code=code,
            frame=condition.onset.frame,
            severity=_SEVERITY[code],
            message=condition.message,
            advice=_advice(remedies + ([hint] if hint else [])),
            evidence=_clean(condition.evidence),
            row=current.index,
            detected_frame=current.frame,
            remedy=dict(first_change),
        )

    # ------------------------------------------------------------------------------ helpers

    def _recent(self, rows: int) -> list[_Row]:
        """The last `rows` judged rows before the current one, oldest first."""
        return list(itertools.islice(reversed(self._history), rows))[::-1]

    def _baseline(self, measure: Callable[[_Row], float | None]) -> float | None:
        """Median of `measure` over the baseline window; None until enough rows have it."""
        values = [v for v in map(measure, self._recent(self.cfg.baseline_rows)) if v is not None]
        return statistics.median(values) if len(values) >= self.cfg.min_baseline_rows else None

    def _onset(self, current: _Row, holds: Callable[[_Row], bool]) -> _Row:
        """The first row of the unbroken run of rows (ending at `current`) where `holds`."""
        onset = current
        for row in reversed(self._history):
            if not holds(row):
                break
            onset = row
        return onset

    # ------------------------------------------------------------------------------ rules

    def _conditions(
        self, current: _Row, row: Mapping[str, Any], skipped: int
    ) -> dict[str, _Condition | None]:
        spike = self._gradient_spike(current)
        conditions: dict[str, _Condition | None] = {
            "q_divergence": self._q_divergence(current),
            "q_collapse": self._q_collapse(current),
            "loss_explosion": self._loss_explosion(current),
            "performance_reversal": self._performance_reversal(current),
            "grad_instability": self._grad_swing(current) or spike.get("grad_instability"),
            "clip_saturated": self._clip_saturated(current),
            "clip_inactive": spike.get("clip_inactive"),
            "agreement_collapse": self._agreement_collapse(current),
            "nonfinite": self._nonfinite(current, row, skipped),
        }
        conditions["lr_too_high"] = self._lr_too_high(current, conditions)
        return conditions

    def _ratio_rise(
        self, current: _Row, measure: Callable[[_Row], float | None], factor: float
    ) -> tuple[float, float, _Row] | None:
        """(value, baseline, onset) when `measure` reached `factor` x its baseline."""
        value, base = measure(current), self._baseline(measure)
        if value is None or not base or base <= 0 or value < factor * base:
            return None
        early = math.sqrt(factor) * base
        onset = self._onset(current, lambda r: (measure(r) or 0.0) >= early)
        return value, base, onset

    def _q_divergence(self, current: _Row) -> _Condition | None:
        cfg, advisor = self.cfg, self._advisor
        rise = self._ratio_rise(current, lambda r: r.q_abs, cfg.q_divergence_factor)
        bound = advisor.q_bound()
        floor = max(cfg.q_divergence_floor,
                    cfg.q_divergence_bound_share * bound[0] if bound else 0.0)
        if rise and rise[0] < floor:
            rise = None
        above = bound is not None and (current.q_abs or 0.0) > bound[0]
        if not rise and not above:
            return None
        q_min, q_max = current.get("q_min"), current.get("q_max")
        side = "max" if abs(q_max or 0.0) >= abs(q_min or 0.0) else "min"
        value = q_max if side == "max" else q_min
        evidence: dict[str, Any] = {"q_min": q_min, "q_max": q_max}
        parts = []
        onsets = []
        if rise:
            _, base, onset = rise
            rows = current.index - onset.index + 1
            sign = 1 if side == "max" else -1
            parts.append(
                f"Q {side} {'rose' if side == 'max' else 'fell'} {_fmt(sign * base)} → "
                f"{_fmt(value)} in {_rows(rows)} ({_fmt((current.q_abs or 0) / base)}x the median "
                f"|Q| of the previous {cfg.baseline_rows} rows)"
            )
            evidence.update(q_abs_baseline=base, ratio=(current.q_abs or 0) / base, rows=rows)
            onsets.append(onset)
        if above and bound:
            limit, reward, gamma = bound
            parts.append(
                f"|Q| {_fmt(current.q_abs)} is above {_fmt(limit)}, the largest discounted return "
                f"the rewards allow ({_fmt(reward)} per step / (1 - gamma {_fmt(gamma)}))"
            )
            evidence["q_bound"] = limit
            onsets.append(self._onset(current, lambda r: (r.q_abs or 0.0) > limit))
        message = "; ".join(parts) + (
            f"; Q range now [{_fmt(q_min)}, {_fmt(q_max)}]: the Bellman updates feed on their own "
            "overestimates (seed 003)"
        )
        level = rise[1] if rise else None
        remedies = (
            advisor.lower_lr(current.get("lr")),
            advisor.lower_tau(),
            advisor.shorter_n_step(),
            advisor.smoother_gradients(),
            advisor.clamp_targets(level),
            advisor.fresh("seed 003's Q collapsed after diverging"),
        )
        return _Condition(min(onsets, key=lambda r: r.index), message, evidence, remedies)

    def _q_collapse(self, current: _Row) -> _Condition | None:
        factor = self.cfg.q_collapse_factor
        spread, base = current.q_range, self._baseline(lambda r: r.q_range)
        if spread is None or not base or base <= 0 or spread > base / factor:
            return None
        early = base / math.sqrt(factor)
        onset = self._onset(current, lambda r: r.q_range is not None and r.q_range <= early)
        rows = current.index - onset.index + 1
        message = (
            f"Q range collapsed from {_fmt(base)} (median of the previous {self.cfg.baseline_rows} "
            f"rows) to {_fmt(spread)} ([{_fmt(current.get('q_min'))}, "
            f"{_fmt(current.get('q_max'))}]) in {_rows(rows)}, 1/{_fmt(base / max(spread, 1e-12))} "
            "of it: the network values every action alike (seed 003 after its divergence; seed "
            "001's value network predicting the mean)"
        )
        evidence = {
            "q_range": spread,
            "q_range_baseline": base,
            "q_min": current.get("q_min"),
            "q_max": current.get("q_max"),
            "rows": rows,
        }
        advisor = self._advisor
        remedies = (
            advisor.lower_lr(current.get("lr")),
            advisor.lower_tau(),
            advisor.normalize_rewards(),
            advisor.fresh("seed 003's weights did not come back from the collapse on their own"),
        )
        return _Condition(onset, message, evidence, remedies)

    def _loss_explosion(self, current: _Row) -> _Condition | None:
        rise = self._ratio_rise(current, lambda r: r.get("loss"), self.cfg.loss_explosion_factor)
        if not rise:
            return None
        loss, base, onset = rise
        rows = current.index - onset.index + 1
        message = (
            f"loss rose {_fmt(base)} → {_fmt(loss)} in {_rows(rows)} ({_fmt(loss / base)}x its "
            f"median over the previous {self.cfg.baseline_rows} rows; seed 004: 0.126 → 5,194, "
            "seed 000: 36k → 200k)"
        )
        evidence = {"loss": loss, "loss_baseline": base, "ratio": loss / base, "rows": rows}
        advisor = self._advisor
        remedies = (
            advisor.enable_clipping(),
            advisor.lower_lr(current.get("lr")),
            advisor.normalize_rewards(),
            advisor.huber(),
            advisor.clamp_targets(None),
            advisor.fresh("seed 004: the weights an explosion leaves behind are corrupted"),
        )
        return _Condition(onset, message, evidence, remedies)

    def _clipping_state(self, current: _Row) -> str:
        """ "off" (max_grad_norm 0), "idle" (never engaged in the window) or "on"."""
        if self._advisor.number("learner.max_grad_norm") == 0:
            return "off"
        rows = [*self._recent(self.cfg.baseline_rows), current]
        return "idle" if all(map(_unclipped, rows)) else "on"

    def _gradient_spike(self, current: _Row) -> dict[str, _Condition]:
        """A spike of the gradient norm: clip_inactive when clipping did not act, else
        grad_instability."""
        factor = self.cfg.grad_spike_factor
        rise = self._ratio_rise(current, lambda r: r.grad_peak, factor)
        if not rise:
            return {}
        peak, base, onset = rise
        state = self._clipping_state(current)
        how = {
            "off": "with clipping off (max_grad_norm 0)",
            "idle": "and clipping never engaged (ClipΔ 1.0, no step clipped)",
            "on": f"(ClipΔ {_fmt(current.get('clip_delta'))})",
        }[state]
        message = (
            f"gradient norm spiked to {_fmt(peak)}, {_fmt(peak / base)}x its median of "
            f"{_fmt(base)} over the previous {self.cfg.baseline_rows} rows, {how}"
        )
        evidence = {
            "grad_norm_max": peak,
            "grad_baseline": base,
            "ratio": peak / base,
            "clip_delta": current.get("clip_delta"),
            "clip_frac": current.get("clip_frac"),
        }
        advisor = self._advisor
        if state == "on":
            remedies = (advisor.smoother_gradients(), advisor.lower_lr(current.get("lr")))
            return {"grad_instability": _Condition(onset, message, evidence, remedies)}
        clip = advisor.enable_clipping() if state == "off" else advisor.tighten_clipping(base)
        message += ": nothing stops the next one (seed 004: a loss explosion followed)"
        remedies = (clip or advisor.enable_clipping(), advisor.lower_lr(current.get("lr")))
        return {"clip_inactive": _Condition(onset, message, evidence, remedies)}

    def _grad_swing(self, current: _Row) -> _Condition | None:
        """Seed 003's pattern: rows clipped hard, then not at all, then hard again."""
        cfg = self.cfg
        window = [
            r
            for r in [*self._recent(cfg.grad_swing_rows - 1), current]
            if r.get("clip_delta") is not None and r.get("grad_norm")
        ]
        if len(window) < 3:
            return None
        deltas = [r.get("clip_delta") or 0.0 for r in window]
        hard = [d <= max(deltas) - cfg.clip_swing for d in deltas]
        first = hard.index(True) if True in hard else None
        if first is None or not _alternates(hard[first:]):
            return None
        swing = window[first:]
        norms = [r.get("grad_norm") or 0.0 for r in swing]
        deltas = deltas[first:]
        if max(norms) < cfg.grad_swing_ratio * min(norms):
            return None
        message = (
            f"gradient norm swings {_fmt(min(norms))} to {_fmt(max(norms))} and ClipΔ "
            f"{_fmt(min(deltas))} to {_fmt(max(deltas))} within {_rows(len(swing))}: some rows "
            "clipped hard, others not at all (seed 003: GradNorm 4.764 to 8.787, ClipΔ 0.569 to "
            "1.000)"
        )
        evidence = {
            "grad_norm_min": min(norms),
            "grad_norm_max": max(norms),
            "clip_delta_min": min(deltas),
            "clip_delta_max": max(deltas),
            "rows": len(swing),
        }
        remedies = (self._advisor.smoother_gradients(), self._advisor.lower_lr(current.get("lr")))
        return _Condition(swing[0], message, evidence, remedies)

    def _saturated(self, row: _Row) -> bool:
        frac, delta = row.get("clip_frac"), row.get("clip_delta")
        return (
            frac is not None
            and delta is not None
            and frac >= self.cfg.clip_saturated_frac
            and delta <= self.cfg.clip_saturated_delta
        )

    def _clip_saturated(self, current: _Row) -> _Condition | None:
        if not self._saturated(current):
            return None
        onset = self._onset(current, self._saturated)
        rows = current.index - onset.index + 1
        if rows < self.cfg.clip_saturated_rows:
            return None
        run = [r for r in self._history if r.index >= onset.index] + [current]
        delta = statistics.fmean(r.get("clip_delta") or 0.0 for r in run)
        clip = self._advisor.number("learner.max_grad_norm")
        limit = f" --learner.max-grad-norm {_fmt(clip)}" if clip else ""
        message = (
            f"every step clipped for {rows} rows (clip_frac ≥ {_fmt(self.cfg.clip_saturated_frac)}"
            f", mean ClipΔ {_fmt(delta)}): gradients run {_fmt(1 / max(delta, 1e-12))}x the clip"
            f"{limit}, so clipping, not the learning rate, sets every step"
        )
        evidence = {
            "rows": rows,
            "clip_delta_mean": delta,
            "clip_frac": current.get("clip_frac"),
            "grad_norm": current.get("grad_norm"),
            "max_grad_norm": clip,
        }
        advisor = self._advisor
        remedies = (
            advisor.lower_lr(current.get("lr")),
            advisor.normalize_rewards(),
            advisor.raise_clipping(),
        )
        return _Condition(onset, message, evidence, remedies)

    def _agreement_collapse(self, current: _Row) -> _Condition | None:
        cfg = self.cfg
        agreement = current.get("agreement")
        fade, settle = self._imitation_fade, cfg.agreement_fade_rows
        if fade is not None and current.index - fade.index < settle:
            return None  # the network is meant to leave the expert as the term fades
        window = [
            r for r in self._recent(cfg.agreement_window_rows - 1)
            if r.get("agreement") is not None and (fade is None or r.index - fade.index >= settle)
        ]
        if agreement is None or not window:
            return None
        peak = max(window, key=lambda r: r.get("agreement") or 0.0)
        top = peak.get("agreement") or 0.0
        limit = cfg.agreement_collapse_fraction * top
        if top < cfg.agreement_peak_min or agreement > limit:
            return None
        onset = self._onset(current, lambda r: (r.get("agreement") or 0.0) <= limit)
        message = (
            f"agreement with the expert fell {_pct(top)} → {_pct(agreement)} (peak at frame "
            f"{peak.frame:,}; below {_pct(cfg.agreement_collapse_fraction)} of it since frame "
            f"{onset.frame:,}); seed 004 went 90% → 50% → 31% → 10% before its loss exploded"
        )
        before, after = peak.greedy_top_action, current.greedy_top_action
        if before is not None and after is not None and before != after:
            message += f"; the greedy action switched from {before} to {after}"
        evidence = {
            "agreement": agreement,
            "agreement_peak": top,
            "peak_frame": peak.frame,
            "greedy_top_action_before": before,
            "greedy_top_action": after,
        }
        advisor = self._advisor
        remedies = (
            advisor.enable_clipping(),
            advisor.raise_floor(),
            advisor.lower_lr(current.get("lr")),
            advisor.fresh("seed 004 restarted fresh once its policy had collapsed"),
        )
        return _Condition(onset, message, evidence, remedies)

    def _performance_reversal(self, current: _Row) -> _Condition | None:
        cfg = self.cfg
        slope = current.get("dqn5m_slope")
        if slope is None or slope >= 0 or current.get("dqn_return_5m") is None:
            return None
        if current.frame < cfg.reversal_min_frames:
            return None
        negative = itertools.takewhile(
            lambda r: (r.get("dqn5m_slope") or 0.0) < 0, reversed(self._slopes)
        )
        falling = 1 + sum(1 for _ in negative)
        if falling < cfg.reversal_rows:
            return None
        points = [*self._slopes, current]
        scale = max(abs(r.get("dqn_return_5m") or 0.0) for r in points)
        if scale <= 0 or 100 * slope / scale > -cfg.reversal_fall_pct:
            return None
        before, onset = points[:-falling], points[-falling]
        if len(before) < cfg.min_baseline_rows:
            return None
        rising = _median(r.get("dqn5m_slope") for r in before) or 0.0
        if 100 * rising / scale < cfg.reversal_rise_pct:
            return None
        loss_then = _median(r.get("loss") for r in before)
        loss_now = _median(r.get("loss") for r in points[-3:])
        if loss_then is None or loss_now is None or loss_now >= loss_then:
            return None
        message = (
            f"DQN5M slope turned from {_signed(rising)}/M ({_signed(100 * rising / scale)}% of "
            f"DQN5M {_fmt(scale)} per M; median of the {_rows(len(before))} since frame "
            f"{before[0].frame:,}) to {_signed(slope)}/M ({_signed(100 * slope / scale)}%/M), "
            f"negative for {_rows(falling)}, while the loss fell {_fmt(loss_then)} → "
            f"{_fmt(loss_now)}: the network fits its targets better and plays worse (seed 003)"
        )
        evidence = {
            "slope": slope,
            "slope_before": rising,
            "dqn_return_5m_scale": scale,
            "slope_pct": 100 * slope / scale,
            "slope_before_pct": 100 * rising / scale,
            "loss_then": loss_then,
            "loss_now": loss_now,
            "rows": falling,
        }
        advisor = self._advisor
        remedies = (
            advisor.lower_lr(current.get("lr")),
            advisor.lower_tau(),
            advisor.shorter_n_step(),
            advisor.smoother_gradients(),
            advisor.raise_floor(),
        )
        return _Condition(onset, message, evidence, remedies)

    def _nonfinite(self, current: _Row, row: Mapping[str, Any], skipped: int) -> _Condition | None:
        bad = [
            k
            for k in _ROW_VALUES
            if (v := _number(row.get(k))) is not None and not math.isfinite(v)
        ]
        if not skipped and not bad:
            return None
        parts = []
        if skipped:
            parts.append(
                f"{skipped} learner steps skipped in this row because the loss or the "
                f"gradients were not finite (total {row.get('nonfinite_steps'):,})"
            )
        if bad:
            parts.append("non-finite " + ", ".join(bad) + " in the row")
        evidence = {
            "skipped_steps": skipped,
            "nonfinite_steps": row.get("nonfinite_steps"),
            "learner_steps": row.get("learner_steps"),
        }
        advisor = self._advisor
        remedies = (
            advisor.enable_clipping(),
            advisor.lower_lr(current.get("lr")),
            advisor.clamp_targets(None),
            advisor.fresh("weights that produced NaN once tend to again"),
        )
        return _Condition(current, "; ".join(parts), evidence, remedies)

    def _lr_too_high(
        self, current: _Row, conditions: Mapping[str, _Condition | None]
    ) -> _Condition | None:
        """When the evidence points at the learning rate: a blow-up soon after it was raised, a
        blow-up at a rate above `lr_high`, or saturated clipping with a loss that keeps rising."""
        advisor, lr = self._advisor, current.get("lr")
        for code in ("q_divergence", "loss_explosion", "nonfinite"):
            blowup = conditions.get(code)
            if blowup is None:
                continue
            what = _BLOWUP[code]
            if self._lr_raise:
                raised, before = self._lr_raise
                if 0 <= blowup.onset.index - raised.index <= self.cfg.lr_raise_window_rows:
                    message = (
                        f"{what} began {blowup.onset.index - raised.index} rows after the learning "
                        f"rate was raised {_fmt(before)} → {_fmt(raised.get('lr'))} at frame "
                        f"{raised.frame:,}"
                    )
                    evidence = {
                        "lr": raised.get("lr"),
                        "lr_before": before,
                        "rows_after_raise": blowup.onset.index - raised.index,
                    }
                    remedy = advisor.revert_lr(before, raised.get("lr") or 0.0, raised.frame)
                    return _Condition(raised, message, evidence, (remedy,))
            if lr is not None and lr > self.cfg.lr_high:
                message = (
                    f"{what} at a learning rate of {_fmt(lr)}, above {_fmt(self.cfg.lr_high)}: "
                    'seed 003 diverged at 0.003 and settled at 0.001 ("sometimes slower is faster")'
                )
                evidence = {"lr": lr, "lr_high": self.cfg.lr_high}
                return _Condition(blowup.onset, message, evidence, (advisor.lower_lr(lr),))
        return self._lr_saturated(current, conditions.get("clip_saturated"))

    def _lr_saturated(self, current: _Row, saturated: _Condition | None) -> _Condition | None:
        loss_now = current.get("loss")
        loss_then = saturated.onset.get("loss") if saturated else None
        factor = self.cfg.lr_loss_rise_factor
        if saturated is None or loss_now is None or not loss_then or loss_now < factor * loss_then:
            return None
        message = (
            f"every step is clipped and the loss still rose {_fmt(loss_then)} → {_fmt(loss_now)} "
            f"({_fmt(loss_now / loss_then)}x) since frame {saturated.onset.frame:,}: steps as "
            "large as clipping allows make things worse"
        )
        evidence = {"loss_then": loss_then, "loss_now": loss_now, "lr": current.get("lr")}
        return _Condition(
            saturated.onset, message, evidence, (self._advisor.lower_lr(current.get("lr")),)
        )


def _alternates(flags: Sequence[bool]) -> bool:
    """True when `flags` (starting True) goes True → False → True."""
    seen_false = False
    for flag in flags[1:]:
        if not flag:
            seen_false = True
        elif seen_false:
            return True
    return False


def _unclipped(row: _Row) -> bool:
    """No step of the row was clipped (ClipΔ 1.0 and clip_frac 0, or unknown)."""
    delta = row.get("clip_delta")
    return (delta is None or delta >= 0.999) and not row.get("clip_frac")


def _is_judged(row: Mapping[str, Any]) -> bool:
    """Rows before learning starts (no learner step yet, or no Q values) are never judged."""
    steps = row.get("learner_steps")
    return (
        isinstance(steps, int)
        and steps > 0
        and row.get("q_min") is not None
        and row.get("q_max") is not None
    )


def _snapshot(index: int, row: Mapping[str, Any]) -> _Row:
    action = row.get("greedy_top_action")
    return _Row(
        index=index,
        frame=int(row.get("frame") or 0),
        values={key: _finite(row.get(key)) for key in _ROW_VALUES},
        greedy_top_action=action
        if isinstance(action, int) and not isinstance(action, bool)
        else None,
    )


# ------------------------------------------------------------------------------------- offline


@dataclass(frozen=True)
class Rollback:
    """A guard-mode rollback, read back from events.jsonl: right after the row at `frame` the
    live doctor started over, with `changes` (dotted overrides) applied to the settings."""

    frame: int
    changes: dict[str, Any]


def guard_rollbacks(events: Iterable[Mapping[str, Any]]) -> list[Rollback]:
    """The rollbacks among a run's events, in order.

    A rollback event names the row it happened at (`frame`); an older one that does not is
    placed at the row where the guard code it answered was detected (the finding logged just
    before it)."""
    rollbacks, detected = [], None
    for event in events:
        if event.get("kind") == "finding" and event.get("code") in GUARD_CODES:
            detected = event.get("detected_frame")
        elif event.get("guard") == "rollback":
            frame = event.get("frame", detected)
            if isinstance(frame, int) and not isinstance(frame, bool):
                rollbacks.append(Rollback(frame, dict(event.get("changes") or {})))
    return rollbacks


def diagnose(
    rows: Iterable[Mapping[str, Any]],
    cfg: DoctorConfig | None = None,
    settings: Mapping[str, object] | None = None,
    rollbacks: Sequence[Rollback] = (),
) -> list[Finding]:
    """Every finding over `rows` in order; exactly one `healthy` finding when there is none.

    `rollbacks` replays guard mode's: the doctor starts over after each rollback's row, as the
    live one did, so the weights put back (a Q range back at its size before the trouble) are
    not mistaken for a collapse."""
    flat, pending = _flatten(settings or {}), list(rollbacks)
    doctor = Doctor(cfg, flat)
    for row in rows:
        doctor.observe(row)
        if pending and row.get("frame") == pending[0].frame:
            flat = {**flat, **pending.pop(0).changes}
            doctor.restart(flat)
    return doctor.findings or [doctor.healthy()]


def format_report(findings: Sequence[Finding], *, source: str, rows: int) -> str:
    """A readable multi-line report: a summary line, then each finding with its advice."""
    lines = [f"Training doctor: {source} ({rows:,} rows)"]
    problems = [f for f in findings if f.code != "healthy"]
    if not problems:
        healthy = next((f for f in findings if f.code == "healthy"), None)
        lines.append("healthy: " + (healthy.message if healthy else "no problem found"))
        return "\n".join(lines)
    counts = {s: sum(f.severity == s for f in problems) for s in reversed(SEVERITIES)}
    summary = ", ".join(
        f"{n} {s}{'s' * (n > 1 and s != 'critical')}" for s, n in counts.items() if n
    )
    lines.append(f"{len(problems)} finding{'s' if len(problems) != 1 else ''}: {summary}")
    wrap = textwrap.TextWrapper(
        width=100, initial_indent="    ", subsequent_indent="    ", break_on_hyphens=False
    )
    for finding in problems:
        lines += [
            "",
            f"{finding.severity.upper():<8} {finding.code} from frame {finding.frame:,} "
            f"(detected at row {finding.row:,}, frame {finding.detected_frame:,})",
            *wrap.wrap(finding.message),
            *wrap.wrap("advice: " + finding.advice),
        ]
    return "\n".join(lines)
