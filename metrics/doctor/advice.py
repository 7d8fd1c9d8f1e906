"""The advice: the remedies the seeds found, in this run's own flags and numbers ("lower
--learner.lr from 0.003 to 0.001"), and generic words where a setting is unknown."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from config import DoctorConfig
from metrics.doctor.findings import GUARD_CODES
from metrics.doctor.values import finite, fmt, round_sig


@dataclass(frozen=True)
class Remedy:
    """One remedy: the words, and the dotted overrides that apply it where it is a plain
    configuration change (guard mode applies the first of those)."""

    text: str
    overrides: dict[str, Any] = field(default_factory=dict)


class Advisor:
    """Turns the seeds' remedies into this run's flags and numbers (generic words when unknown)."""

    def __init__(self, settings: Mapping[str, Any], cfg: DoctorConfig) -> None:
        self.settings = dict(settings)
        self.cfg = cfg

    def number(self, key: str) -> float | None:
        return finite(self.settings.get(key))

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

    def lower_lr(self, lr_now: float | None) -> Remedy:
        # the larger of the configured lr and the row's: the row's is lower during warm-up and
        # decay, higher after a live raise (the dashboard's L)
        lr = max((v for v in (self.number("learner.lr"), lr_now) if v), default=None)
        if not lr:
            return Remedy("lower the learning rate, --learner.lr (seed 003: 0.003 → 0.001)")
        new = self.cfg.lr_high if lr > self.cfg.lr_high else round_sig(lr / 2)
        return Remedy(
            f"lower --learner.lr from {fmt(lr)} to {fmt(new)} (seed 003 went 0.003 → 0.001, "
            "and 0.0005 if Q still explodes)",
            {"learner.lr": new},
        )

    def revert_lr(self, before: float, after: float, frame: int) -> Remedy:
        return Remedy(
            f"undo the raise: --learner.lr {fmt(before)} (it went {fmt(before)} → {fmt(after)} "
            f"at frame {frame:,}; the dashboard's lr 'half' does it live)",
            {"learner.lr": before},
        )

    def lower_tau(self) -> Remedy | None:
        tau, every = self.number("learner.tau"), self.number("learner.hard_update_every")
        if tau is None:
            return Remedy(
                "steady the target network: --learner.tau 0.005 or less (seed 003: 0.012 → 0.005)"
            )
        if 0.005 < tau < 1:
            return Remedy(
                f"--learner.tau {fmt(tau)} → 0.005 for steadier bootstrap targets "
                "(seed 003: 0.012 → 0.005)",
                {"learner.tau": 0.005},
            )
        if tau >= 1 and every:
            slower = int(2 * every)
            return Remedy(
                "copy the target half as often: "
                f"--learner.hard-update-every {int(every)} → {slower}",
                {"learner.hard_update_every": slower},
            )
        return None

    def shorter_n_step(self) -> Remedy | None:
        n = self.number("replay.n_step")
        if n is None:
            return Remedy("shorten the n-step returns, --replay.n-step (seed 003: 8 → 5)")
        if n > 5:
            return Remedy(
                f"--replay.n-step {int(n)} → 5: fewer diverging bootstrap steps per "
                "target (seed 003: 8 → 5)",
                {"replay.n_step": 5},
            )
        return None

    def smoother_gradients(self) -> Remedy:
        batch, micro = self.number("learner.batch_size"), self.number("learner.micro_batches")
        if batch is None or micro is None:
            return Remedy(
                "average 4x the samples per optimiser step (seed 003: gradient "
                "accumulation 1 → 4): --learner.batch-size and --learner.micro-batches "
                "both 4x"
            )
        batch, micro = int(batch), int(micro)
        return Remedy(
            f"average 4x the samples per step, as seed 003's accumulation 1 → 4 did: "
            f"--learner.batch-size {batch} → {4 * batch} with --learner.micro-batches {micro} → "
            f"{4 * micro} (same memory per pass)",
            {"learner.batch_size": 4 * batch, "learner.micro_batches": 4 * micro},
        )

    def enable_clipping(self) -> Remedy | None:
        clip = self.number("learner.max_grad_norm")
        if clip is None:
            return Remedy(
                "make sure gradient clipping is on: --learner.max-grad-norm 10 (seed 004)"
            )
        if clip == 0:
            return Remedy(
                "enable --learner.max-grad-norm 10 (seed 004: with clipping off, one "
                "bad batch exploded the loss 42,000x)",
                {"learner.max_grad_norm": 10.0},
            )
        return None

    def tighten_clipping(self, typical: float | None) -> Remedy | None:
        clip = self.number("learner.max_grad_norm")
        if not clip or not typical:
            return None
        new = round_sig(3 * typical, 2)
        return Remedy(
            f"clipping at --learner.max-grad-norm {fmt(clip)} never engages (typical norm "
            f"{fmt(typical)}): lower it to {fmt(new)} so spikes are cut",
            {"learner.max_grad_norm": new},
        )

    def raise_clipping(self) -> Remedy:
        clip = self.number("learner.max_grad_norm")
        if not clip:
            return Remedy(
                "once the loss is steady, a larger --learner.max-grad-norm lets "
                "steps be as large as the learning rate intends (seed 000)"
            )
        return Remedy(
            f"only once the loss is steady: --learner.max-grad-norm {fmt(clip)} → "
            f"{fmt(2 * clip)} (seed 000: 0.5 → 1.0)",
            {"learner.max_grad_norm": 2 * clip},
        )

    def clamp_targets(self, q_level: float | None) -> Remedy | None:
        clamp = self.number("learner.td_target_clamp")
        if clamp:
            return None
        value = 50.0
        if q_level and 2 * q_level > value:  # twice the healthy |Q|, rounded up to 2 digits
            step = 10 ** (math.floor(math.log10(2 * q_level)) - 1)
            value = float(math.ceil(2 * q_level / step) * step)
        return Remedy(
            f"clamp TD targets: --learner.td-target-clamp {fmt(value)} (seed 003's emergency "
            "brake; seed 004 ran a TD clip of 50)",
            {"learner.td_target_clamp": value},
        )

    def normalize_rewards(self) -> Remedy | None:
        if self.settings.get("learner.normalize_rewards") is True:
            return None
        return Remedy(
            "scale rewards by a running estimate: --learner.normalize-rewards true (seeds 000 and "
            "002: raw returns of 1000+ blew the value loss up; per-batch normalisation left it "
            "stuck at 1.0)",
            {"learner.normalize_rewards": True},
        )

    def huber(self) -> Remedy | None:
        if self.settings.get("learner.loss") != "mse":
            return None
        return Remedy(
            "--learner.loss huber, robust to outlier targets (seeds 001, 004)",
            {"learner.loss": "huber"},
        )

    def raise_floor(self) -> Remedy | None:
        if self.settings.get("expert.enabled") is False:
            return None
        floor = self.number("expert.ratio_floor")
        if floor is None:
            return Remedy(
                "raise the expert floor while it recovers, --expert.ratio-floor "
                "(seed 003: 10% → 20%)"
            )
        new = max(2 * floor, 0.1)
        start = self.number("expert.ratio_start")
        new = round_sig(min(new, start if start is not None else 1.0))
        if new <= floor:
            return None
        return Remedy(
            f"raise --expert.ratio-floor {fmt(floor)} → {fmt(new)} while it recovers "
            "(seed 003: 10% → 20%)",
            {"expert.ratio_floor": new},
        )

    def fresh(self, why: str) -> Remedy:
        return Remedy(
            f"if it does not recover, restart from fresh weights with --fresh (the run "
            f"is archived, not deleted); {why}"
        )

    def guard_hint(self, code: str) -> Remedy | None:
        if code not in GUARD_CODES or self.cfg.guard:
            return None
        return Remedy(
            "--guard (--doctor.guard true) rolls back to the last checkpoint before the onset "
            "and applies the first remedy by itself"
        )


def advice_text(remedies: Sequence[Remedy]) -> str:
    """The advice line of a finding: its remedies numbered in order."""
    if not remedies:
        return "nothing to change"
    return "; ".join(f"{i}) {remedy.text}" for i, remedy in enumerate(remedies, start=1))
