"""The metrics row of DESIGN.md §5 as code: the keys, their types, a validator and the accumulator.

Why here: the trainer writes rows, the dashboard and the doctor read them.  One definition of each
number, next to its test, keeps the three from drifting apart (the system we replace changed what
"ClipΔ" meant three times under the same label).

`IntervalAccumulator` is fed during an interval (learner steps, frames, finished episodes) and turns
what it saw into one complete row at the interval's end, then starts the next interval empty.
"""

from __future__ import annotations

import functools
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

REQUIRED_KEYS: tuple[str, ...] = (
    "t", "frame", "fps", "episodes", "epsilon", "expert_ratio", "return_mean",
    "dqn_return_1m", "dqn_return_5m", "dqn5m_slope", "loss", "grad_norm", "grad_norm_max",
    "clip_delta", "clip_frac", "q_min", "q_max", "q_mean", "agreement", "greedy_top_action",
    "greedy_top_share", "lr", "learner_steps", "target_age", "replay_size", "samples_per_frame",
    "nonfinite_steps", "eval_return", "eval_score",
)  # fmt: skip
"""Every row holds these keys (DESIGN.md §5); extra keys are welcome."""

VERSION_2_KEYS: tuple[str, ...] = ("imitation_weight", "imitation_loss", "expert_eval_score")
"""Keys added in version 2 (DESIGN.md §5): every row this trainer writes holds them, rows of
older runs do not, so they are checked where present.

imitation_weight: lambda of the imitation term in force when the row was written (0 when off);
imitation_loss: mean large-margin loss J_E over the labelled batch states of the interval's
learner steps (plain J_E: neither lambda nor importance weights), null when the term was off;
expert_eval_score: the expert's mean score by the evaluation protocol on the evaluation's
seeds, measured once by the run (QDagger's G_expert), null until then."""

VERSION_3_KEYS: tuple[str, ...] = ("curriculum_frontier", "curriculum_clear_rate")
"""Keys added in version 3 (DESIGN.md §5), checked where present like version 2's.

curriculum_frontier: the start-wave curriculum's frontier when the row was written (the highest
wave new games start at), null when the curriculum is off;
curriculum_clear_rate: the share of the latest frontier evaluation's one-life episodes, started
at the frontier of that time, that reached the next wave; null when off or before the first."""

INT_KEYS = frozenset(
    "frame episodes greedy_top_action learner_steps target_age replay_size nonfinite_steps "
    "curriculum_frontier".split()
)
"""Counts and indices: JSON integers.  Every other key is a number (int or float)."""

NEVER_NULL = frozenset("t frame episodes learner_steps replay_size nonfinite_steps".split())
"""Keys that always exist from the first row on (counters and clocks); the rest may be null.

`fps` may be null: an interval closed with no elapsed time has no rate."""

FRACTION_KEYS = frozenset("clip_frac agreement greedy_top_share curriculum_clear_rate".split())
"""Shares: within [0, 1]."""

NON_NEGATIVE_KEYS = INT_KEYS | {"t", "fps", "grad_norm", "grad_norm_max", "clip_delta",
                                "samples_per_frame", "lr", "imitation_weight",
                                "imitation_loss"}  # fmt: skip
"""Values below zero mean a bug in the writer."""


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _value_problem(key: str, value: object) -> str | None:
    """Why `value` is not acceptable for `key`, or None."""
    if value is None:
        return f"{key} is null but always exists" if key in NEVER_NULL else None
    if key in INT_KEYS and not (isinstance(value, int) and not isinstance(value, bool)):
        return f"{key} must be an integer, got {type(value).__name__} {value!r}"
    if not _is_number(value):
        return f"{key} must be a number or null, got {type(value).__name__} {value!r}"
    if not math.isfinite(value):
        return f"{key} is {value!r}; rows hold null instead of NaN/inf"
    if key in NON_NEGATIVE_KEYS and value < 0:
        return f"{key} must be 0 or more, got {value!r}"
    if key in FRACTION_KEYS and not 0 <= value <= 1:
        return f"{key} must be within [0, 1], got {value!r}"
    return None


def validate_row(row: object) -> list[str]:
    """Every way `row` breaks the §5 contract, one message per problem naming the key; [] if fine.

    Extra keys are not checked (they are welcome).  Null is accepted wherever a value may not
    exist yet, i.e. for every key except those in NEVER_NULL.
    """
    if not isinstance(row, Mapping):
        return [f"a row must be a JSON object, got {type(row).__name__}"]
    problems = [f"missing required key {key!r}" for key in REQUIRED_KEYS if key not in row]
    for key in REQUIRED_KEYS + VERSION_2_KEYS + VERSION_3_KEYS:
        problem = _value_problem(key, row[key]) if key in row else None
        if problem:
            problems.append(problem)
    return problems


