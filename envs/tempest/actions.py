"""Action sets: which (fire, zap, spinner) each discrete action index means.

The default "joint" set is the 44 actions of the system this replaces (reference §2.5):
`fz = 2*fire + zap` (0 none, 1 zap, 2 fire, 3 fire+zap), `sp` an index into the 11 spinner levels
(0, 12, 9, 6, 3, 1, -1, -3, -6, -9, -12), `action = fz*11 + sp`.  The spinner value is written
to TBHD: positive moves toward lower lanes, in 1/16ths of a lane per frame.

The "compact" set keeps what a player needs and nothing the expert never does: stay or move
slowly (±3) or fast (±12), with and without fire, plus one zap (while firing and staying); 11
actions make exploration cheaper on small budgets.
"""

from __future__ import annotations

import numpy as np

SPINNER_LEVELS = np.array([0, 12, 9, 6, 3, 1, -1, -3, -6, -9, -12], np.int32)
"""spinner_command_levels of the system this replaces, indexed 0..10."""


def joint_action(fire: int, zap: int, spinner_index: int) -> int:
    """The joint action index of (fire, zap, spinner level index)."""
    return (2 * fire + zap) * len(SPINNER_LEVELS) + spinner_index


def _joint_table() -> np.ndarray:
    rows = []
    for fz in range(4):
        for sp in range(len(SPINNER_LEVELS)):
            rows.append((fz >> 1, fz & 1, SPINNER_LEVELS[sp]))
    return np.array(rows, np.int32)


def _compact_table() -> np.ndarray:
    rows = [(fire, 0, spin) for fire in (0, 1) for spin in (0, 12, 3, -3, -12)]
    rows.append((1, 1, 0))
    return np.array(rows, np.int32)


ACTION_SETS = {"joint": _joint_table(), "compact": _compact_table()}
"""name -> (num_actions, 3) int32 table of (fire, zap, spinner) per action."""

FIRE, ZAP, SPIN = 0, 1, 2
"""Columns of an action table."""


def action_meanings(table: np.ndarray) -> list[str]:
    """Human-readable names, e.g. "FIRE+ZAP SPIN-12" (get_action_meanings)."""
    names = []
    for fire, zap, spin in table:
        buttons = "+".join(b for b, on in (("FIRE", fire), ("ZAP", zap)) if on) or "NOOP"
        names.append(buttons if spin == 0 else f"{buttons} SPIN{spin:+d}")
    return names


def action_classes(table: np.ndarray) -> np.ndarray:
    """(num_actions,) class ids: actions with the same buttons and spinner direction share one,
    whatever their speed.  In a given state the expert's exact spinner speed is one of several
    that reach the same lane, so the imitation term asks for its class, not its speed."""
    keys = np.stack([table[:, FIRE], table[:, ZAP], np.sign(table[:, SPIN])], axis=1)
    _, classes = np.unique(keys, axis=0, return_inverse=True)
    return classes.reshape(-1).astype(np.int64)


def nearest_action(table: np.ndarray, fire: int, zap: int, spinner: int) -> int:
    """The action of `table` closest to (fire, zap, spinner): buttons must match where the set
    allows it, then the nearest spinner value.  Maps an expert's choice onto any action set."""
    cost = (np.abs(table[:, SPIN] - spinner)
            + 1000 * (table[:, FIRE] != fire) + 2000 * (table[:, ZAP] != zap))
    return int(np.argmin(cost))
