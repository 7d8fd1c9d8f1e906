"""How the dashboard writes numbers: one place, so a tile, the header and the event log agree.

Why: a training run's numbers span ten orders of magnitude (a loss of 5e-3, 40M frames); a fixed
format would show "0.00" for the loss or "40000000.000" for the frames.  A missing value (null in
the row, or no row yet) is an em dash, never 0, so "not measured" cannot pass for "zero".
"""

from __future__ import annotations

MISSING = "—"


def number(value: float | None) -> str:
    """About four significant figures, thousands separated; an em dash for None."""
    if value is None:
        return MISSING
    size = abs(value)
    if size >= 1e6:
        return si(value)
    if size >= 1000:
        return f"{value:,.0f}"
    if size >= 10:
        return f"{value:.1f}"
    if size >= 0.01:
        return f"{value:.3f}"
    if size == 0:
        return "0"
    return f"{value:.2e}"


def si(value: float | None, digits: int = 2) -> str:
    """1566368 -> "1.57M"; values below a thousand as they are."""
    if value is None:
        return MISSING
    for scale, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.{digits}f}{suffix}"
    return f"{value:g}"


def signed(value: float | None) -> str:
    """A number with its sign always shown ("+1,208", "-3.20")."""
    if value is None:
        return MISSING
    text = number(value)
    return text if text.startswith("-") else "+" + text


def percent(fraction: float | None, digits: int = 1) -> str:
    """0.2182 -> "21.8%"."""
    return MISSING if fraction is None else f"{100 * fraction:.{digits}f}%"


def integer(value: float | None) -> str:
    """6428.02 -> "6,428"."""
    return MISSING if value is None else f"{value:,.0f}"


def duration(seconds: float | None) -> str:
    """Run time: "45s", "3m52s", "1h02m", "2d03h"."""
    if seconds is None:
        return MISSING
    whole = max(0, int(seconds))
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours:02d}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


SPARK_LEVELS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float] | tuple[float, ...], width: int) -> str:
    """The last `width` values as block characters, lowest = ▁, highest = █ (flat: all ▄)."""
    if width <= 0 or not values:
        return ""
    tail = list(values)[-width:]
    low, high = min(tail), max(tail)
    if high == low:
        return SPARK_LEVELS[3] * len(tail)
    top = len(SPARK_LEVELS) - 1
    return "".join(SPARK_LEVELS[round((v - low) / (high - low) * top)] for v in tail)
