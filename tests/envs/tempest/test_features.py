"""The observation vector: its documented layout, hand-computed values per feature group, the
[-1, 1] contract over random valid states, and determinism."""

from __future__ import annotations

import re

import numpy as np
import pytest

from envs.tempest import feature_layout
from envs.tempest.features import FEATURE_NAMES, OBS_DIM, SLOT_OBS_DIM, frames_to_spike, observe
from envs.tempest.skill import CAM_NAMES
from envs.tempest.state import (
    ALIVE,
    DEATH_SHOT,
    DEATH_SPIKE,
    ENEMY_SHOTS,
    ENEMY_SLOTS,
    FAR_END,
    FLIPPER,
    FUSEBALL,
    LANES,
    MODE_DROP,
    MODE_END_OF_LIFE,
    MODE_GAME_OVER,
    MODE_PAUSE,
    MODE_PLAY,
    NO_ENEMY,
    OPEN_LANES,
    PLAYER_SHOTS,
    PULSAR,
    RIM,
    SPIKER,
    TANKER,
    TYPE_NAMES,
    GameState,
    allocate,
    copy,
    take,
)
from envs.tempest.tables import LEVEL_REMAP, TUBE_OPEN
from tests.envs.tempest.test_core import quiet_game, step


def game(wave: int = 1, lane: int = 5) -> GameState:
    """One empty game in play at `wave`, the player in `lane`, not moving."""
    st = allocate(1)
    tube = int(LEVEL_REMAP[(wave - 1) % 16])
    st.wave[0], st.tube[0], st.is_open[0] = wave, tube, TUBE_OPEN[tube]
    st.mode[0], st.lives[0], st.player_y[0] = MODE_PLAY, 3, RIM
    st.player_pos[0] = lane << 4
    st.player_prev_lane[0] = lane
    st.pulse_phase[0] = -40
    return st


def put_enemy(st: GameState, slot: int, kind: int, lane: int, depth: int, **fields: int) -> None:
    """An enemy at integer `depth`, standing still since the last frame unless told otherwise."""
    st.en_type[0, slot], st.en_lane[0, slot], st.en_y[0, slot] = kind, lane, depth << 8
    st.en_prev_type[0, slot], st.en_prev_lane[0, slot] = kind, lane
    st.en_prev_y[0, slot] = depth << 8
    for name, value in fields.items():
        getattr(st, name)[0, slot] = value


def obs(st: GameState, shot_clock: bool = True, spike_clock: bool = True) -> np.ndarray:
    out = np.full((st.wave.shape[0], OBS_DIM), np.nan, np.float32)
    observe(st, out, shot_clock, spike_clock)
    return out


def value(st: GameState, name: str) -> float:
    return float(obs(st)[0, FEATURE_NAMES.index(name)])


# -- layout ----------------------------------------------------------------------------------------

def documented_names() -> list[str]:
    """Expands `feature_layout`'s docstring table: `a-b name{i}` rows over i, `{t}` over the enemy
    types, `{c}` over the cam programs; checks each row's index range on the way."""
    names: list[str] = []
    for line in feature_layout.__doc__.splitlines():
        row = re.match(r"^(\d+)(?:-(\d+))?\s+(\S+)\s", line)
        if not row:
            continue
        first, last, pattern = int(row[1]), int(row[2] or row[1]), row[3]
        assert first == len(names), f"row {line!r} starts at {first}, expected {len(names)}"
        if "{t}" in pattern:
            expanded = [pattern.format(t=t) for t in TYPE_NAMES]
        elif "{c}" in pattern:
            expanded = [pattern.format(c=c) for c in CAM_NAMES]
        else:
            expanded = [pattern.format(i=i) for i in range(last - first + 1)]
        assert len(expanded) == last - first + 1, line
        names.extend(expanded)
    return names


def test_docstring_table_documents_every_index():
    assert documented_names() == list(FEATURE_NAMES)
    assert len(FEATURE_NAMES) == OBS_DIM == len(set(FEATURE_NAMES))


