"""The Tempest ROM's attract-mode AI on hand-built game states (reference tempest-mechanics.md
§3.4, ALWELG AUTOCU/FIREPC)."""

from __future__ import annotations

import numpy as np

from envs.tempest import state as S
from expert.tempest import AttractModeExpert, attract_decisions
from tests.expert.games import JOINT, P, enemy, game, shot


def attract(st):
    return attract_decisions(st)


def test_attract_steers_9_toward_the_enemy_nearest_the_rim():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x90, P - 3)
    enemy(st, 1, S.TANKER, 0x40, P + 3)  # nearest the rim
    out = attract(st)
    assert (out.target[0], out.spinner[0], out.zap[0]) == (P + 3, -9, 0)
    enemy(st, 2, S.PULSAR, 0x20, P - 1)  # any type counts
    out = attract(st)
    assert (out.target[0], out.spinner[0]) == (P - 1, 9)
    enemy(st, 3, S.SPIKER, 0x20, P)  # same depth byte: the higher slot wins
    out = attract(st)
    assert (out.target[0], out.spinner[0]) == (P, 0)


def test_attract_takes_the_shortest_path_and_the_rom_tie():
    st = game(lane=0)
    enemy(st, 0, S.FLIPPER, 0x40, 12)  # 4 lanes down around the tube
    assert attract(st).spinner[0] == 9
    enemy(st, 0, S.FLIPPER, 0x40, 8)  # exact opposite: POLDEL gives -8 -> toward lower lanes
    assert attract(st).spinner[0] == 9
    st = game(lane=0, is_open=1)
    enemy(st, 0, S.FLIPPER, 0x40, 12)  # open tube: straight up
    assert attract(st).spinner[0] == -9


def test_attract_fires_when_anything_is_within_one_lane():
    st = game()
    enemy(st, 0, S.FLIPPER, 0xA0, P + 2)
    assert attract(st).fire[0] == 0
    enemy(st, 1, S.SPIKER, 0xE0, P - 1)
    assert attract(st).fire[0] == 1
    st = game()
    shot(st, 0, 0x90 << 8, P + 1)
    assert attract(st).fire[0] == 1
    st = game(lane=0)
    enemy(st, 0, S.FLIPPER, 0x40, 15)  # the ROM's raw |lane - CURSL1|: no wrap-around
    assert attract(st).fire[0] == 0


def test_attract_always_fires_in_the_drop_never_zaps_and_rests_when_dead():
    st = game(mode=S.MODE_DROP, pending=0)
    out = attract(st)
    assert (out.fire[0], out.zap[0], out.spinner[0], out.target[0]) == (1, 0, 0, P)
    st = game()
    enemy(st, 0, S.FLIPPER, 0x10, P + 1)
    st.death_cause[0] = S.DEATH_GRABBED
    out = attract(st)
    assert (out.fire[0], out.spinner[0]) == (0, 0)


def test_attract_actions_on_the_joint_set():
    st = game()
    enemy(st, 0, S.FLIPPER, 0x40, P + 1)
    expert = AttractModeExpert(1, JOINT)
    assert expert.act(None, {"state": st}).tolist() == [2 * 11 + 9]  # FIRE, SPIN-9
    expert.reset(np.array([True]))  # nothing to forget
    st = game()
    assert expert.act(None, {"state": st}).tolist() == [0]  # NOOP
