"""The pending queue and NYMCHA's type choice in the rules core (reference §1.6)."""

from __future__ import annotations

import numpy as np
import pytest

from envs.tempest import core
from envs.tempest.core_spawn import SCRATCH_SIZE, choose_type
from envs.tempest.skill import CARGO_FUSEBALLS, SKILL
from envs.tempest.state import (
    ALIVE,
    FLIPPER,
    FUSEBALL,
    NO_ENEMY,
    PULSAR,
    SPIKER,
    TANKER,
    allocate,
)
from tests.envs.tempest.test_core import quiet_game, step


def spawned_types(wave: int, seed: int = 2024, count: int = 12) -> tuple[list[int], list[int]]:
    """The first `count` enemies that come out of the queue (type, tanker cargo), firing and
    turning slowly, lives resolved at once.  A queue entry is a newly filled slot near the far
    end (>= 0xE8 after its first move) in a frame where `pending` dropped; frames where a tanker
    vanished or was shot (even one that entered and was hit in the same frame) are skipped, so
    split children are never counted."""
    s = allocate(1)
    core.seed_games(s, np.array([seed]))
    core.new_games(s, np.ones(1, bool), wave)
    types: list[int] = []
    cargos: list[int] = []
    for _ in range(6000):
        pending, wave_now, tankers_shot = s.pending[0], s.wave[0], s.kills[0, TANKER]
        step(s, fire=1, spin=3)
        entered = pending - s.pending[0] if s.wave[0] == wave_now else 0
        tanker_gone = s.kills[0, TANKER] != tankers_shot or any(s.en_prev_type[0, e] == TANKER
                          and (s.en_type[0, e] != TANKER or s.en_y[0, e] > s.en_prev_y[0, e])
                          for e in range(7))
        new = [e for e in range(6, -1, -1) if s.en_prev_type[0, e] == NO_ENEMY
               and s.en_type[0, e] != NO_ENEMY and s.en_y[0, e] >= 0xE800]
        if entered and not tanker_gone:
            for e in new[:entered]:
                types.append(int(s.en_type[0, e]))
                cargos.append(int(s.en_cargo[0, e]))
        if s.death_cause[0] != ALIVE:
            core.finish_life(s, np.ones(1, bool))
        if len(types) >= count:
            return types[:count], cargos[:count]
    raise AssertionError("not enough spawns")


F, P, T, S, U = FLIPPER, PULSAR, TANKER, SPIKER, FUSEBALL
PINNED = {  # seed 2024; a regression pin, read with the NYMCHA steps in the comments
    1: [F] * 12,  # the only open type
    5: [S, S, T, S, S, S, T, S, S, T, S, T],  # minimums first (spikers 2, tanker 1), then step 4
    17: [T, P, P, P, P, P, P, P, T, P, P, P],  # tanker min first (higher type index), pulsars
    33: [U, T, P, T, P, P, P, U, U, T, P, T],  # fuseball, tanker, pulsar minimums, then random
}


@pytest.mark.parametrize("wave", [1, 5, 17, 33])
def test_spawn_type_sequences_are_pinned(wave):
    types, _ = spawned_types(wave)
    assert types == PINNED[wave]
    for t in set(types):
        assert SKILL.type_max[wave, t] > 0


def test_rule_level_facts_of_the_sequences():
    assert set(spawned_types(1, count=20)[0]) == {FLIPPER}  # wave 1: flippers only
    assert FLIPPER not in spawned_types(5, count=20)[0]  # min flippers 0 from wave 5
    assert PULSAR in spawned_types(17, count=20)[0]  # pulsars from wave 17
    types, cargos = spawned_types(33, count=20)
    assert FUSEBALL in types and CARGO_FUSEBALLS in cargos  # WTACAR[2] = fuseballs on 33-40


def _choose(s, lane: int = 3) -> tuple[int, int]:
    return choose_type(s, core.RULES, 0, int(s.skill_wave[0]), lane,
                       np.zeros(SCRATCH_SIZE, np.int32))


def test_nymcha_spawns_a_missing_minimum_first():
    s = quiet_game(5)  # spiker min 2, tanker min 1: the highest type below its min goes first
    assert _choose(s)[0] == SPIKER


def test_nymcha_picks_tanker_over_spiker_by_the_lanes_spike():
    s = quiet_game(6)  # tanker max 2, spiker max 4
    for slot, etype in ((6, SPIKER), (5, SPIKER), (4, TANKER)):  # all minimums met
        s.en_type[0, slot] = etype
        s.en_y[0, slot] = 0x8000
    s.en_cargo[0, 4] = 1
    s.spike[0, 3] = 0xC0  # long spike (tip < 0xCC): a tanker
    assert _choose(s, 3)[0] == TANKER
    s.spike[0, 3] = 0xE0  # short spike: a spiker
    assert _choose(s, 3)[0] == SPIKER


def test_nymcha_waits_when_no_type_has_an_opening():
    s = quiet_game(1)
    for slot in range(4):  # wave 1: at most 4 flippers
        s.en_type[0, slot] = FLIPPER
        s.en_y[0, slot] = 0x8000
    assert _choose(s)[0] == -1


def test_pending_countdowns_freeze_with_seven_active_enemies():
    s = quiet_game(5)
    s.pend_timer[0, 0] = 0x30
    for slot in range(7):
        s.en_type[0, slot] = TANKER
        s.en_y[0, slot] = 0xC000
        s.en_cam_pc[0, slot] = core.RULES.cam_entry[0]
    step(s)
    assert s.pend_timer[0, 0] == 0x30


def test_pending_lanes_turn_every_other_frame_above_0x40():
    s = quiet_game(1)
    s.pend_timer[0, 0] = 0x80
    s.pend_lane[0, 0] = 5
    lanes = []
    for _ in range(4):
        step(s)
        lanes.append(int(s.pend_lane[0, 0]))
    assert lanes in ([6, 6, 7, 7], [5, 6, 6, 7])


def test_open_tube_lane_15_entries_are_redirected_to_even_lanes():
    s = quiet_game(8)  # V tube, open
    s.pend_timer[0, 0] = 1
    s.pend_lane[0, 0] = 15
    step(s)
    entered = [e for e in range(7) if s.en_type[0, e] != NO_ENEMY]
    assert len(entered) == 1
    lane = s.en_lane[0, entered[0]]
    assert lane % 2 == 0 or s.en_flipping[0, entered[0]]