# -- game and player -------------------------------------------------------------------------------

def test_player_lane_and_position_inside_it():
    st = game(lane=5)
    st.player_pos[0] = 0x57
    assert value(st, "player_lane") == pytest.approx(5 / 15)
    assert value(st, "player_subpos") == pytest.approx(7 / 15)
    assert value(st, "player_depth") == pytest.approx(0x10 / 255)


def test_game_fields():
    st = game(wave=9)
    st.mode[0], st.mode_timer[0], st.death_cause[0] = MODE_DROP, 100, DEATH_SHOT
    st.zap_uses[0], st.zap_timer[0], st.drop_speed[0] = 1, 4, 0x280
    st.shot_y[0, :3] = RIM
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    assert (o["mode_play"], o["mode_drop"], o["mode_wait"], o["mode_timer"]) == (0, 1, 0, 1)
    assert o["wave"] == pytest.approx(8 / 98)
    assert o["tube"] == pytest.approx(13 / 15)  # wave 9 is the stairs, tube 13 (not 8 % 16)
    assert o["open_tube"] == 1.0
    assert (o["alive"], o["death_cause"]) == (0.0, pytest.approx(4 / 5))
    assert o["zap_uses"] == 0.5 and o["zap_timer"] == pytest.approx(4 / 19)
    assert o["drop_speed"] == pytest.approx(2.5 / 16)
    assert o["shots_free"] == pytest.approx(5 / 8)


# -- relative lanes --------------------------------------------------------------------------------

@pytest.mark.parametrize(("player", "lane", "rel"), [
    (1, 14, -3),   # wraps the short way
    (14, 1, 3),
    (1, 9, 8),     # the +-8 tie goes to +8 ...
    (9, 1, 8),     # ... from both sides
    (1, 10, -7),
    (5, 5, 0),
])
def test_relative_lanes_on_closed_tubes(player, lane, rel):
    st = game(lane=player)
    put_enemy(st, 0, FLIPPER, lane, 0x80)
    st.shot_y[0, 2], st.shot_lane[0, 2] = 0x3000, lane
    st.eshot_y[0, 1], st.eshot_lane[0, 1] = 0x5000, lane
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    for name in ("en0_lane", "shot2_lane", "eshot1_lane"):
        assert o[name] == pytest.approx(rel / 15), name


@pytest.mark.parametrize(("player", "lane", "rel"), [(0, 14, 14), (14, 0, -14), (3, 2, -1)])
def test_relative_lanes_on_open_tubes_are_direct_differences(player, lane, rel):
    st = game(wave=8, lane=player)  # the V, open
    put_enemy(st, 0, FLIPPER, lane, 0x80)
    assert value(st, "en0_lane") == pytest.approx(rel / 15)


def test_an_empty_slot_is_not_a_lane_of_minus_one():
    st = game(wave=8, lane=3)
    put_enemy(st, 1, FLIPPER, 2, 0x80)
    row = obs(st)[0]
    at = FEATURE_NAMES.index
    assert row[at("en1_lane")] == pytest.approx(-1 / 15) and row[at("en1_present")] == 1.0
    assert row[at("en0_lane")] == 0.0 and row[at("en0_present")] == 0.0
    assert row[at("en0_depth")] == 0.0 and row[at("en0_flipper")] == 0.0


# -- enemies ---------------------------------------------------------------------------------------

@pytest.mark.parametrize(("player", "pivot", "up", "step", "position"), [
    (3, 5, 1, 2, 4.25),    # from lane 4 toward lane 5 (pivot line 5), a quarter through
    (3, 5, 0, 2, 4.75),    # from lane 5 toward lane 4 (pivot line 5)
    (15, 0, 1, 4, 15.5),   # from lane 15 toward lane 0 across the wrap
    (3, 5, 1, 8, 5.0),     # a finished flip sits on the destination lane
])
def test_a_flipping_enemy_has_a_fractional_lane(player, pivot, up, step, position):
    st = game(lane=player)
    put_enemy(st, 3, FLIPPER, pivot, 0x60, en_flipping=1, en_dir=up, en_flip_step=step,
              en_flip_steps=8)
    expected = (position - player + 8) % 16 - 8
    assert value(st, "en3_lane") == pytest.approx(expected / 15)
    assert value(st, "en3_flipping") == 1.0 and value(st, "en3_dir_up") == up


