"""The pending queue ("nymphs") and the choice of what comes out of it.

`init_pending` is `ININYM`: each pending enemy i gets a random lane and the countdown
((i << 4) | lane) & 0xFF (0x0F if that is 0), so one enemy falls due about every 16 frames.
`tick_pending` is `MOVNYM`, once per play frame, slots 63 down to 0:

* countdowns stop while 7 enemies are active or a superzap runs, and from the first failed
  entry of the frame on;
* while a countdown is >= 0x40 its lane turns one lane every other frame;
* in 0x20..0x3F its lane is reserved: a countdown reaching 0x3F in a lane reserved this frame
  goes back to 0x40 and keeps turning, so two enemies do not enter the same lane at once.
  Approximation: the arcade keeps the reservations in one byte (`$014F`, 8 bits for 16 lanes),
  here every lane has its own bit;
* at 0 the enemy enters at depth 0xF0 (`CONYMP`); if no type or no slot is available it waits
  a frame.

`choose_type` is `NYMCHA` (reference §1.6, with the arcade's 8-bit arithmetic: an opening that
the "2 per tanker cargo" rule drives below zero wraps to a large value and is then capped to the
free slots, so it reads as open).
"""

from __future__ import annotations

import numba
import numpy as np

from envs.tempest import (
    core_cache,  # noqa: F401  (registers the cache stamp first)
    rng,
)
from envs.tempest.core_base import ACTIVE_CAP, live_enemies
from envs.tempest.core_slots import cam_of, can_fire_of, place_enemy
from envs.tempest.skill import CARGO_FUSEBALLS
from envs.tempest.state import (
    ENEMY_SLOTS,
    ENEMY_TYPES,
    FAR_DEPTH,
    FUSEBALL,
    NO_ENEMY,
    PENDING_SLOTS,
    SPIKER,
    TANKER,
)

COUNT, OPENING = 0, 8
"""Offsets of NYMCHA's per-type counts and openings in the caller's int32 scratch array
(kernels touching the state must not allocate: numba then stops pruning the reference counts
of the state's ~80 arrays, which costs about a microsecond per call)."""
SCRATCH_SIZE = 16
LONG_SPIKE = 0xCC
"""NYMCHA step 4: a tanker instead of a spiker when the lane's spike tip is above this."""


@numba.njit(cache=True, _nrt=False)
def init_pending(s, g: int) -> None:
    """ININYM: fresh lanes and countdowns for the `pending` enemies."""
    for x in range(PENDING_SLOTS):
        s.pend_timer[g, x] = 0
        s.pend_lane[g, x] = 0
    for x in range(s.pending[g] - 1, -1, -1):
        lane = rng.rand8(s.rng, g) & 15
        s.pend_lane[g, x] = lane
        countdown = ((x << 4) | lane) & 0xFF
        s.pend_timer[g, x] = countdown if countdown != 0 else 0x0F


@numba.njit(cache=True, _nrt=False)
def _openings(s, k, g: int, sw: int, scratch: np.ndarray) -> None:
    """NYMCHA step 1 in 8-bit arithmetic: per type max - count (0 if over), minus 2 per live
    tanker carrying it, capped (unsigned) at the free slots.  Counts go to scratch[COUNT + t],
    openings to scratch[OPENING + t]."""
    for t in range(ENEMY_TYPES):
        scratch[COUNT + t] = 0
    for e in range(ENEMY_SLOTS):
        if s.en_type[g, e] != NO_ENEMY:
            scratch[COUNT + s.en_type[g, e]] += 1
    free = ENEMY_SLOTS
    for t in range(ENEMY_TYPES):
        scratch[OPENING + t] = max(k.type_max[sw, t] - scratch[COUNT + t], 0)
        free -= scratch[COUNT + t]
    for e in range(ENEMY_SLOTS):
        cargo = s.en_cargo[g, e]
        if s.en_type[g, e] != NO_ENEMY and cargo != 0:
            t = FUSEBALL if cargo == CARGO_FUSEBALLS else cargo - 1
            scratch[OPENING + t] = (scratch[OPENING + t] - 2) & 0xFF
    for t in range(ENEMY_TYPES):
        if free < scratch[OPENING + t]:
            scratch[OPENING + t] = free


