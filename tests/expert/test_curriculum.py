"""The expert schedule by hand, the mixer's frequencies and sources, and the overrides."""

from __future__ import annotations

import numpy as np
import pytest

import config
from expert import DQN, EXPERT, NO_ACTION, RANDOM, MixerOverride, expert_ratio_at, mix
from replay import Source


def _cfg(**changes) -> config.ExpertConfig:
    return config.ExpertConfig(**{"ratio_start": 0.5, "ratio_floor": 0.1,
                                  "anneal_frames": 1000, **changes})


def test_linear_schedule_by_hand_with_the_floor():
    cfg = _cfg(anneal="linear")
    assert expert_ratio_at(0, cfg) == 0.5
    assert expert_ratio_at(250, cfg) == pytest.approx(0.4)
    assert expert_ratio_at(1000, cfg) == 0.1 and expert_ratio_at(10**9, cfg) == 0.1


def test_multiplicative_schedule_by_hand_with_the_floor():
    cfg = _cfg(anneal="multiplicative", decay_per_interval=0.5, interval_frames=100)
    assert expert_ratio_at(99, cfg) == 0.5
    assert expert_ratio_at(100, cfg) == 0.25 and expert_ratio_at(250, cfg) == 0.125
    assert expert_ratio_at(300, cfg) == 0.1  # 0.0625 is below the floor


def test_a_disabled_expert_never_acts():
    assert expert_ratio_at(0, _cfg(enabled=False)) == 0.0


def test_source_codes_agree_with_the_replay():
    assert (DQN, RANDOM, EXPERT) == (Source.DQN, Source.RANDOM, Source.EXPERT)


def test_mix_frequencies_and_sources():
    rng = np.random.default_rng(0)
    size = 100_000
    network, expert = np.full(size, 3), np.full(size, 1)
    expert[: size // 10] = NO_ACTION  # the expert has no opinion on 10% of the envs
    actions, source = mix(network, expert, epsilon=0.2, ratio=0.5, num_actions=4, rng=rng)
    assert (source[: size // 10] != EXPERT).all()
    share = (source[size // 10:] == EXPERT).mean()
    assert share == pytest.approx(0.5, abs=0.01)
    assert (actions[source == EXPERT] == 1).all() and (actions[source == DQN] == 3).all()
    network_share = source[size // 10:] != EXPERT
    assert (source[size // 10:][network_share] == RANDOM).mean() == pytest.approx(0.2, abs=0.01)


def test_overrides_sit_on_top_of_the_schedule():
    override = MixerOverride()
    assert override.ratio(0.3) == 0.3
    override.mode = "on"
    assert override.ratio(0.3) == 1.0
    override.mode = "off"
    assert override.ratio(0.3) == 0.0
    assert override.nudge("up", 0.3) == pytest.approx(0.05)  # from what was in force: 0
    assert override.ratio(0.9) == pytest.approx(0.05)  # manual now
    override.mode, override.manual = "auto", None
    assert override.ratio(0.9) == 0.9