def test_a_crossing_fuseball_keeps_its_integer_lane():
    st = game(lane=3)
    put_enemy(st, 0, FUSEBALL, 5, 0x60, en_flipping=1, en_dir=1, en_flip_step=3,
              en_flip_steps=7)
    assert value(st, "en0_lane") == pytest.approx(2 / 15)


def test_per_slot_attributes_rim_and_pulsar_groups():
    st = game(lane=3)
    put_enemy(st, 2, PULSAR, 4, 0x10, en_chaser=1, en_can_fire=1)
    put_enemy(st, 5, TANKER, 1, 0x90, en_cargo=2, en_away=1)
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    assert (o["en2_pulsar"], o["en2_flipper"], o["en2_chaser"], o["en2_can_fire"]) == (1, 0, 1, 1)
    assert (o["rim2"], o["rim2_lane"]) == (1.0, pytest.approx(1 / 15))
    assert (o["pulsar2_depth"], o["pulsar2_lane"]) == (pytest.approx(16 / 255),
                                                        pytest.approx(1 / 15))
    assert (o["en5_tanker"], o["en5_cargo"], o["en5_away"]) == (1, pytest.approx(2 / 3), 1)
    assert (o["rim5"], o["rim5_lane"], o["pulsar5_depth"], o["pulsar5_lane"]) == (0, 0, 0, 0)
    assert o["en5_depth"] == pytest.approx(0x90 / 255)
    assert (o["count_pulsar"], o["count_tanker"], o["in_tube"], o["on_rim"]) == \
        pytest.approx((1 / 7, 1 / 7, 1 / 7, 1 / 7))


def test_spawn_openings_from_current_counts():
    st = game(wave=3)  # wave 3: flippers max 4, tankers max 1 (reference §1.12)
    put_enemy(st, 0, FLIPPER, 1, 0x80)
    put_enemy(st, 1, TANKER, 2, 0x80, en_cargo=1)  # carries flippers: 2 more to come
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    assert o["opening_flipper"] == pytest.approx(1 / 7)  # 4 - 1 - 2
    assert o["opening_tanker"] == 0.0 and o["opening_pulsar"] == 0.0


def test_spawn_openings_are_capped_at_the_free_slots():
    st = game(wave=3)
    for slot in range(6):
        put_enemy(st, slot, SPIKER, slot, 0x80)
    assert value(st, "opening_flipper") == pytest.approx(1 / 7)  # 4 open, 1 free slot


def test_skill_features_of_wave_1():
    o = dict(zip(FEATURE_NAMES, obs(game(wave=1))[0], strict=True))
    assert o["speed_flipper"] == pytest.approx(1.375 / 16)
    assert o["speed_eshot"] == pytest.approx(3.375 / 16)
    assert o["pulsar_potent"] == pytest.approx(0xA0 / 255)
    assert [o[f"cam_{c}"] for c in CAM_NAMES] == [1, 0, 0, 0, 0, 0]


# -- level, shots, pulse ---------------------------------------------------------------------------

def test_spike_heights():
    st = game(wave=1)
    st.spike[0, 3], st.spike[0, 15] = 0xA0, 0xF1
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    assert o["spike3"] == pytest.approx((255 - 0xA0) / 255)
    assert o["spike15"] == pytest.approx((255 - 0xF1) / 255)
    assert o["spike4"] == 0.0
    assert o["angle0"] == pytest.approx(5 / 15)  # the circle's LINANG[0]


def test_lane_15_of_an_open_tube_has_no_spike():
    st = game(wave=8)
    st.spike[0, :] = 0xC8
    assert value(st, "spike15") == 0.0 and value(st, "spike14") > 0.0


