"""Metrics traces for the doctor's tests: one trace per seed post-mortem, the seed's reported
numbers spliced into the healthy baseline (`healthy_trace`) at a known onset row.

Every row is a complete DESIGN.md §5 row (`metrics.schema.validate_row` accepts it).  The numbers
of seeds/ are transcribed here, each next to the file it comes from; the tests never read seeds/.

How the seeds map onto our rows.  The post-mortems report snapshots (a few values at a few frames
or batches), not one value every 2 s.  A trace keeps each reported snapshot as one row, in order,
at the seed's frame where it gives one: the time between two snapshots is compressed to one row.
That is the strictest honest reading for "detected within 3 rows", since a slower climb would only
give the doctor more rows.  Values the seed does not report come from the healthy baseline.
"""

from __future__ import annotations

import numpy as np

from tests.metrics.healthy_trace import (
    Levels,
    Trace,
    before_learning,
    gradients,
    healthy_rows,
    splice,
)

__all__ = ["SEED_TRACES", "Levels", "Trace", "before_learning", "clip_saturation",
           "healthy_rows", "lr_raise_then_divergence", "splice"]
"""What the doctor's tests use: the healthy baseline's builders (from healthy_trace) and the
traces built here."""


# ------------------------------------------------------------------------------------ the seeds


def seed_000_loss_explosion() -> Trace:
    """seeds/000_6a6f3d39efd520b8.txt: PPO, loss_metrics.json of run0018: "Batch 0: Loss = 36,082 |
    Reward = +1,926; Batch 2: 159,015 | +986; Batch 7: 212,075 | +40; Batch 9: 199,489 | +63"
    ("loss explosion: 36k -> 200k (5.5x)").  The total loss is our `loss`, the batch reward our
    `return_mean`; one row per reported batch, the baseline at batch 0's level.  Its config had
    max_grad_norm 0.5 and learning_rate 1e-4 ("Increase gradient clipping: max_grad_norm: 1.0
    (from 0.5)"; "Lower learning rate: 5e-5 (from 1e-4)")."""
    baseline = 30
    rows = healthy_rows(rows=baseline + 3, loss=36_082.0, loss_end=36_082.0, lr=1e-4, seed=0)
    splice(
        rows,
        baseline - 1,
        loss=[36_082.0, 159_015.0, 212_075.0, 199_489.0],
        return_mean=[1_926.0, 986.0, 40.0, 63.0],
    )
    settings = {"learner.lr": 1e-4, "learner.max_grad_norm": 0.5}
    return Trace("seed 000", rows, {"loss_explosion": baseline}, settings)


def seed_001_q_collapse() -> Trace:
    """seeds/001_9d30ee638a790ad6.txt: PPO "Value Network Collapse": policy_loss -7.4e-07,
    approx_kl 2.0e-07 ("policy barely changing"), explained_variance -143.7 ("value network worse
    than predicting the mean"), adv_std 1 ("advantages normalized to pure noise"), "Average return
    decreasing linearly".  None of those quantities is a column of ours.  What our rows can show
    of a value function that predicts one number for everything is its Q spread collapsing and the
    greedy policy freezing on one action; so this trace collapses the Q range of the baseline
    (~[-11, 12], the builder's scale, not the seed's) to about 1/6 and then to ~1/100, sets
    greedy_top_share to 1.0 and lets DQN5M fall linearly (-2%/M) throughout, as the seed's return
    did.  Expected: q_collapse from the first collapsed row (1/6 of the baseline range, past
    1/sqrt(10)), confirmed at 1/100 one row later."""
    baseline = 40
    rows = healthy_rows(rows=baseline + 4, dqn_slope_pct=-2.0, seed=1)
    splice(
        rows,
        baseline,
        q_min=[0.5, 0.95, 0.97, 0.96],
        q_max=[4.2, 1.15, 1.12, 1.14],
        q_mean=[1.6, 1.05, 1.04, 1.05],
        greedy_top_share=[0.8, 1.0, 1.0, 1.0],
    )
    return Trace("seed 001", rows, {"q_collapse": baseline})


def seed_002_loss_explosion() -> Trace:
    """seeds/002_02a0d6c3720130ad.txt: value loss "1.0 -> 999k" after the normalisation was
    removed: iteration 10: 998,829.64; 50: 224,572.52; 100: 88,553.18; 150: 84,433.75; 200:
    87,145.06.  The baseline sits at 1.0 (the loss "stuck at 1.0" of the attempt before, which our
    rows cannot tell from a healthy flat loss, so it is not a finding); one row per reported
    iteration.  Only the loss is reported, so only the loss is spliced."""
    baseline = 30
    rows = healthy_rows(rows=baseline + 5, loss=1.0, loss_end=1.0, seed=2)
    splice(rows, baseline, loss=[998_829.64, 224_572.52, 88_553.18, 84_433.75, 87_145.06])
    return Trace("seed 002", rows, {"loss_explosion": baseline})


