"""The replay's save format: .npy columns plus a JSON header, written atomically, read back only
after every check has passed.  It knows columns and a header, not the buffer: `ReplayBuffer.save`
and `.load` hand it their columns, layout and counters (no import cycle, no private attribute
read from outside).

A save is a directory: `header.json` (format version, layout, write counts, the sampling
generator's state, and per column its shape, dtype and CRC-32) and one `.npy` file per column,
holding only the filled part of each stream.  It is written to a hidden temporary directory,
fsynced, then renamed into place; an existing save at the same path is swapped out only after the
new one is complete, so a crash leaves either the old save or the new one, never neither.

`load` checks everything (header, layout, each file's shape, dtype, size and checksum) before it
touches the buffer, so a refused save leaves the buffer exactly as it was.  Arrays are read with
`allow_pickle=False`: a save can hold data, never code.
"""

from __future__ import annotations

import json
import os
import shutil
import time
import zlib
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from replay.durable import fsync_path, write_synced
from replay.types import ReplayFormatError

FORMAT_VERSION = 1
HEADER = "header.json"


class Loaded(NamedTuple):
    """A verified save: each column's filled part (memory-mapped), and the counters."""

    arrays: dict[str, np.ndarray]
    filled: int
    write_count: np.ndarray
    episode_start: np.ndarray
    max_priority: float
    rng: np.random.Generator


# -- save ---------------------------------------------------------------------------------------