def test_enemy_shot_depth_keeps_its_fraction():
    st = game()
    st.eshot_y[0, 0], st.eshot_lane[0, 0] = 0x3080, 5
    assert value(st, "eshot0_depth") == pytest.approx(48.5 / 255)


@pytest.mark.parametrize(("phase", "on"), [(0, 1.0), (15, 1.0), (-1, 0.0), (-63, 0.0)])
def test_pulse_is_on_from_pulson_0(phase, on):
    st = game()
    st.pulse_phase[0], st.pulse_step[0] = phase, -4
    assert value(st, "pulse_on") == on
    assert value(st, "pulse_phase") == pytest.approx(phase / 64)
    assert value(st, "pulse_step") == pytest.approx(-0.5)


# -- nearest threats -------------------------------------------------------------------------------

def test_nearest_threat_per_lane_on_a_closed_tube():
    st = game(lane=4)
    st.spike[0, 4] = 0xC0
    put_enemy(st, 0, FLIPPER, 4, 0x60)
    st.eshot_y[0, 0], st.eshot_lane[0, 0] = 0x3080, 3
    put_enemy(st, 1, FLIPPER, 6, 0x50, en_flipping=1, en_flip_steps=8)  # straddles 5 and 6
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    assert o["threat_own"] == pytest.approx(0x60 / 255)
    assert o["threat_lower"] == pytest.approx(0x30 / 255)
    assert o["threat_higher"] == pytest.approx(0x50 / 255)


def test_nearest_threat_wraps_and_reads_1_when_clear():
    st = game(lane=0)
    put_enemy(st, 0, FLIPPER, 15, 0x70)
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    assert (o["threat_lower"], o["threat_own"], o["threat_higher"]) == \
        (pytest.approx(0x70 / 255), 1.0, 1.0)


@pytest.mark.parametrize(("lane", "lower", "higher"), [(0, 0.0, 1.0), (14, 1.0, 0.0)])
def test_off_edge_lanes_of_an_open_tube_are_walls(lane, lower, higher):
    st = game(wave=8, lane=lane)
    assert (value(st, "threat_lower"), value(st, "threat_higher")) == (lower, higher)


# -- velocities ------------------------------------------------------------------------------------

def test_velocity_features():
    st = game(lane=0)
    st.player_prev_lane[0] = 15  # moved 15 -> 0 across the wrap: +1
    put_enemy(st, 0, FLIPPER, 0, 0x3E, en_prev_lane=15)
    st.en_y[0, 0], st.en_prev_y[0, 0] = 0x3E80, 0x4000
    put_enemy(st, 1, FLIPPER, 5, 0x80, en_prev_type=TANKER, en_prev_lane=6)
    put_enemy(st, 2, FLIPPER, 5, 0xF0, en_prev_type=NO_ENEMY, en_prev_lane=-1, en_prev_y=0)
    o = dict(zip(FEATURE_NAMES, obs(st)[0], strict=True))
    assert o["player_dlane"] == 0.5
    assert o["en0_dlane"] == 0.5
    assert o["en0_ddepth"] == pytest.approx(-1.5 / 16)
    assert (o["en1_dlane"], o["en1_ddepth"]) == (0.0, 0.0)  # the slot changed type
    assert (o["en2_dlane"], o["en2_ddepth"]) == (0.0, 0.0)  # the slot was empty
    assert (o["en3_dlane"], o["en3_ddepth"]) == (0.0, 0.0)  # the slot is empty


def test_player_velocity_on_an_open_tube_does_not_wrap():
    st = game(wave=8, lane=0)
    st.player_prev_lane[0] = 14
    assert value(st, "player_dlane") == -1.0  # -14 lanes, clipped at -2


# -- contract over random states -------------------------------------------------------------------

