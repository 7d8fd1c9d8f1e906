"""One random stream per game: xorshift64* in `state.rng` (uint64), seeded by splitmix64.

WHY per game and not numpy's generator: the numba core steps N games in one call, and game i
must play out the same whatever the other games do (the vector env is N single envs by
construction), so every game owns its 64-bit state and every random choice of its rules (the
arcade's POKEY `RANDOM`/`RANDO2`) draws from it in a fixed order.  xorshift64* is a few integer
operations, passes BigCrush in its high 32 bits, and a zero state (its only fixed point) is
avoided by the seeding.

All arithmetic stays in uint64 (numba turns uint64-with-int64 arithmetic into float64, so every
constant here is an explicit `np.uint64`).
"""

from __future__ import annotations

import numba
import numpy as np

from envs.tempest import core_cache  # noqa: F401  (registers the cache stamp first)

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_STAR = np.uint64(0x2545F4914F6CDD1D)
_S30, _S27, _S31 = np.uint64(30), np.uint64(27), np.uint64(31)
_S12, _S25, _S32 = np.uint64(12), np.uint64(25), np.uint64(32)
_SIGN = np.uint64(1) << np.uint64(63)
_NONZERO = np.uint64(0x853C49E6748FEA9B)
"""Substitute state if splitmix64 ever yields 0 (xorshift's fixed point)."""


@numba.njit(cache=True, _nrt=False)
def splitmix64(x: np.uint64) -> np.uint64:
    """The splitmix64 output for counter value `x` (seed expansion)."""
    z = x + _GOLDEN
    z = (z ^ (z >> _S30)) * _MIX1
    z = (z ^ (z >> _S27)) * _MIX2
    return z ^ (z >> _S31)


@numba.njit(cache=True, _nrt=False)
def seed_stream(rng: np.ndarray, g: int, seed: int) -> None:
    """Sets game g's generator from a 64-bit seed (any integer, negatives included)."""
    bits = np.uint64(seed & 0x7FFFFFFFFFFFFFFF)
    if seed < 0:
        bits |= _SIGN
    x = splitmix64(bits)
    rng[g] = x if x != np.uint64(0) else _NONZERO


@numba.njit(cache=True, _nrt=False)
def next_u32(rng: np.ndarray, g: int) -> int:
    """The next 32 random bits of game g (xorshift64*, high half of the product)."""
    x = rng[g]
    x ^= x >> _S12
    x ^= x << _S25
    x ^= x >> _S27
    rng[g] = x
    return int((x * _STAR) >> _S32)


@numba.njit(cache=True, _nrt=False)
def rand8(rng: np.ndarray, g: int) -> int:
    """A random byte 0..255 (the arcade's POKEY `RANDOM` read)."""
    return next_u32(rng, g) >> 24


@numba.njit(cache=True, _nrt=False)
def rand_below(rng: np.ndarray, g: int, n: int) -> int:
    """A uniform integer 0..n-1 (multiply-shift, no modulo bias worth measuring for small n)."""
    return (next_u32(rng, g) * n) >> 32


@numba.njit(cache=True, _nrt=False)
def bernoulli(rng: np.ndarray, g: int, p: float) -> bool:
    """True with probability p."""
    return next_u32(rng, g) < p * 4294967296.0