def save(path: Path, layout: dict[str, Any], columns: dict[str, np.ndarray],
         counters: dict[str, Any]) -> None:
    """Write `columns` ((N, C, ...) each; the first `counters["filled"]` rows of every stream)
    with `layout` and `counters` in the header, to directory `path` (created or atomically
    replaced)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.parent / f".{path.name}.tmp-{os.getpid()}-{time.monotonic_ns()}"
    tmp.mkdir()
    try:
        filled = int(counters["filled"])
        arrays = {name: _write_column(tmp / f"{name}.npy", col, filled)
                  for name, col in columns.items()}
        header = {"format_version": FORMAT_VERSION, **layout, **counters, "arrays": arrays,
                  "written_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
        write_synced(tmp / HEADER, json.dumps(header, indent=1).encode())
        fsync_path(tmp)
        _swap_into_place(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _write_column(file: Path, column: np.ndarray, filled: int) -> dict[str, object]:
    """Write column[:, :filled] as a standard .npy file, stream by stream; return its entry."""
    shape = (column.shape[0], filled, *column.shape[2:])
    header = {"descr": np.lib.format.dtype_to_descr(column.dtype), "fortran_order": False,
              "shape": shape}
    crc = 0
    with open(file, "wb") as f:
        np.lib.format.write_array_header_2_0(f, header)
        for stream in column:
            chunk = np.ascontiguousarray(stream[:filled]).reshape(-1).view(np.uint8)
            crc = zlib.crc32(chunk, crc)
            f.write(chunk)
        f.flush()
        os.fsync(f.fileno())
    return {"shape": list(shape), "dtype": column.dtype.str, "crc32": crc}


def _swap_into_place(tmp: Path, path: Path) -> None:
    """rename(tmp, path); an older save there is moved aside first and removed last."""
    old = None
    if path.exists():
        old = path.parent / f".{path.name}.old-{os.getpid()}-{time.monotonic_ns()}"
        os.rename(path, old)
    os.rename(tmp, path)
    fsync_path(path.parent)
    if old is not None:
        shutil.rmtree(old)


# -- load ---------------------------------------------------------------------------------------


def load(path: Path, layout: dict[str, Any], columns: dict[str, np.ndarray]) -> Loaded:
    """Validate the save at `path` completely against `layout` and the shapes and dtypes of
    `columns` (the loading buffer's); nothing is copied anywhere."""
    header = _read_header(path)
    _check_layout(header, layout)
    filled, write_count, episode_start = _check_counts(
        header, layout["num_envs"], layout["capacity_per_env"])
    rng = _restore_rng(header)
    arrays = {name: _open_column(path, name, header, col, filled) for name, col in columns.items()}
    return Loaded(arrays, filled, write_count, episode_start,
                  float(header.get("max_priority", 1.0)), rng)


def verify(path: Path) -> None:
    """Check the save at `path` on its own, without a buffer to load it into: its header, and
    each column file's shape, dtype, size and checksum against the header.  Raises
    ReplayFormatError naming the first problem; reads every byte, writes nothing."""
    header = _read_header(path)
    arrays = header.get("arrays")
    if not isinstance(arrays, dict) or not arrays:
        raise ReplayFormatError(f"{path / HEADER} lists no columns")
    for name, entry in arrays.items():
        try:
            shape, dtype = list(entry["shape"]), np.dtype(entry["dtype"])
        except (KeyError, TypeError, ValueError) as err:
            raise ReplayFormatError(f"{name}: malformed header entry {entry!r} ({err})") from err
        _checked_column(path / f"{name}.npy", name, entry, shape, dtype)


def _read_header(path: Path) -> dict:
    file = path / HEADER
    if not path.is_dir():
        raise ReplayFormatError(f"no replay save at {path} (not a directory)")
    try:
        header = json.loads(file.read_text())
    except FileNotFoundError:
        raise ReplayFormatError(
            f"{file} is missing: not a replay save, or an incomplete one") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ReplayFormatError(f"{file} is not valid JSON ({err}); the save is corrupt") from err
    if not isinstance(header, dict):
        raise ReplayFormatError(f"{file} must hold a JSON object")
    version = header.get("format_version")
    if version != FORMAT_VERSION:
        raise ReplayFormatError(f"format_version: save has {version!r}, this build reads "
                                f"{FORMAT_VERSION}")
    return header


def _check_layout(header: dict, layout: dict[str, Any]) -> None:
    for field, expected in layout.items():
        if header.get(field) != expected:
            raise ReplayFormatError(f"{field}: the save has {header.get(field)!r}, this buffer "
                                    f"has {expected!r}; load it with a matching configuration")


def _check_counts(header: dict, num_envs: int,
                  capacity_per_env: int) -> tuple[int, np.ndarray, np.ndarray]:
    try:
        write_count = np.asarray(header["write_count"], np.int64)
        episode_start = np.asarray(header["episode_start"], np.uint8)
        filled = int(header["filled"])
    except (KeyError, TypeError, ValueError) as err:
        raise ReplayFormatError(f"header field missing or malformed: {err}") from err
    if write_count.shape != (num_envs,) or (write_count < 0).any():
        raise ReplayFormatError(f"write_count: expected {num_envs} counts >= 0")
    if episode_start.shape != (num_envs,):
        raise ReplayFormatError(f"episode_start: expected {num_envs} flags")
    if filled != min(int(write_count.max(initial=0)), capacity_per_env):
        raise ReplayFormatError(f"filled: {filled} does not match write_count")
    return filled, write_count, episode_start


def _restore_rng(header: dict) -> np.random.Generator:
    rng = np.random.default_rng()
    try:
        rng.bit_generator.state = header["rng_state"]
    except (KeyError, TypeError, ValueError) as err:
        raise ReplayFormatError(
            f"rng_state: cannot restore the sampling generator ({err})") from err
    return rng


def _open_column(path: Path, name: str, header: dict, column: np.ndarray,
                 filled: int) -> np.ndarray:
    """Memory-map one column after checking its shape, dtype, length and checksum against the
    loading buffer's column."""
    entry = header.get("arrays", {}).get(name)
    shape = [column.shape[0], filled, *column.shape[2:]]
    if entry is None or entry.get("shape") != shape or entry.get("dtype") != column.dtype.str:
        raise ReplayFormatError(f"{name}: header describes {entry!r}; this buffer needs shape "
                                f"{shape} and dtype {column.dtype.str}")
    return _checked_column(path / f"{name}.npy", name, entry, shape, column.dtype)


def _checked_column(file: Path, name: str, entry: dict, shape: list[int],
                    dtype: np.dtype) -> np.ndarray:
    """Memory-map `file` after checking it holds `dtype` `shape` whole, with the header's CRC."""
    try:
        with open(file, "rb") as f:
            np.lib.format.read_magic(f)
            file_shape, _, file_dtype = np.lib.format.read_array_header_2_0(f)
            offset = f.tell()
    except (OSError, ValueError) as err:
        raise ReplayFormatError(f"{name}: cannot read {file} ({err})") from err
    if list(file_shape) != shape or file_dtype != dtype:
        raise ReplayFormatError(f"{name}: {file} holds {file_dtype} {list(file_shape)}, "
                                f"expected {dtype} {shape}")
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    actual = file.stat().st_size
    if actual != expected:
        raise ReplayFormatError(f"{name}: {file} is truncated or padded: {actual} bytes, "
                                f"expected {expected}")
    data = np.load(file, mmap_mode="r", allow_pickle=False)
    crc = 0
    for stream in data:
        crc = zlib.crc32(np.ascontiguousarray(stream).reshape(-1).view(np.uint8), crc)
    if crc != entry.get("crc32"):
        raise ReplayFormatError(f"{name}: checksum mismatch in {file}: the save is corrupt")
    return data