def random_states(n: int, seed: int) -> GameState:
    """Games with every field drawn within its documented range."""
    rng = np.random.default_rng(seed)
    st = allocate(n)
    st.mode[:] = rng.choice([MODE_PLAY, MODE_DROP, MODE_PAUSE, MODE_END_OF_LIFE, MODE_GAME_OVER],
                            n)
    st.mode_timer[:] = rng.integers(0, 200, n)
    st.wave[:] = rng.integers(1, 100, n)
    st.tube[:] = LEVEL_REMAP[(st.wave - 1) % 16]
    st.is_open[:] = TUBE_OPEN[st.tube]
    lanes = np.where(st.is_open == 1, OPEN_LANES, LANES)[:, None]
    st.lives[:] = rng.integers(0, 7, n)
    st.player_pos[:] = rng.integers(0, 256, n) % (lanes[:, 0] << 4)
    st.player_prev_lane[:] = rng.integers(0, 16, n) % lanes[:, 0]
    st.player_y[:] = rng.integers(RIM, 0xFF00, n)
    st.drop_speed[:] = rng.integers(0, 20 * 256, n)
    st.death_cause[:] = rng.integers(0, 6, n)
    st.zap_uses[:] = rng.integers(0, 3, n)
    st.zap_timer[:] = rng.integers(0, 30, n)
    st.pending[:] = rng.integers(0, 64, n)
    st.pending_at_start[:] = rng.integers(0, 64, n)
    st.pulse_phase[:] = rng.integers(-63, 16, n)
    st.pulse_step[:] = rng.choice([-8, -6, -4, 4, 6, 8], n)
    st.spike[:] = np.where(rng.random((n, LANES)) < 0.5, 0, rng.integers(0x20, 0xF2, (n, LANES)))
    for y, lane, slots in ((st.shot_y, st.shot_lane, PLAYER_SHOTS),
                           (st.eshot_y, st.eshot_lane, ENEMY_SHOTS)):
        y[:] = np.where(rng.random((n, slots)) < 0.5, 0, rng.integers(RIM, FAR_END, (n, slots)))
        lane[:] = rng.integers(0, 16, (n, slots)) % lanes
    en = (n, ENEMY_SLOTS)
    st.en_type[:] = rng.integers(NO_ENEMY, 5, en)
    present = st.en_type != NO_ENEMY
    st.en_y[:] = np.where(present, rng.integers(RIM, 0xF3 << 8, en), 0)
    st.en_flipping[:] = rng.integers(0, 2, en) * present
    st.en_dir[:] = rng.integers(0, 2, en)
    st.en_flip_steps[:] = rng.integers(1, 17, en)
    st.en_flip_step[:] = rng.integers(0, 17, en) % (st.en_flip_steps + 1)
    # a lane, or the pivot line of a flip between two real lanes (1..14 on open tubes)
    st.en_lane[:] = np.where(st.en_flipping == 1, 1 + rng.integers(0, 16, en) % (lanes - 1),
                             rng.integers(0, 16, en) % lanes)
    for name, high in (("en_away", 2), ("en_can_fire", 2), ("en_cargo", 4), ("en_chaser", 2)):
        getattr(st, name)[:] = rng.integers(0, high, en)
    st.en_prev_type[:] = np.where(rng.random(en) < 0.8, st.en_type, rng.integers(-1, 5, en))
    st.en_prev_lane[:] = np.where(st.en_prev_type == NO_ENEMY, -1,
                                  rng.integers(0, 16, en) % lanes)
    st.en_prev_y[:] = np.where(st.en_prev_type == NO_ENEMY, 0, rng.integers(RIM, 0xF3 << 8, en))
    return st


def test_every_value_is_in_range_over_random_states():
    out = obs(random_states(4000, seed=7))
    assert out.dtype == np.float32 and np.isfinite(out).all()
    worst = np.abs(out).max(axis=0)
    assert (worst <= 1.0).all(), [FEATURE_NAMES[i] for i in np.flatnonzero(worst > 1.0)]


def test_observe_is_deterministic_and_per_game():
    st = random_states(64, seed=11)
    first = obs(st)
    assert np.array_equal(first, obs(copy(st)))
    assert np.array_equal(first, obs(st))
    assert np.array_equal(first[17], obs(take(st, 17))[0])