SEED_003_Q_RANGES = [
    (19_400_000, -12.91, 1_024.10),
    (19_600_000, -6.48, 1_308.56),
    (19_900_000, -12.89, 1_779.30),
    (20_400_000, -1.55, 1_999.62),
    (20_600_000, -3.37, 15.95),
]
"""seeds/003_1032e24471852138.txt, "Q-Value Divergence": frame, Q min, Q max."""


def _integrate(
    level: float, frame: int, slope: float, frames: list[int], slopes: list[float]
) -> list[float]:
    """DQN5M levels at `frames` that follow `slopes` (per million frames), trapezoid rule."""
    levels = []
    for f, s in zip(frames, slopes, strict=True):
        level += (slope + s) / 2 * (f - frame) / 1e6
        levels.append(level)
        frame, slope = f, s
    return levels


def seed_003_divergence() -> Trace:
    """seeds/003_1032e24471852138.txt, a DQN on Tempest at lr 0.003, tau 0.012, n_step 8, gamma
    0.995, batch 16,384 without accumulation, expert at its 5% floor:
    - Q range [0.15, 324.56] at 17.7M, then the five snapshots of SEED_003_Q_RANGES (one row each,
      at the seed's frames): divergence from 19.4M, collapse to [-3.37, 15.95] at 20.6M;
    - DQN5M slope +1.131/M at 17.7M and -0.190/M at 20.0M (linear in frames between, held after);
      loss 0.465 -> 0.367 over the same span;
    - GradNorm 4.764 to 8.787 and ClipΔ 0.569 to 1.000 ("sometimes clipping 43%, sometimes not at
      all"): alternating from the divergence's onset; clipping at 5.0, the clip_grad_norm_(5.0)
      of that era (reference/tempest-ai-training-system.md §2.3; 8.787 x 0.569 = 5.0).
    The DQN5M level is not in the seed: 7.44, what the same generation's TrainingLog.txt shows
    (reference/tempest-ai-training-system.md §5: "DQN5M 7.0→7.44 at a slope of 0.06–0.22 per M",
    lr 0.0025)."""
    baseline = 30
    rows = healthy_rows(
        rows=baseline + len(SEED_003_Q_RANGES),
        start_frame=17_700_000 - (baseline - 1) * 25_000,
        frames_per_row=25_000,
        q_min=0.15,
        q_max=324.56,
        q_growth=0.0,
        loss=0.465,
        loss_end=0.465,
        grad=3.0,
        max_grad_norm=5.0,
        dqn=6.62,
        dqn_slope_pct=100 * 1.131 / 6.62,
        lr=0.003,
        seed=3,
    )
    frames = [frame for frame, _, _ in SEED_003_Q_RANGES]
    slopes = [1.131 + (-0.190 - 1.131) * min(1.0, (f - 17.7e6) / 2.3e6) for f in frames]
    losses = [0.465 + (0.367 - 0.465) * min(1.0, (f - 17.7e6) / 2.3e6) for f in frames]
    splice(
        rows,
        baseline,
        frame=frames,
        q_min=[q for _, q, _ in SEED_003_Q_RANGES],
        q_max=[q for _, _, q in SEED_003_Q_RANGES],
        q_mean=[0.5 * q for _, _, q in SEED_003_Q_RANGES],
        dqn5m_slope=slopes,
        dqn_return_5m=_integrate(7.44, 17_700_000, 1.131, frames, slopes),
        loss=losses,
        grad_norm=[8.787, 4.764, 8.787, 4.764, 8.787],
        grad_norm_max=[9.5, 5.0, 9.5, 5.0, 9.5],
        clip_delta=[0.569, 1.0, 0.569, 1.0, 0.569],
        clip_frac=[1.0, 0.0, 1.0, 0.0, 1.0],
    )
    settings = {
        "learner.lr": 0.003,
        "learner.tau": 0.012,
        "replay.n_step": 8,
        "learner.gamma": 0.995,
        "learner.batch_size": 16_384,
        "learner.micro_batches": 1,
        "learner.max_grad_norm": 5.0,
        "learner.td_target_clamp": 0.0,
        "expert.ratio_floor": 0.05,
        "expert.ratio_start": 0.95,
        "learner.hard_update_every": 0,
    }
    expected = {
        "q_divergence": baseline,
        "grad_instability": baseline,
        "lr_too_high": baseline,
        "performance_reversal": baseline + 2,
        "q_collapse": baseline + 4,
    }
    return Trace("seed 003", rows, expected, settings)


