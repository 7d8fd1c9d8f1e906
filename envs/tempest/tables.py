"""Constant tables of the 1981 game: tube geometry, the wave -> tube sequence and scoring.

Copied from the reference (`tempest-mechanics.md` §1.2 and §1.11, which transcribes
`tempest.asm:6776-6841` and `ALEXEC:597-599`).  Per-wave skill parameters live in `skill.py`.
Index 0..15 of the geometry tables is the *tube index*, not the wave: `TUBE_OF_WAVE` maps waves.
"""

from __future__ import annotations

import numpy as np

from envs.tempest.state import FLIPPER, FUSEBALL, PULSAR, SPIKER, TANKER

TUBE_NAMES = ("circle", "square", "cross", "peanut", "key", "triangle", "clover", "V",
              "flat", "U", "topo", "figure-8", "heart", "stairs", "star", "waves")
"""Shape name per tube index (the designer's sequence comment, ALWELG:708-709)."""

LEVEL_REMAP = np.array([0, 1, 2, 3, 4, 5, 6, 7, 13, 9, 8, 12, 14, 15, 10, 11], np.int32)
"""tube = LEVEL_REMAP[(wave - 1) % 16] (`lev_remap`, tempest.asm:6827)."""

TUBE_OPEN = np.array([0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 0, 1], np.int32)
"""1 for the open (planar) tubes by tube index (`lev_open`, tempest.asm:6837)."""


def _hex_table(text: str) -> np.ndarray:
    """A (16, 16) int32 table written as 16 rows of 16 hex bytes, as in the reference."""
    return np.array([[int(v, 16) for v in row.split()] for row in text.strip().splitlines()],
                    np.int32)


LINE_X = _hex_table("""
    F0 E7 CF AA 80 56 31 19 10 19 31 56 80 AA CF E7
    F0 F0 F0 B8 80 48 10 10 10 10 10 48 80 B8 F0 F0
    F0 F0 B8 B8 80 48 48 10 10 10 48 48 80 B8 B8 F0
    EC D5 B1 90 70 4F 2B 14 14 2B 4F 70 90 B1 D5 EC
    F0 C0 A0 94 6C 60 40 10 10 40 60 6C 94 A0 C0 F0
    D9 C2 AC 97 80 69 52 3C 27 10 35 5A 80 A6 CA F0
    EA E0 9C 80 64 20 16 50 16 20 64 80 9C E0 EA B0
    10 1E 2C 3A 48 56 64 70 90 9E AC BA C8 D6 E4 F0
    10 1E 2D 3C 4B 5A 69 78 87 96 A5 B4 C3 D2 E1 F0
    10 10 10 10 16 29 46 69 97 BA D7 EA F0 F0 F0 F0
    10 24 30 36 3E 49 5A 75 94 A4 AC BA DA E2 EA F0
    80 70 48 20 10 20 48 70 80 90 B8 E0 F0 E0 B8 90
    DA A4 87 80 79 5C 26 10 10 20 48 80 B8 E0 F0 F0
    10 10 30 30 50 50 70 70 90 90 B0 B0 D0 D0 F0 F0
    B0 80 50 47 18 30 18 47 50 80 B0 B9 E8 D4 E8 B9
    10 1E 21 28 3C 55 66 73 8D 9A AB C4 D8 DF E2 F0
""")
LINE_Y = _hex_table("""
    80 AA CF E7 F0 E7 CF AA 80 56 31 19 10 19 31 56
    80 B8 F0 F0 F0 F0 F0 B8 80 48 10 10 10 10 10 48
    80 B8 B8 F0 F0 F0 B8 B8 80 48 48 10 10 10 48 48
    94 B0 B8 A7 A7 B8 B0 94 6C 50 48 59 59 48 50 6C
    96 A3 C5 F0 F0 C5 A3 96 6A 5D 3B 10 10 3B 5D 6A
    3D 6A 97 C4 F0 C4 97 6A 3D 10 10 10 10 10 10 10
    A0 E0 EA B0 EA E0 A0 80 60 20 16 50 16 20 60 80
    F0 D0 B0 90 70 50 30 10 10 30 50 70 90 B0 D0 F0
    40 40 40 40 40 40 40 40 40 40 40 40 40 40 40 40
    F0 CB A6 80 5C 39 20 12 12 20 39 5C 80 A6 CB F0
    C0 A6 8A 6A 4A 2F 14 24 20 39 59 75 72 90 B0 D0
    80 57 48 57 80 A9 BA A9 80 57 48 57 80 A9 BA A9
    E4 E8 B7 80 B7 E8 E4 B2 7A 47 20 10 20 47 7A B2
    90 70 70 50 50 30 30 10 10 30 30 50 50 70 70 90
    E6 D0 E6 B9 AE 80 52 47 14 30 14 47 52 80 AE B9
    7E 6A 51 3A 2C 2C 38 4E 4E 38 2C 2C 3A 51 6A 7E
""")
LINE_ANGLE = _hex_table("""
    05 06 07 08 09 0A 0B 0C 0D 0E 0F 00 01 02 03 04
    04 04 08 08 08 08 0C 0C 0C 0C 00 00 00 00 04 04
    04 08 04 08 08 0C 08 0C 0C 00 0C 00 00 04 00 04
    06 07 09 08 07 09 0A 0C 0E 0F 01 00 0F 01 02 04
    07 06 05 08 0B 0A 09 0C 0F 0E 0D 00 03 02 01 04
    05 05 05 05 0B 0B 0B 0B 0B 00 00 00 00 00 00 05
    04 08 0B 05 08 0C 0E 09 0C 00 03 0D 00 04 07 02
    0D 0D 0D 0D 0D 0D 0D 00 03 03 03 03 03 03 03 00
    00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00
    0C 0C 0C 0D 0E 0F 0F 00 01 01 02 03 04 04 04 00
    0E 0D 0C 0D 0D 0D 01 0F 02 03 03 00 03 03 03 00
    0B 09 07 05 03 01 0F 0D 0D 0F 01 03 05 07 09 0B
    08 0B 0C 04 05 08 0B 0C 0D 0E 0F 01 02 03 04 05
    0C 00 0C 00 0C 00 0C 00 04 00 04 00 04 00 04 00
    0A 06 0C 08 0E 0A 00 0C 02 0E 04 00 06 02 08 04
    0E 0C 0D 0E 00 02 02 00 0E 0E 00 02 03 04 02 00
""")
"""Point k of each tube in a 0..255 plane (`lev_x`, `lev_y`) and the direction from point k to
point k+1 in 1/16ths of a turn (`lev_angle`, LINANG), which drives the flip arcs."""