# -- the lanes around the player -------------------------------------------------------------------

def test_lane_map_is_indexed_by_distance_from_the_player():
    st = game(lane=4)  # wave 1: the closed circle; slot i is the lane at rel i - 7
    st.eshot_y[0, 0], st.eshot_lane[0, 0] = 0x3080, 3  # rel -1 -> slot 6
    st.eshot_y[0, 1], st.eshot_lane[0, 1] = 0x9000, 3  # farther in the same lane: not the nearest
    put_enemy(st, 0, FLIPPER, 4, 0x60)  # own lane -> slot 7
    put_enemy(st, 1, FLIPPER, 6, 0x50, en_flipping=1, en_flip_steps=8)  # lanes 5 and 6: slots 8, 9
    put_enemy(st, 2, TANKER, 12, 0x20)  # rel +8 -> slot 15
    st.spike[0, 1] = 0xC0  # rel -3 -> slot 4
    o = dict(zip(FEATURE_NAMES, obs(st, shot_clock=False, spike_clock=False)[0], strict=True))
    eshot = [o[f"lane{i}_eshot"] for i in range(LANES)]  # as depths (runs before the clocks)
    enemy = [o[f"lane{i}_enemy"] for i in range(LANES)]
    assert eshot == pytest.approx([0.0] * 6 + [(255 - 0x30) / 255] + [0.0] * 9)
    assert enemy[7] == pytest.approx((255 - 0x60) / 255)
    assert enemy[8] == enemy[9] == pytest.approx((255 - 0x50) / 255)
    assert enemy[15] == pytest.approx((255 - 0x20) / 255)
    assert sum(v > 0 for v in enemy) == 4
    assert o["lane4_spike"] == pytest.approx((255 - 0xC0) / 255)
    assert [o[f"lane{i}_wall"] for i in range(LANES)] == [0.0] * LANES


@pytest.mark.parametrize("wave, speed", [(1, 864), (13, 1216)])
def test_the_shot_clock_reads_frames_until_a_shot_lands(wave, speed):
    """1 - frames to the player's depth / 32 at the wave's enemy-shot speed (8.8 per frame)."""
    st = game(wave=wave, lane=4)
    st.eshot_y[0, 0], st.eshot_lane[0, 0] = 0x3080, 3  # rel -1 -> slot 6, 0x2080 above the rim
    st.eshot_y[0, 1], st.eshot_lane[0, 1] = 0x9000, 3  # farther in the same lane: not the nearest
    st.eshot_y[0, 2], st.eshot_lane[0, 2] = 0xC000, 12  # rel +8: 0xB000 / speed > 32 frames
    eshot = [value(st, f"lane{i}_eshot") for i in range(LANES)]
    assert eshot == pytest.approx([0.0] * 6 + [1 - 0x2080 / speed / 32] + [0.0] * 9)
    st.eshot_y[0, 0] = RIM + 0x40  # a quarter depth unit from landing: 1 - 64 / speed / 32
    assert value(st, "lane6_eshot") == pytest.approx(1 - 64 / speed / 32)


def test_frames_to_spike_counts_the_drop_frames_until_the_claw_is_below_the_tip():
    """From the rim at 2.0 per frame, gaining 0x20 / 256 (wave 1): after n frames the claw is at
    0x10 + 2n + n(n-1)/16; below tip 0xA0 (> 160) first at n = 36 (166.75; n = 35: 160.375)."""
    assert frames_to_spike(0xA0, RIM, 0x200, 0x20) == 36
    assert frames_to_spike(0x11, RIM, 0x200, 0x20) == 1  # 0x12 after one frame
    assert frames_to_spike(0x08, 0x30 << 8, 0x400, 0x20) == 1  # already above the claw
    assert frames_to_spike(0xF1, RIM, 0x200, 0x20) == 0  # a fresh spike: the drop ends first
    assert frames_to_spike(0, RIM, 0x200, 0x20) == 0  # no spike


