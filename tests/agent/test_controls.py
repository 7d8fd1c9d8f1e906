"""`agent.controls.Overrides`: what commands change, and who the dashboard says drives."""

from __future__ import annotations

from agent.controls import Overrides
from expert import MixerOverride


def test_driver_names_whoever_chooses_the_actions() -> None:
    assert Overrides().driver() == "schedule"
    assert Overrides(greedy=True, expert=MixerOverride("on")).driver() == "greedy"
    assert Overrides(expert=MixerOverride("on")).driver() == "expert only"
    assert Overrides(expert=MixerOverride("off")).driver() == "expert off"
    assert Overrides(expert=MixerOverride("auto", 0.3)).driver() == "manual"


def test_epsilon_in_force_follows_greedy_and_the_scale() -> None:
    assert Overrides(greedy=True).epsilon(0.5) == 0.0
    assert Overrides().epsilon(0.5) == 0.5
    assert Overrides(epsilon_scale=4.0).epsilon(0.5) == 1.0