def _weighted_mean(total: float, weight: float) -> float | None:
    return total / weight if weight > 0 else None


_F = TypeVar("_F", bound=Callable[..., Any])


def _locked(method: _F) -> _F:
    """Runs the method under the instance's lock: the learner thread feeds while the loop reads."""

    @functools.wraps(method)
    def wrapper(self: IntervalAccumulator, *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            return method(self, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


class IntervalAccumulator:
    """Collects one interval's learner statistics, frames and episodes; `row()` closes it.

    Counters that live for the whole run (frame, episodes) are kept here so that `fps` and the
    totals can never disagree; pass their values at resume time to the constructor.  What the
    accumulator cannot see (ε, LR, replay size, counters of the learner, DQN windows, evaluation)
    is passed to `row()`.  Thread-safe: every method holds the instance's lock.

    Feed only learner steps that were applied: a step skipped because the loss or the gradients
    were not finite belongs in the `nonfinite_steps` counter, not here.
    """

    def __init__(self, t: float = 0.0, frame: int = 0, episodes: int = 0) -> None:
        self.frame = int(frame)
        self.episodes = int(episodes)
        self._t_start = float(t)
        self._lock = threading.Lock()
        self._clear()

    def _clear(self) -> None:
        self._frames = 0
        self._returns_sum = 0.0
        self._returns_count = 0
        self._steps = 0
        self._loss_sum = self._grad_sum = self._clip_delta_sum = 0.0
        self._grad_max, self._q_min, self._q_max = -math.inf, math.inf, -math.inf
        self._clipped = 0
        self._q_sum = 0.0
        self._samples = 0
        self._agree_hits = self._agree_count = 0
        self._imitation_sum, self._imitation_count = 0.0, 0
        self._greedy: list[int] = []

    # ----------------------------------------------------------------------------------- feeding

    @_locked
    def add_frames(self, frames: int) -> None:
        """Emulator frames just stepped, all envs together (ALE: agent steps × frame skip)."""
        if frames < 0:
            raise ValueError(f"frames must be 0 or more, got {frames}")
        self._frames += int(frames)
        self.frame += int(frames)

    @_locked
    def add_episode(self, episode_return: float) -> None:
        """An episode finished (its full, unclipped return); counts towards `return_mean`."""
        self.episodes += 1
        self._returns_sum += float(episode_return)
        self._returns_count += 1

    @_locked
    def add_learner_step(
        self,
        *,
        loss: float,
        grad_norm: float,
        clip_delta: float,
        clipped: bool,
        q_min: float,
        q_max: float,
        q_mean: float,
        batch_size: int,
        agreement_hits: int = 0,
        agreement_count: int = 0,
        greedy_counts: Sequence[int] | None = None,
        imitation: tuple[float, int] | None = None,
    ) -> None:
        """One applied optimiser step.

        Args:
            loss: mean TD loss of the step's batch.
            grad_norm: total L2 gradient norm before clipping.
            clip_delta: post-clip norm / pre-clip norm (1.0 = not clipped).
            clipped: whether clipping changed the gradient.
            q_min, q_max, q_mean: over all actions of the batch's states (online network).
            batch_size: states in the batch; weights q_mean and counts samples consumed.
            agreement_hits, agreement_count: batch states with an expert label whose argmax Q
                equals / may be compared to the expert's action (with imitation.by_class: is
                of the expert's class of actions).
            greedy_counts: histogram of the batch's argmax-Q actions, indexed by action.
            imitation: (sum of the large-margin loss J_E, labelled states summed over) when
                the imitation term was on in this step, else None.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be 1 or more, got {batch_size}")
        if not 0 <= agreement_hits <= agreement_count:
            raise ValueError(f"need 0 <= agreement_hits ({agreement_hits}) <= "
                             f"agreement_count ({agreement_count})")  # fmt: skip
        self._steps += 1
        self._loss_sum += float(loss)
        self._grad_sum += float(grad_norm)
        self._grad_max = max(self._grad_max, float(grad_norm))
        self._clip_delta_sum += float(clip_delta)
        self._clipped += bool(clipped)
        self._q_min, self._q_max = min(self._q_min, float(q_min)), max(self._q_max, float(q_max))
        self._q_sum += float(q_mean) * batch_size
        self._samples += int(batch_size)
        self._agree_hits += int(agreement_hits)
        self._agree_count += int(agreement_count)
        if greedy_counts is not None:
            self._add_greedy(greedy_counts)
        if imitation is not None:
            self._imitation_sum += float(imitation[0])
            self._imitation_count += int(imitation[1])

    def _add_greedy(self, counts: Sequence[int]) -> None:
        if len(counts) > len(self._greedy):
            self._greedy.extend([0] * (len(counts) - len(self._greedy)))
        for action, count in enumerate(counts):
            self._greedy[action] += int(count)

    # ----------------------------------------------------------------------------------- closing

    def _greedy_top(self) -> tuple[int | None, float | None]:
        """The most frequent greedy action (lowest index on ties) and its share, or nulls."""
        total = sum(self._greedy)
        if total == 0:
            return None, None
        top = max(range(len(self._greedy)), key=lambda a: (self._greedy[a], -a))
        return top, self._greedy[top] / total

    def _learner_part(self) -> dict[str, Any]:
        steps = self._steps
        top_action, top_share = self._greedy_top()
        return {
            "loss": _weighted_mean(self._loss_sum, steps),
            "grad_norm": _weighted_mean(self._grad_sum, steps),
            "grad_norm_max": self._grad_max if steps else None,
            "clip_delta": _weighted_mean(self._clip_delta_sum, steps),
            "clip_frac": _weighted_mean(self._clipped, steps),
            "q_min": self._q_min if steps else None,
            "q_max": self._q_max if steps else None,
            "q_mean": _weighted_mean(self._q_sum, self._samples),
            "agreement": _weighted_mean(self._agree_hits, self._agree_count),
            "greedy_top_action": top_action,
            "greedy_top_share": top_share,
        }

    @_locked
    def row(
        self,
        t: float,
        *,
        epsilon: float | None,
        expert_ratio: float | None,
        lr: float | None,
        learner_steps: int,
        target_age: int | None,
        replay_size: int,
        nonfinite_steps: int,
        dqn: Mapping[str, float | None] | None = None,
        eval_return: float | None = None,
        eval_score: float | None = None,
        imitation_weight: float = 0.0,
        expert_eval_score: float | None = None,
        curriculum_frontier: int | None = None,
        curriculum_clear_rate: float | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Closes the interval that ends at run time `t` and returns its complete §5 row.

        `dqn` is `DqnWindows.summary(frame)` (null values when omitted); `learner_steps` and
        `nonfinite_steps` are run totals; `imitation_weight` (lambda in force) and
        `expert_eval_score` are the trainer's (VERSION_2_KEYS), the curriculum's keys too
        (VERSION_3_KEYS); `extra` keys are added but may not override those or the §5 keys.
        `fps` and `samples_per_frame` are over this interval; `fps` is null only when no time
        passed, `samples_per_frame` is null when no frame was stepped.
        """
        elapsed = float(t) - self._t_start
        dqn = dqn or {}
        row: dict[str, Any] = {
            "t": float(t),
            "frame": self.frame,
            "fps": self._frames / elapsed if elapsed > 0 else None,
            "episodes": self.episodes,
            "epsilon": epsilon,
            "expert_ratio": expert_ratio,
            "return_mean": _weighted_mean(self._returns_sum, self._returns_count),
            "dqn_return_1m": dqn.get("dqn_return_1m"),
            "dqn_return_5m": dqn.get("dqn_return_5m"),
            "dqn5m_slope": dqn.get("dqn5m_slope"),
            **self._learner_part(),
            "lr": lr,
            "learner_steps": int(learner_steps),
            "target_age": target_age,
            "replay_size": int(replay_size),
            "samples_per_frame": _weighted_mean(self._samples, self._frames),
            "nonfinite_steps": int(nonfinite_steps),
            "eval_return": eval_return,
            "eval_score": eval_score,
            "imitation_weight": float(imitation_weight),
            "imitation_loss": _weighted_mean(self._imitation_sum, self._imitation_count),
            "expert_eval_score": expert_eval_score,
            "curriculum_frontier": curriculum_frontier,
            "curriculum_clear_rate": curriculum_clear_rate,
        }
        clash = set(extra or {}) & set(REQUIRED_KEYS + VERSION_2_KEYS + VERSION_3_KEYS)
        if clash:
            raise ValueError(f"extra keys may not replace §5 keys: {sorted(clash)}")
        row.update(extra or {})
        self._t_start = float(t)
        self._clear()
        return row