@numba.njit(cache=True, _nrt=False)
def _tanker_cargo(s, k, g: int, sw: int, scratch: np.ndarray) -> int:
    """NEWTAN: from a random WTACAR index (cycling down), the first cargo whose type has an
    opening; 0 if none."""
    index = rng.rand8(s.rng, g) & 3
    for _ in range(4):
        index = (index - 1) & 3
        cargo = k.tanker_cargo[sw, index]
        t = FUSEBALL if cargo == CARGO_FUSEBALLS else cargo - 1
        if scratch[OPENING + t] != 0:
            return cargo
    return 0


@numba.njit(cache=True, _nrt=False)
def _try_type(s, k, g: int, sw: int, t: int, scratch: np.ndarray) -> int:
    """Whether type t can be made (a tanker needs a cargo with an opening): its cargo code for a
    tanker, 1 for another type, 0 if not."""
    if t == TANKER:
        return _tanker_cargo(s, k, g, sw, scratch)
    return 1


@numba.njit(cache=True, _nrt=False)
def choose_type(s, k, g: int, sw: int, lane: int,  # noqa: C901 - NYMCHA's type rules
                scratch: np.ndarray) -> tuple[int, int]:
    """NYMCHA: (type, tanker cargo) of the enemy entering in `lane`, type -1 if none."""
    _openings(s, k, g, sw, scratch)
    open_types = 0
    for t in range(ENEMY_TYPES):
        if scratch[OPENING + t] != 0:
            open_types += 1
    if open_types == 0:
        return -1, 0
    if open_types == 1:
        for t in range(ENEMY_TYPES - 1, -1, -1):
            if scratch[OPENING + t] != 0 and k.type_min[sw, t] != 0:
                made = _try_type(s, k, g, sw, t, scratch)
                if made:
                    return t, made if t == TANKER else 0
        return -1, 0
    for t in range(ENEMY_TYPES - 1, -1, -1):
        if scratch[OPENING + t] != 0 and scratch[COUNT + t] < k.type_min[sw, t]:
            made = _try_type(s, k, g, sw, t, scratch)
            if made:
                return t, made if t == TANKER else 0
    if scratch[OPENING + SPIKER] != 0 and scratch[OPENING + TANKER] != 0:
        tip = s.spike[g, lane] if s.spike[g, lane] != 0 else 0xFF
        t = SPIKER if tip >= LONG_SPIKE else TANKER
        made = _try_type(s, k, g, sw, t, scratch)
        if made:
            return t, made if t == TANKER else 0
    t = (rng.rand8(s.rng, g) & 3) + 1
    for _ in range(5):
        if k.type_min[sw, t] != 0 and scratch[OPENING + t] != 0:
            made = _try_type(s, k, g, sw, t, scratch)
            if made:
                return t, made if t == TANKER else 0
        t = t - 1 if t > 0 else ENEMY_TYPES - 1
    return -1, 0


@numba.njit(cache=True, _nrt=False)
def _enter(s, k, g: int, sw: int, lane: int, scratch: np.ndarray) -> bool:
    """CONYMP: the due enemy enters at the far end, if a type and a slot are available."""
    etype, cargo = choose_type(s, k, g, sw, lane, scratch)
    if etype < 0:
        return False
    fire = can_fire_of(k, sw, etype, False)
    cam = cam_of(k, sw, etype, False)
    return place_enemy(s, k, g, FAR_DEPTH, lane, etype, fire, cargo, cam, 0) >= 0


@numba.njit(cache=True, _nrt=False)
def tick_pending(s, k, g: int, scratch: np.ndarray) -> None:
    """MOVNYM (module docstring)."""
    sw = s.skill_wave[g]
    frozen = live_enemies(s, g) >= ACTIVE_CAP or s.zap_timer[g] != 0
    turn = (s.frame[g] & 1) == 0
    reserved = 0
    for x in range(PENDING_SLOTS - 1, -1, -1):
        countdown = s.pend_timer[g, x]
        if countdown == 0:
            continue
        lane = s.pend_lane[g, x]
        if not frozen:
            countdown -= 1
            if countdown == 0:
                if _enter(s, k, g, sw, lane, scratch):
                    s.pending[g] -= 1
                else:
                    frozen = True
                    countdown = 1
            elif countdown == 0x3F and (reserved >> lane) & 1:
                countdown = 0x40
            s.pend_timer[g, x] = countdown
        if countdown >= 0x40:
            if turn:
                s.pend_lane[g, x] = (lane + 1) & 15
        elif countdown >= 0x20:
            reserved |= 1 << lane
