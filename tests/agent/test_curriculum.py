"""The start-wave curriculum: its distribution, clear rate and frontier by hand-computed
numbers, and the frontier moving on a fake sequence of evaluations."""

from __future__ import annotations

import pytest

from agent.curriculum import (
    CurriculumControl,
    CurriculumState,
    RunCurriculum,
    clear_rate,
    next_frontier,
    start_distribution,
    step_frontier,
)
from agent.games import GameRecord
from config import CurriculumConfig

ON = CurriculumConfig(enabled=True)


def test_the_distribution_keeps_wave_1_and_the_frontier_and_spreads_the_rest_between() -> None:
    """Frontier 13 (defaults 0.25 / 0.5): wave 1 0.25, wave 13 0.5, and the remaining 0.25
    over the five skill-step waves between (3, 5, 7, 9, 11), 0.05 each."""
    waves, probs = start_distribution(13, ON)
    assert waves == [1, 3, 5, 7, 9, 11, 13]
    assert probs == pytest.approx([0.25, 0.05, 0.05, 0.05, 0.05, 0.05, 0.5])


def test_with_no_wave_between_the_rest_goes_to_the_frontier() -> None:
    assert start_distribution(3, ON) == ([1, 3], pytest.approx([0.25, 0.75]))
    assert start_distribution(1, ON) == ([1], [1.0])


def _episode(start: int, highest: int) -> GameRecord:
    return GameRecord(0.0, 10, 10, False, start, highest)


def test_the_clear_rate_counts_the_episodes_that_reached_the_next_wave() -> None:
    episodes = [_episode(5, 5), _episode(5, 6), _episode(5, 8), _episode(5, 5)]
    assert clear_rate(episodes) == 0.5


def test_the_frontier_moves_one_skill_step_and_stays_within_its_waves() -> None:
    assert next_frontier(9, 0.5, ON) == 11  # promote_clear_rate 0.5 reached
    assert next_frontier(9, 0.09, ON) == 7  # below demote_clear_rate 0.1
    assert next_frontier(9, 0.3, ON) == 9
    assert next_frontier(1, 0.0, ON) == 1 and next_frontier(81, 1.0, ON) == 81
    capped = CurriculumConfig(enabled=True, max_wave=14)
    assert next_frontier(13, 1.0, capped) == 13
    assert step_frontier(17, 3, ON) == 24 and step_frontier(17, -20, ON) == 1


class FakeRun:
    """What the curriculum talks to: the env's start waves, evaluations that return a clear
    rate from a list, and the events log."""

    def __init__(self, rates: list[float]):
        self.rates, self.starts, self.events, self.asked = list(rates), [], [], []

    def set_start_waves(self, waves, probs) -> None:
        self.starts.append((waves, probs))

    def evaluate_at(self, greedy, wave, episodes, frame) -> list[GameRecord]:
        self.asked.append(wave)
        cleared = round(self.rates.pop(0) * episodes)
        return [_episode(wave, wave + (k < cleared)) for k in range(episodes)]

    def log(self, kind, message, **fields) -> None:
        self.events.append(message)


def _curriculum(rates: list[float], cfg: CurriculumConfig = ON) -> tuple[RunCurriculum, FakeRun]:
    fake = FakeRun(rates)
    return RunCurriculum(cfg, fake.set_start_waves, fake.evaluate_at, fake.log), fake


def test_the_frontier_climbs_on_good_evaluations_and_falls_when_the_clear_rate_falls() -> None:
    run, fake = _curriculum([0.8, 0.6, 0.3, 0.0, 0.5])
    for frame in range(5):
        run.evaluate(None, frame)
    assert fake.asked == [1, 3, 5, 5, 3]  # up, up, stay, down, up
    assert run.state.frontier == 5 and run.state.clear_rate == 0.5
    assert [waves[-1] for waves, _ in fake.starts] == [3, 5, 3, 5]  # one push per move
    assert "curriculum: frontier wave 5 -> 3 (clear rate 0.00)" in fake.events


def test_pinned_it_measures_but_does_not_move_and_by_hand_it_moves_and_pins() -> None:
    run, fake = _curriculum([1.0, 1.0, 1.0])
    run.follow_control(CurriculumControl(pin=True), 0)
    run.evaluate(None, 1)
    assert run.state.frontier == 1 and run.state.clear_rate == 1.0
    run.follow_control(CurriculumControl(pin=False, steps=2), 2)
    assert run.state.frontier == 5 and run.state.pinned  # moving by hand pins it
    run.follow_control(CurriculumControl(pin=False), 3)
    run.evaluate(None, 4)
    assert run.state.frontier == 7


def test_it_resumes_exactly_and_hands_the_env_its_start_waves_again() -> None:
    run, _ = _curriculum([0.7, 0.7])
    run.evaluate(None, 0)
    run.follow_control(CurriculumControl(pin=True), 1)
    saved = run.state.state()
    again, fake = _curriculum([])
    again.restore(saved)
    assert again.state == CurriculumState(3, 0.7, True)
    assert fake.starts == [start_distribution(3, ON)]
    assert CurriculumState.from_state(None) == CurriculumState()  # an older checkpoint


def test_off_it_does_nothing_and_its_row_keys_are_null() -> None:
    run, fake = _curriculum([1.0], CurriculumConfig(enabled=False))
    run.evaluate(None, 0)
    run.follow_control(CurriculumControl(steps=1), 1)
    assert fake.asked == [] and fake.starts == [] and run.state.frontier == 1
    assert run.row_fields() == {"curriculum_frontier": None, "curriculum_clear_rate": None}
    assert run.pinned_shown is None