def test_the_spike_clock_on_the_rim_reads_the_drop_that_would_start_now():
    st = game(lane=4)  # wave 1, closed
    st.spike[0, 1] = 0xA0  # rel -3 -> slot 4: 36 frames from the rim
    st.spike[0, 9] = 0xF1  # rel +5 -> slot 12: the claw never reaches it
    spike = [value(st, f"lane{i}_spike") for i in range(LANES)]
    assert spike == pytest.approx([0.0] * 4 + [1 - 35 / 48] + [0.0] * 11)
    st.spike[0, 1] = 0x20  # a long spike: the first frames of the drop
    assert value(st, "lane4_spike") == pytest.approx(1 - (frames_to_spike(0x20, RIM, 0x200, 0x20)
                                                         - 1) / 48)


def test_the_spike_clock_tells_the_frame_the_simulator_kills_the_claw():
    """During a real drop the clock of the claw's own lane is the frames left to live; a lane
    whose tip is above the claw reads 1, and stepping into it kills on that frame."""
    s = quiet_game(5, lane=6)
    s.pending[0] = s.pend_timer[0, 0] = 0
    s.spike[0, 6] = 0x80  # own lane, slot 7
    s.spike[0, 5] = 0x28  # rel -1, slot 6
    step(s)  # no enemy left: the drop starts
    step(s, 10)  # at wave 5 (0x30 / 256 per frame^2) the claw is at 0x2C after 10 frames
    assert s.mode[0] == MODE_DROP and s.player_y[0] >> 8 == 0x2C
    o = dict(zip(FEATURE_NAMES, obs(s)[0], strict=True))
    assert o["lane6_spike"] == 1.0
    left = round((1 - o["lane7_spike"]) * 48) + 1
    frames = 0
    while s.death_cause[0] == ALIVE:
        step(s)
        frames += 1
    assert frames == left and s.death_cause[0] == DEATH_SPIKE
    s = quiet_game(5, lane=6)
    s.pending[0] = s.pend_timer[0, 0] = 0
    s.spike[0, 5] = 0x28
    step(s, 10)  # the drop's 9th frame: the claw at 0x28, level with the tip
    assert s.player_y[0] >> 8 == 0x28 and s.death_cause[0] == ALIVE
    step(s, spin=12)  # one lane down (spin > 0 lowers the position), and one frame deeper
    assert s.player_pos[0] >> 4 == 5 and s.death_cause[0] == DEATH_SPIKE


def test_lane_map_marks_the_walls_of_an_open_tube():
    st = game(wave=8, lane=2)  # open: lanes 0..14; rel -7..-3 and +13.. are off the edge
    walls = [value(st, f"lane{i}_wall") for i in range(LANES)]
    assert walls == [1.0] * 5 + [0.0] * 11
    st = game(wave=8, lane=10)  # rel +5..+8 -> lanes 15..18: off the edge
    walls = [value(st, f"lane{i}_wall") for i in range(LANES)]
    assert walls == [0.0] * 12 + [1.0] * 4


def test_observe_fills_either_width_and_refuses_others():
    st = game()
    put_enemy(st, 0, FLIPPER, 4, 0x60)
    full = obs(st)
    slots = np.full((1, SLOT_OBS_DIM), np.nan, np.float32)
    observe(st, slots)
    np.testing.assert_array_equal(slots, full[:, :SLOT_OBS_DIM])
    with pytest.raises(ValueError, match="247 or 312 values, not 250"):
        observe(st, np.zeros((1, 250), np.float32))


def test_next_shot_free_counts_frames_until_a_slot_frees():
    st = game()
    st.shot_y[0, :] = RIM
    st.shot_y[0, 3] = 0xA8 << 8  # the deepest: (0xF0 - 0xA8) / 9 = 8 frames
    assert value(st, "next_shot_free") == pytest.approx(8 / 25)
    st.shot_y[0, 5] = 0
    assert value(st, "next_shot_free") == 0.0
