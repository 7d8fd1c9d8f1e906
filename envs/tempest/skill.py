"""Per-wave skill parameters (Medium difficulty): the arcade's `CONTOUR` tables, evaluated once.

WHY a transcription and an interpreter instead of a pasted 99-row table: the reference
(`tempest-mechanics.md` §1.12) lists only some rows.  The original source encodes every parameter
as a short list of wave-range records (`ALWELG.MAC` "SKILL CONTOUR TABLES", read from the public
repository historicalsource/tempest; the byte-exact ROM disassembly davepl/tempest_ai
`Code/tempest.asm`, "shot_holdoff_table" .. "flipper_move_table", assembles the same bytes).
Transcribing those ~90 records and evaluating them exactly as `CONTOUR` does gives all 99 waves
from the original data; nothing here is inferred.

How `CONTOUR` works (`ALWELG` CONTOUR/DOTYPE/DONEXT/DOTA/DOTB/DOTR):

* `WTABLE` pairs a record list with the RAM byte it sets.  It is walked from its LAST entry to its
  first, so `TINVIN` (flipper speed, `WINVIL`) is set before `TCHARIN`/`TSPIIN`, which add to it.
* A record is (type, first wave, last wave, parameters); the first record whose range holds the
  wave decides the byte (8-bit arithmetic).  `TE` ends a list: waves in no range get 0.
  T1: one byte for the range.  TZ: one byte per wave.  TZANDF: TZ over ((wave-1) & 15) + 1.
  TA: p0 + (wave-first) * p1.  TB: p0 + the current `WINVIL`.  TR: p0 / p1 on even / odd
  (wave-first).
* The speed bytes then go through `TIMES8`, which forces the sign extension to 0xFF: a byte b is
  the speed b - 256 (always toward the rim), times 8 in 8.8 fixed point.  So every speed here is
  `(256 - b) * 8`, a multiple of 8 (1.375 depth units/frame = 44 * 8 = 352).

Radix: the MAC source is hex unless a number ends in '.', so `WSPIMX`'s `.BYTE T1,35,39.,1` is the
range 0x35..39 = 53..39, which is empty (the ROM disassembly has `.byte 2,53,39,1`).  The arcade
therefore has spiker max 0 (with min 1) on waves 35-39; reference §1.12 misreads it as decimal and
prints SP 1/1 for waves 36 and 39.  We follow the ROM.  With max 0 the spawner never opens a spiker
slot (`NYMCHA` needs an opening before it looks at the min), so min > max there is harmless.

Waves >= 99: the arcade evaluates a random wave 65-96 on each `CONTOUR` call; row 99 here is the
table evaluated at wave 99 (what reference §1.12 lists), and the simulator does the randomizing.
Difficulty Easy/Hard adjustments are not modelled (Medium is the MAME default).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from envs.tempest.state import FLIPPER, FUSEBALL, PULSAR, SPIKER, TANKER, TYPE_NAMES
from envs.tempest.tables import LEVEL_REMAP, TUBE_NAMES, TUBE_OPEN

CAM_NOJUMP, CAM_MOVJMP, CAM_SPIRAL, CAM_SPIRCH, CAM_COWJM2, CAM_AVOIDR = 0, 1, 2, 3, 4, 5
CAM_NAMES = ("NOJUMP", "MOVJMP", "SPIRAL", "SPIRCH", "COWJM2", "AVOIDR")
"""Flipper cam programs (reference §1.7); ROM offsets into CAM are 7, 11, 25, 36, 83, 135."""
CARGO_FLIPPERS, CARGO_PULSARS, CARGO_FUSEBALLS = 1, 2, 3
CARGO_NAMES = {CARGO_FLIPPERS: "FL", CARGO_PULSARS: "PU", CARGO_FUSEBALLS: "FU"}
PULSAR_POTENT_SPEED = 352
"""1.375 depth units/frame in 8.8 (0xFEA0 magnitude), reference §1.7."""
MAX_WAVE = 99


class _Record(NamedTuple):
    kind: str
    first: int
    last: int
    params: tuple[int, ...]


def _t1(first: int, last: int, value: int) -> _Record:
    return _Record("T1", first, last, (value,))


def _tz(first: int, last: int, *values: int) -> _Record:
    return _Record("TZ", first, last, values)


def _tzandf(first: int, last: int, *values: int) -> _Record:
    return _Record("TZANDF", first, last, values)


def _ta(first: int, last: int, start: int, step: int) -> _Record:
    return _Record("TA", first, last, (start, step))


def _tb(first: int, last: int, add: int) -> _Record:
    return _Record("TB", first, last, (add,))


def _tr(first: int, last: int, even: int, odd: int) -> _Record:
    return _Record("TR", first, last, (even, odd))


_TE = _Record("TE", 0, 0, ())

_FL, _PU, _FU = CARGO_FLIPPERS, CARGO_PULSARS, CARGO_FUSEBALLS
_PN, _PC = 40, 20  # ALWELG `PN=40.`, `PC=20.` (pulsar chase delays)
_FIRE_YES = 0x40  # ZFIRYE

# WTABLE in source order: (RAM byte, records).  Wave bounds and values are decimal here; the
# comments keep the source's spelling where its radix matters.
_WTABLE: tuple[tuple[str, tuple[_Record, ...]], ...] = (
    ("WPULFI", (_t1(60, 99, _FIRE_YES), _TE)),
    ("WTTFRA", (_t1(1, 20, 2), _t1(21, 32, 2), _t1(33, 99, 3))),
    ("WCHARFR", (_ta(1, 20, 80, -3), _t1(21, 64, 20), _t1(65, 99, 10))),
    ("WCHAMX", (_tz(1, 9, 1, 1, 1, 2, 3, 2, 2, 3, 3), _t1(10, 64, 2), _t1(65, 99, 3))),
    ("WFLMIN", (_t1(1, 4, 1), _t1(5, 99, 0), _TE)),
    ("WFLMAX", (_t1(1, 4, 4), _t1(5, 16, 5), _t1(17, 19, 3), _t1(20, 25, 4), _t1(26, 99, 5),
                _TE)),
    ("WPUMIN", (_t1(17, 32, 2), _t1(33, 99, 1), _TE)),
    ("WPUMAX", (_tz(17, 32, 5, 3, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 2, 3, 4, 2), _t1(33, 99, 3),
                _TE)),
    ("WTAMIN", (_tz(1, 4, 0, 0, 1, 0), _t1(5, 16, 1), _t1(17, 32, 1), _t1(33, 39, 1),
                _t1(40, 99, 1), _TE)),
    ("WTAMAX", (_tz(1, 5, 0, 0, 1, 0, 1), _t1(6, 16, 2), _t1(17, 26, 1), _t1(27, 32, 1),
                _t1(33, 44, 2), _t1(45, 99, 3), _TE)),
    ("WSPMIN", (_tz(1, 4, 0, 0, 0, 1), _t1(5, 16, 2), _t1(17, 19, 0), _t1(20, 32, 1),
                _t1(35, 39, 1), _t1(44, 99, 1), _TE)),  # source `35.` (decimal)
    ("WSPMAX", (_tz(1, 6, 0, 0, 0, 2, 3, 4), _t1(7, 10, 4), _t1(11, 16, 3), _t1(20, 25, 2),
                _tz(26, 32, 1, 2, 2, 2, 1, 1, 2),
                _t1(0x35, 39, 1),  # source `T1,35,39.,1`: undotted 35 is hex -> empty range
                _t1(43, 99, 1), _TE)),
    ("WFUMIN", (_t1(11, 16, 1), _t1(22, 25, 1), _t1(27, 99, 1), _TE)),
    ("WFUMAX", (_t1(11, 16, 1), _t1(22, 25, 1), _t1(27, 32, 1), _t1(33, 39, 4), _t1(40, 99, 3),
                _TE)),
    ("PULPOT", (_t1(1, 32, 0xA0), _t1(33, 64, 0xA0), _t1(65, 99, 0xC0))),
    ("PULTIM", (_t1(1, 48, 4), _t1(49, 64, 6), _t1(65, 99, 8))),
    ("WTACAR2", (_t1(1, 32, _FL), _t1(33, 40, _FU), _t1(41, 99, _PU))),
    ("WTACAR3", (_t1(1, 48, _FL), _t1(49, 99, _FU))),
    # TINVMX -> WINVMX is 6 on every wave (7 slots); state.ENEMY_SLOTS covers it.
    ("NWNYMC", (_tz(1, 16, 10, 12, 15, 17, 20, 22, 20, 24, 27, 29, 27, 24, 26, 28, 30, 27),
                _ta(17, 26, 20, 1), _t1(27, 39, 27), _ta(40, 48, 29, 1), _ta(49, 64, 31, 1),
                _ta(65, 80, 35, 1), _ta(81, 99, 43, 1))),
    # TELIHI lists 20 bytes; TZANDF only ever reads the first 16.
    ("NWTELI", (_tzandf(1, 99, 0, 0, 0, 0xE0, 0xD8, 0xD4, 0xD0, 0xC8, 0xC0, 0xB8, 0xB0, 0xA8,
                        0xA0, 0xA0, 0xA0, 0xA8, 0xA0, 0x9C, 0x9A, 0x98),)),
    ("PUCHDE", (_tz(17, 18, _PN, _PC), _tr(19, 32, _PC, _PN), _ta(33, 39, 20, -1),
                _tr(40, 99, 20, 10), _TE)),
    ("WFLICAM", (_tzandf(1, 99, CAM_NOJUMP, CAM_MOVJMP, CAM_SPIRAL, CAM_SPIRCH, CAM_COWJM2,
                         CAM_MOVJMP, CAM_SPIRCH, CAM_SPIRAL, CAM_COWJM2, CAM_AVOIDR, CAM_SPIRCH,
                         CAM_SPIRAL, CAM_COWJM2, CAM_NOJUMP, CAM_AVOIDR, CAM_SPIRCH),)),
    ("WINVIL_SPIKER", (_tb(1, 20, 0), _tb(21, 32, -48), _tb(33, 48, -40), _tb(49, 99, -48))),
    ("WCHARL", (_tb(1, 99, -64),)),
    ("WINVIL", (_ta(1, 8, -44, -5),
                _tz(9, 16, -81, -84, -84, -84, -88, -92, -96, -96),
                _ta(17, 25, -81, -3), _ta(26, 32, -99, -3), _ta(33, 39, -108, -3),
                _ta(40, 48, -110, -1), _ta(49, 64, -120, -1), _tr(65, 99, -160, -191))),
    ("WFUSCH", (_tr(17, 32, 0, 0x40), _tr(33, 48, 0x40, 0xC0), _t1(49, 99, 0xC0), _TE)),
    ("WFUFRQ", (_t1(1, 16, 220), _t1(17, 39, 192), _ta(40, 64, 192, 1), _t1(65, 99, 230))),
)


def _record_byte(record: _Record, wave: int, winvil: int) -> int:
    """The byte one record gives for a wave inside its range (DOTYPE's seven cases)."""
    offset = wave - record.first
    p = record.params
    if record.kind == "T1":
        value = p[0]
    elif record.kind == "TZ":
        value = p[offset]
    elif record.kind == "TZANDF":
        value = p[((wave - 1) & 15) + 1 - record.first]
    elif record.kind == "TA":
        value = p[0] + offset * p[1]
    elif record.kind == "TB":
        value = p[0] + winvil
    else:  # TR
        value = p[offset & 1]
    return value & 0xFF


def _table_byte(records: tuple[_Record, ...], wave: int, winvil: int) -> int:
    """CONTOUR's search: the first record whose range holds the wave; TE (end of list) gives 0."""
    for record in records:
        if record.kind == "TE":
            return 0
        if record.first <= wave <= record.last:
            return _record_byte(record, wave, winvil)
    raise ValueError(f"skill table without TE has no record for wave {wave}")


def contour(wave: int) -> dict[str, int]:
    """The raw RAM bytes `CONTOUR` sets for a wave (1..99), walking WTABLE last entry first."""
    raw: dict[str, int] = {}
    for name, records in reversed(_WTABLE):
        raw[name] = _table_byte(records, wave, raw.get("WINVIL", 0))
    return raw


def speed_88(speed_byte: int) -> int:
    """TIMES8 with its forced 0xFF sign extension: byte b is b - 256 depth/32 per frame, i.e.
    (256 - b) * 8 in 8.8 fixed point toward the rim (returned positive)."""
    return (256 - speed_byte) * 8


def drop_acceleration(wave: int) -> int:
    """MOVCUD's per-frame drop acceleration (8.8): 0x20 + min((CURWAV * 4) & 0xFF, 0x30).

    The 8-bit ASL overflows for CURWAV 64..75, so waves 65-76 accelerate less (0x20 + 0..44) than
    the reference's min(4 * (wave - 1), 0x30) suggests (ROM `tempest.asm` "branch for 1-11 and
    64-74")."""
    return 0x20 + min((4 * (wave - 1)) & 0xFF, 0x30)


class WaveSkill(NamedTuple):
    """Arrays indexed by the 1-based wave; index 0 is a copy of wave 1 (never used by the game)."""

    enemies: np.ndarray
    """int32 (100,): NYMCOU, enemies in the wave's pending queue (NWNYMC)."""
    spike_start: np.ndarray
    """int32 (100,): pre-seeded spike tip LINEY for all 16 lanes, 0 = none (NWTELI)."""
    flipper_speed: np.ndarray
    """int32 (100,): flipper/tanker climb speed, 8.8 depth units per frame, positive."""
    spiker_speed: np.ndarray
    """int32 (100,): spiker speed, 8.8."""
    fuse_speed: np.ndarray
    """int32 (100,): fuseball speed, 8.8 (2x flipper)."""
    eshot_speed: np.ndarray
    """int32 (100,): enemy shot speed toward the rim, 8.8 (3.375 -> 864)."""
    max_eshots: np.ndarray
    """int32 (100,): usable enemy-shot slots (WCHAMX+1), 2..4."""
    fire_holdoff: np.ndarray
    """int32 (100,): WCHARFR frames between an enemy's shots."""
    type_min: np.ndarray
    """int32 (100, 5): on-screen minimum per type, columns FLIPPER, PULSAR, TANKER, SPIKER,
    FUSEBALL.  Waves 35-39 have spiker min 1 > max 0 (ROM typo, see the module docstring)."""
    type_max: np.ndarray
    """int32 (100, 5): on-screen maximum per type, same columns."""
    flipper_cam: np.ndarray
    """int32 (100,): CAM_* code (CAMWAV[(wave-1)%16], reference §1.7)."""
    top_flip_rate: np.ndarray
    """int32 (100,): WTTFRA, flip steps per frame at the rim (2 for waves 1-32, 3 from 33)."""
    pulsar_chase_delay: np.ndarray
    """int32 (100,): PUCHDE frames."""
    pulsar_potent: np.ndarray
    """int32 (100,): PULPOT integer depth (0xA0, 0xC0 from wave 65)."""
    pulse_step: np.ndarray
    """int32 (100,): PULTIM (4; 6 for waves 49-64; 8 from 65)."""
    fuse_chase: np.ndarray
    """int32 (100,): WFUSCH flags (0x40 chase in tube, 0x80 chase at rim)."""
    fuse_freq: np.ndarray
    """int32 (100,): WFUFRQ, lateral move when rand8 >= this."""
    pulsars_fire: np.ndarray
    """int32 (100,): 0/1 (wave >= 60, WPULFI)."""
    tanker_cargo: np.ndarray
    """int32 (100, 4): WTACAR[0..3] as CARGO_* codes."""
    drop_accel: np.ndarray
    """int32 (100,): drop acceleration, 8.8 per frame^2 (`drop_acceleration`)."""
    tube: np.ndarray
    """int32 (100,): tube index = tables.LEVEL_REMAP[(wave-1) % 16]."""
    is_open: np.ndarray
    """int32 (100,): tables.TUBE_OPEN[tube]."""


_TYPE_MIN_BYTES = {FLIPPER: "WFLMIN", PULSAR: "WPUMIN", TANKER: "WTAMIN", SPIKER: "WSPMIN",
                   FUSEBALL: "WFUMIN"}
_TYPE_MAX_BYTES = {FLIPPER: "WFLMAX", PULSAR: "WPUMAX", TANKER: "WTAMAX", SPIKER: "WSPMAX",
                   FUSEBALL: "WFUMAX"}


def _wave_row(wave: int) -> dict[str, object]:
    """One wave's WaveSkill values from the CONTOUR bytes (plus CONTOUR's fixed tail:
    fuse = 2x flipper speed, WTACAR[0..1] = flippers)."""
    raw = contour(wave)
    flipper = speed_88(raw["WINVIL"])
    tube = int(LEVEL_REMAP[(wave - 1) % 16])
    return {
        "enemies": raw["NWNYMC"],
        "spike_start": raw["NWTELI"],
        "flipper_speed": flipper,
        "spiker_speed": speed_88(raw["WINVIL_SPIKER"]),
        "fuse_speed": 2 * flipper,
        "eshot_speed": speed_88(raw["WCHARL"]),
        "max_eshots": raw["WCHAMX"] + 1,
        "fire_holdoff": raw["WCHARFR"],
        "type_min": [raw[_TYPE_MIN_BYTES[t]] for t in range(5)],
        "type_max": [raw[_TYPE_MAX_BYTES[t]] for t in range(5)],
        "flipper_cam": raw["WFLICAM"],
        "top_flip_rate": raw["WTTFRA"],
        "pulsar_chase_delay": raw["PUCHDE"],
        "pulsar_potent": raw["PULPOT"],
        "pulse_step": raw["PULTIM"],
        "fuse_chase": raw["WFUSCH"],
        "fuse_freq": raw["WFUFRQ"],
        "pulsars_fire": int(raw["WPULFI"] != 0),
        "tanker_cargo": [CARGO_FLIPPERS, CARGO_FLIPPERS, raw["WTACAR2"], raw["WTACAR3"]],
        "drop_accel": drop_acceleration(wave),
        "tube": tube,
        "is_open": int(TUBE_OPEN[tube]),
    }


def build_skill_table() -> WaveSkill:
    """Evaluate the CONTOUR tables for waves 1..99 into int32 arrays (row 0 = row 1)."""
    rows = [_wave_row(wave) for wave in range(1, MAX_WAVE + 1)]
    rows.insert(0, rows[0])
    return WaveSkill(**{name: np.array([row[name] for row in rows], np.int32)
                        for name in WaveSkill._fields})


SKILL: WaveSkill = build_skill_table()


def describe_wave(wave: int) -> dict[str, object]:
    """One row as readable Python values (for docs, tests and debugging): speeds as floats in
    depth units per frame, the cam and cargo as names, the type limits as {type: (min, max)}."""
    row: dict[str, object] = {"wave": wave, "shape": TUBE_NAMES[int(SKILL.tube[wave])]}
    for name in WaveSkill._fields:
        value = getattr(SKILL, name)[wave]
        row[name] = tuple(int(v) for v in value) if value.ndim else int(value)
    for name in ("flipper_speed", "spiker_speed", "fuse_speed", "eshot_speed", "drop_accel"):
        row[name] = int(row[name]) / 256
    row["flipper_cam"] = CAM_NAMES[int(row["flipper_cam"])]
    row["tanker_cargo"] = tuple(CARGO_NAMES[c] for c in row["tanker_cargo"])
    row["type_limits"] = {TYPE_NAMES[t]: (row["type_min"][t], row["type_max"][t])
                          for t in range(5)}
    del row["type_min"], row["type_max"]
    return row
