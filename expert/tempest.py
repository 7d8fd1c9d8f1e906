"""The scripted Tempest experts that teach the network, as `Expert`s over N simulated games.

`TempestExpert` is the expert of the system this replaces (reference `tempest-mechanics.md`
§3); `AttractModeExpert` is the game's own attract-mode AI (§3.4), a weaker baseline.  Both read
the live `GameState` the env puts in `info["state"]`, never write it, and draw their randomness
from their own per-game streams: labelling every state (the env asks on every step) must not
change any game's trajectory.  The rules themselves are numba kernels in `tempest_rules.py` and
`attract_rules.py`; this module holds the per-game memory and maps decisions onto the env's
action set.

`tempest_decisions` / `attract_decisions` return the raw (fire, zap, spinner, target lane)
arrays, for tests and for the dashboard.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from envs.tempest.actions import ACTION_SETS, SPINNER_LEVELS, joint_action, nearest_action
from envs.tempest.state import GameState
from expert import attract_rules
from expert import tempest_rules as rules


class Decisions(NamedTuple):
    """One decision per game, before the mapping onto an action set."""

    fire: np.ndarray
    """int32 (N,): 1 = hold fire."""
    zap: np.ndarray
    """int32 (N,): 1 = press the superzapper."""
    spinner: np.ndarray
    """int32 (N,): the TBHD value; positive moves toward lower lanes, negative toward higher."""
    target: np.ndarray
    """int32 (N,): the absolute lane the expert steers for."""


def _empty_decisions(num_games: int) -> Decisions:
    return Decisions(*(np.zeros(num_games, np.int32) for _ in Decisions._fields))


def tempest_decisions(state: GameState, zap_cooldown: np.ndarray, streams: np.ndarray,
                      fire_prob: float = rules.FIRE_PROBABILITY) -> Decisions:
    """The expert's decisions for every game of `state`.  Advances `streams` (see
    `tempest_rules.seed_streams`) and updates `zap_cooldown` ((N,) int32) in place."""
    out = _empty_decisions(state.mode.shape[0])
    rules.tempest_decide(state, float(fire_prob), zap_cooldown, streams, SPINNER_LEVELS, *out)
    return out


def attract_decisions(state: GameState) -> Decisions:
    """The attract-mode AI's decisions for every game of `state` (deterministic)."""
    out = _empty_decisions(state.mode.shape[0])
    attract_rules.attract_decide(state, *out)
    return out


def action_lookup(action_table: np.ndarray) -> np.ndarray:
    """(2, 2, 11) int64: the action of `action_table` for (fire, zap, spinner level index).

    The joint set maps exactly (`joint_action`); any other set takes its nearest action
    (`nearest_action`: buttons first, then the nearest spinner value)."""
    table = np.asarray(action_table)
    if table.ndim != 2 or table.shape[1] != 3 or table.shape[0] == 0:
        raise ValueError(f"action_table must be (num_actions, 3) of (fire, zap, spinner); "
                         f"got shape {table.shape}")
    joint = np.array_equal(table, ACTION_SETS["joint"])
    lookup = np.empty((2, 2, len(SPINNER_LEVELS)), np.int64)
    for fire in (0, 1):
        for zap in (0, 1):
            for level, spin in enumerate(SPINNER_LEVELS):
                lookup[fire, zap, level] = (joint_action(fire, zap, level) if joint
                                            else nearest_action(table, fire, zap, int(spin)))
    return lookup


def _live_state(info: dict, num_envs: int) -> GameState:
    state = info.get("state") if isinstance(info, dict) else None
    if not isinstance(state, GameState):
        raise ValueError("the Tempest experts need the live GameState in info['state'] "
                         "(Tempest-v0 provides it)")
    if state.mode.shape[0] != num_envs:
        raise ValueError(f"info['state'] holds {state.mode.shape[0]} games, the expert was "
                         f"built for {num_envs}")
    return state


class _TableExpert:
    """What both experts share: the action lookup and the output buffers."""

    def __init__(self, num_envs: int, action_table: np.ndarray):
        if num_envs < 1:
            raise ValueError(f"num_envs must be >= 1, got {num_envs}")
        self.num_envs = num_envs
        self.lookup = action_lookup(action_table)
        self._out = _empty_decisions(num_envs)

    def _to_actions(self, decisions: Decisions) -> np.ndarray:
        actions = np.empty(self.num_envs, np.int64)
        rules.to_actions(decisions.fire, decisions.zap, decisions.spinner, SPINNER_LEVELS,
                         self.lookup, actions)
        return actions


class TempestExpert(_TableExpert):
    """The scripted expert of the system this replaces (`logic.lua`, reference §3.2), with its
    Lua quirks fixed (listed in `tempest_rules`).  Fires on 95 % of frames, steers bang-bang at
    +-12, zaps by its heuristic; an opinion on every state (never NO_ACTION).

    Args:
        num_envs: the games of the env's GameState.
        action_table: the env's (num_actions, 3) table (`actions.ACTION_SETS[...]`).
        seed: seeds the expert's own per-game random streams (fire draws, +-8 ties).
        fire_prob: the per-frame fire probability.
    """

    name = "tempest"

    def __init__(self, num_envs: int, action_table: np.ndarray, seed: int = 0,
                 fire_prob: float = rules.FIRE_PROBABILITY):
        super().__init__(num_envs, action_table)
        if not 0.0 <= fire_prob <= 1.0:
            raise ValueError(f"fire_prob must be in [0, 1], got {fire_prob}")
        self.fire_prob = float(fire_prob)
        self.streams = rules.seed_streams(int(seed), num_envs)
        self.zap_cooldown = np.zeros(num_envs, np.int32)

    def decide(self, state: GameState) -> Decisions:
        """This call's decisions per game (advances the expert's memory, like `act`).  The
        arrays are reused by the next call: copy them to keep them."""
        rules.tempest_decide(state, self.fire_prob, self.zap_cooldown, self.streams,
                             SPINNER_LEVELS, *self._out)
        return self._out

    def act(self, obs_N: np.ndarray, info: dict) -> np.ndarray:
        """(N,) int64 actions of the env's action set, read from info["state"]."""
        return self._to_actions(self.decide(_live_state(info, self.num_envs)))

    def reset(self, mask: np.ndarray) -> None:
        """Forget the per-game memory (the zap cooldown) where a new episode starts."""
        self.zap_cooldown[np.asarray(mask, bool)] = 0


class AttractModeExpert(_TableExpert):
    """The game's own attract-mode AI (AUTOCU, reference §3.4): a deterministic, weaker
    baseline that steers +-9 toward the enemy nearest the rim and fires when anything is
    within one lane.  It keeps no memory; `seed` is accepted for a uniform interface."""

    name = "attract"

    def __init__(self, num_envs: int, action_table: np.ndarray, seed: int = 0):
        super().__init__(num_envs, action_table)

    def decide(self, state: GameState) -> Decisions:
        """This call's decisions per game (arrays reused by the next call)."""
        attract_rules.attract_decide(state, *self._out)
        return self._out

    def act(self, obs_N: np.ndarray, info: dict) -> np.ndarray:
        """(N,) int64 actions of the env's action set, read from info["state"]."""
        return self._to_actions(self.decide(_live_state(info, self.num_envs)))

    def reset(self, mask: np.ndarray) -> None:
        """Nothing to forget: the attract AI has no per-game memory."""
