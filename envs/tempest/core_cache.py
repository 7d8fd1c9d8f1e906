"""numba's on-disk cache for the Tempest simulator's kernels, keyed on all of their sources.

WHY: numba keys a cached function on its own source file only, so after an edit to a helper in
`core_enemies.py` the kernels of `core.py` (which compile that helper in) would silently load
stale machine code (likewise the observation's kernels, which compile in the block starts of
`feature_layout.py`, and the attract AI's, which compile in the expert's lane helpers).
Importing this module (every module listed here does, before its first `njit`) registers a
cache locator that stamps those files' functions with a hash of all of them, so an edit to any
one recompiles every kernel that might have compiled it in.  It uses numba's cache-locator
list, an internal hook: if a numba version lacks it, caching falls back to numba's default.
"""

from __future__ import annotations

import hashlib
import os

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SOURCES = tuple(f"envs/tempest/{name}" for name in (
    "core.py", "core_base.py", "core_cache.py", "core_cam.py", "core_enemies.py", "core_flow.py",
    "core_kinds.py", "core_motion.py", "core_shots.py", "core_slots.py", "core_spawn.py",
    "feature_layout.py", "features.py", "rng.py", "skill.py", "state.py",
)) + ("expert/attract_rules.py", "expert/tempest_rules.py")
"""The files (from the project's root) whose functions and constants compile into the
simulator's kernels, its observation's and its experts'."""


def sources_digest() -> bytes:
    """SHA-256 over the listed source files (name and content), recomputed only when a file's
    modification time or size changed."""
    stamp = tuple((os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in _paths())
    if stamp not in _DIGESTS:
        _DIGESTS[stamp] = _digest()
    return _DIGESTS[stamp]


_DIGESTS: dict[tuple, bytes] = {}


def _paths() -> list[str]:
    return [os.path.join(_ROOT, name) for name in _SOURCES]


def _digest() -> bytes:
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update(name.encode())
        with open(os.path.join(_ROOT, name), "rb") as f:
            digest.update(f.read())
    return digest.digest()


def _register() -> None:
    try:
        from numba.core import caching
        base = caching.InTreeCacheLocator
        impl = caching.CacheImpl
    except (ImportError, AttributeError):  # pragma: no cover - numba without the hook
        return

    class CoreSourcesLocator(base):
        """In-tree cache for the listed files, stamped with all of their sources."""

        @classmethod
        def from_function(cls, py_func, py_file):
            path = os.path.relpath(os.path.abspath(py_file), _ROOT).replace(os.sep, "/")
            if path not in _SOURCES:
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return sources_digest()

    if not any(c.__name__ == "CoreSourcesLocator" for c in impl._locator_classes):
        impl._locator_classes.insert(0, CoreSourcesLocator)


_register()
