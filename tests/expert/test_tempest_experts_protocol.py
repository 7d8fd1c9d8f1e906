"""The Tempest experts as `Expert`s: the scripted one's own randomness, and the protocol's
contract for both (they read the live state of as many games and never write it)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.tempest import state as S
from expert.protocol import NO_ACTION
from expert.tempest import AttractModeExpert, TempestExpert
from tests.expert.games import JOINT, game, random_games


def test_fire_rate_is_the_fire_probability():
    st = random_games(4000, seed=1)
    expert = TempestExpert(4000, JOINT, seed=5)
    fires = np.concatenate([expert.decide(st).fire.copy() for _ in range(5)])
    assert abs(fires.mean() - 0.95) < 0.01  # 20 000 draws: sd 0.0015
    assert TempestExpert(10, JOINT, fire_prob=0.3).fire_prob == 0.3
    with pytest.raises(ValueError, match="fire_prob"):
        TempestExpert(1, JOINT, fire_prob=1.5)


def test_same_seed_same_actions_other_seed_other_actions():
    st = random_games(300, seed=2)
    runs = [TempestExpert(300, JOINT, seed=s).act(None, {"state": st}) for s in (7, 7, 8)]
    assert np.array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])


def test_act_reads_the_state_and_never_writes_it():
    st = random_games(200, seed=4)
    before = S.copy(st)
    info = {"state": st}
    for expert in (TempestExpert(200, JOINT, seed=1), AttractModeExpert(200, JOINT)):
        for _ in range(3):
            actions = expert.act(np.zeros((200, 8), np.float32), info)
            assert actions.dtype == np.int64 and actions.shape == (200,)
            assert ((actions >= 0) & (actions < len(JOINT))).all()
            assert (actions != NO_ACTION).all()
    assert S.states_equal(st, before)  # state.rng included: the game's stream is untouched


def test_act_needs_the_live_state_of_as_many_games():
    expert = TempestExpert(2, JOINT)
    with pytest.raises(ValueError, match="info\\['state'\\]"):
        expert.act(None, {})
    with pytest.raises(ValueError, match="3 games"):
        expert.act(None, {"state": game(n=3)})
    assert (TempestExpert.name, AttractModeExpert.name) == ("tempest", "attract")
