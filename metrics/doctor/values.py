"""Numbers as the doctor reads them from rows and writes them for people: finite or None, and
formatted the way a person reads a dashboard (0.003, 324.6, 998,830)."""

from __future__ import annotations

import math
import numbers
import statistics
from collections.abc import Iterable, Mapping
from typing import Any


def number(value: object) -> float | None:
    """A row value as a float (NaN/inf kept), or None when it is null or not a number."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    return float(value)


def finite(value: object) -> float | None:
    """A row value as a finite float, or None."""
    result = number(value)
    return result if result is not None and math.isfinite(result) else None


def fmt(value: float | None) -> str:
    """A number as a person reads it: 0.003, 324.6, 1779, 998,830."""
    if value is None:
        return "?"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    return f"{value:.4g}"


def rows_text(count: int) -> str:
    return f"{count} row" if count == 1 else f"{count} rows"


def pct(fraction: float) -> str:
    return f"{100 * fraction:.0f}%"


def signed(value: float) -> str:
    return f"+{fmt(value)}" if value > 0 else fmt(value)


def round_sig(value: float, digits: int = 3) -> float:
    return float(f"{value:.{digits}g}")


def clean(evidence: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-ready evidence: ints and finite floats as they are, anything else None."""
    return {
        key: value if isinstance(value, int) and not isinstance(value, bool) else finite(value)
        for key, value in evidence.items()
    }


def median(values: Iterable[float | None]) -> float | None:
    """The median of the values present, None when there are none."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def flatten(settings: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    """Dotted keys from nested sections; a config.json document ({"config": {...}}) is unwrapped."""
    if not prefix and isinstance(settings.get("config"), Mapping):
        settings = settings["config"]
    flat: dict[str, Any] = {}
    for key, value in settings.items():
        if isinstance(value, Mapping):
            flat.update(flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