def seed_004_agreement_and_loss() -> Trace:
    """seeds/004_fc38816f6ef516ea.txt, gradient clipping commented out (max_norm 10 disabled), TD
    clip 50, Huber, hard target copy every 200 steps; by learner step (one row per 100 steps):
    - steps 1700-2800: agreement 84-90%, greedy 94% action 2, loss ~0.10;
    - 2900-3300: agreement 79% -> 76%, loss 0.10-0.12;
    - 3400-4500: agreement 50% -> 31% -> 10%, greedy switches to action 3, loss ~0.12;
    - ~5100: loss 0.126 -> 5193.607 ("42,000x"), agreement 42% ("wild oscillation 42-78%"),
      "gradients can be 100x+ normal" (the gradient columns get 100x at that row).
    Q stays in the seed's stable band "[1-5, 10-30]".  Expected: agreement_collapse at step 3400,
    loss_explosion and clip_inactive at step 5100."""
    steps = list(range(1_700, 5_200, 100))
    rows = healthy_rows(
        rows=len(steps),
        q_min=3.0,
        q_max=20.0,
        q_growth=0.0,
        loss=0.10,
        loss_end=0.12,
        loss_jitter=0.1,
        grad=1.0,
        max_grad_norm=0.0,
        seed=4,
    )
    rng = np.random.default_rng(40)
    agreement = {s: float(rng.uniform(0.84, 0.90)) for s in range(1_700, 2_900, 100)}
    agreement.update({2_900: 0.79, 3_000: 0.785, 3_100: 0.775, 3_200: 0.77, 3_300: 0.76})
    phase3 = np.interp(range(3_400, 4_600, 100), [3_400, 3_950, 4_500], [0.50, 0.31, 0.10])
    agreement.update(zip(range(3_400, 4_600, 100), map(float, phase3), strict=True))
    agreement.update({4_600: 0.11, 4_700: 0.10, 4_800: 0.12, 4_900: 0.10, 5_000: 0.11})
    agreement[5_100] = 0.42
    for row, step in zip(rows, steps, strict=True):
        row.update(
            learner_steps=step,
            target_age=step % 200,
            agreement=agreement[step],
            greedy_top_action=2 if step < 3_400 else 3,
            greedy_top_share=0.94 if step < 2_900 else 0.6,
        )
    explosion = steps.index(5_100)
    rows[explosion - 1]["loss"] = 0.126
    splice(rows, explosion, loss=[5_193.607], grad_norm=[60.0], grad_norm_max=[150.0])
    settings = {
        "learner.max_grad_norm": 0.0,
        "learner.td_target_clamp": 50.0,
        "learner.hard_update_every": 200,
        "learner.tau": 1.0,
        "learner.loss": "huber",
    }
    expected = {
        "agreement_collapse": steps.index(3_400),
        "loss_explosion": explosion,
        "clip_inactive": explosion,
    }
    return Trace("seed 004", rows, expected, settings)


SEED_TRACES = (
    seed_000_loss_explosion,
    seed_001_q_collapse,
    seed_002_loss_explosion,
    seed_003_divergence,
    seed_004_agreement_and_loss,
)


# ---------------------------------------------------------------------- rules no seed pins alone


def lr_raise_then_divergence() -> Trace:
    """The dashboard's "lr x2" pressed at a flat 3e-4, Q diverging 20 rows later (3.2x, 5x, 7x of
    its level): lr_too_high from the raise, q_divergence from the first risen row."""
    rows = healthy_rows(rows=70, seed=5)
    raise_at, diverge_at = 40, 60
    for row in rows[raise_at:]:
        row["lr"] = 6e-4
    splice(rows, diverge_at, q_max=[35.0, 55.0, 80.0])
    expected = {"lr_too_high": raise_at, "q_divergence": diverge_at}
    return Trace("lr raise", rows, expected, late={"lr_too_high": diverge_at + 3})


def clip_saturation(loss_rises: bool = False) -> Trace:
    """Clipping at 1.0 with gradients near it, then gradients climbing to ~3x the clip (never a
    10x spike) so every step is clipped; optionally the loss rising 2.5x meanwhile (lr_too_high)."""
    base = 40
    rows = healthy_rows(rows=base + 8, grad=0.5, grad_drift=1.0, max_grad_norm=1.0, seed=6)
    rng = np.random.default_rng(60)
    for i, row in enumerate(rows[base:]):
        row.update(gradients(rng, 3.0, 0.2, 1.0))
        if loss_rises:
            row["loss"] = rows[base - 1]["loss"] * (1 + 0.25 * (i + 1))
    expected = {"clip_saturated": base}
    if loss_rises:
        expected["lr_too_high"] = base
    # clip_saturated_rows (5) rows make saturation; the loss doubles from its onset one row later
    late = {"clip_saturated": base + 4, "lr_too_high": base + 5}
    return Trace("clip saturation", rows, expected, {"learner.max_grad_norm": 1.0}, late)