def flip_steps_table() -> np.ndarray:
    """(16, 16) jump-angle steps of a flip between lane a and lane a+1 of each tube:
    (LINANG[a] + 8 - LINANG[a+1]) mod 16, where 0 means 16 (CALSAN/JJUMPM, reference §1.2)."""
    following = np.roll(LINE_ANGLE, -1, axis=1)
    steps = (LINE_ANGLE + 8 - following) % 16
    return np.where(steps == 0, 16, steps).astype(np.int32)


FLIP_STEPS = flip_steps_table()
"""FLIP_STEPS[tube, a]: steps (1 per frame in the tube) to flip between lanes a and a+1."""

KILL_POINTS = np.zeros(5, np.int32)
KILL_POINTS[FLIPPER], KILL_POINTS[PULSAR], KILL_POINTS[TANKER] = 150, 200, 100
KILL_POINTS[SPIKER], KILL_POINTS[FUSEBALL] = 50, 250
"""Points per kill by type (UPSCOR, reference §1.11); a shot fuseball scores 250, 500 or 750 at
random (`FUSE_POINTS`), a zapped one `FUSE_ZAP_POINTS`."""
FUSE_POINTS = np.array([250, 250, 250, 250, 250, 250, 500, 750], np.int32)
"""A shot fuseball's points, drawn uniformly from these 8 (p = 6/8, 1/8, 1/8; INCFS2)."""
FUSE_ZAP_POINTS = 150
SPIKE_HIT_POINTS = 1
"""Points for each spike contact of a shot (reference §1.11)."""
BONUS_LIFE_EVERY = 20_000
MAX_LIVES = 6
START_LIVES = 3

SKILL_STEP_WAVES = np.array([1, 3, 5, 7, 9, 11, 13, 15, 17, 20, 22, 24, 26, 28, 31, 33, 36, 40, 44,
                             47, 49, 52, 56, 60, 63, 65, 73, 81], np.int32)
"""The start waves the arcade offers at its skill-step select (`LEVEL`, ALWELG:279-283)."""
SKILL_STEP_BONUS = np.array([0, 6_000, 16_000, 32_000, 54_000, 74_000, 94_000, 114_000, 134_000,
                             152_000, 170_000, 188_000, 208_000, 226_000, 248_000, 266_000,
                             300_000, 340_000, 382_000, 415_000, 439_000, 472_000, 531_000,
                             581_000, 624_000, 656_000, 766_000, 898_000], np.int64)
"""The start bonus of each choice (`BONPTM`, ALWELG:274-277), paid once when the game's first
wave is cleared (the claw passes the far end of the drop)."""


def tube_of_wave(wave: int) -> int:
    """The tube index of a 1-based wave (waves >= 99 use the wave-99 shape here; the arcade
    picks a random shape, reference §1.2)."""
    return int(LEVEL_REMAP[(min(wave, 99) - 1) % 16])
