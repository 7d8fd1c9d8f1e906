"""numba's on-disk cache for the rules core, keyed on all of the core's sources.

WHY: numba keys a cached function on its own source file only, so after an edit to a helper in
`core_enemies.py` the kernels of `core.py` (which compile that helper in) would silently load
stale machine code.  Importing this module (every core module does, before its first `njit`)
registers a cache locator that stamps the core's functions with a hash of every core source
file, so an edit to any of them recompiles the kernels.  It uses numba's cache-locator list, an
internal hook: if a numba version lacks it, caching falls back to numba's default.
"""

from __future__ import annotations

import hashlib
import os

_HERE = os.path.dirname(os.path.abspath(__file__))
_SOURCES = ("core.py", "core_base.py", "core_cache.py", "core_cam.py", "core_enemies.py",
            "core_flow.py", "core_shots.py", "core_slots.py", "core_spawn.py", "rng.py",
            "state.py")
"""The files whose functions compile into the core's kernels."""


def sources_digest() -> bytes:
    """SHA-256 over the core's source files (name and content), recomputed only when a file's
    modification time or size changed."""
    stamp = tuple((os.stat(p).st_mtime_ns, os.stat(p).st_size) for p in _paths())
    if stamp not in _DIGESTS:
        _DIGESTS[stamp] = _digest()
    return _DIGESTS[stamp]


_DIGESTS: dict[tuple, bytes] = {}


def _paths() -> list[str]:
    return [os.path.join(_HERE, name) for name in _SOURCES]


def _digest() -> bytes:
    digest = hashlib.sha256()
    for name in _SOURCES:
        digest.update(name.encode())
        with open(os.path.join(_HERE, name), "rb") as f:
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
        """In-tree cache for the core's files, stamped with all the core's sources."""

        @classmethod
        def from_function(cls, py_func, py_file):
            path = os.path.abspath(py_file)
            if os.path.dirname(path) != _HERE or os.path.basename(path) not in _SOURCES:
                return None
            return super().from_function(py_func, py_file)

        def get_source_stamp(self):
            return sources_digest()

    if not any(c.__name__ == "CoreSourcesLocator" for c in impl._locator_classes):
        impl._locator_classes.insert(0, CoreSourcesLocator)


_register()
