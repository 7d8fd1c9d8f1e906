"""The imitation term's weight in force: lambda_0, its anneal, its stop frame, and QDagger's
gate on the evaluations, so the term cannot hold the network at its teacher's level.

    lambda = weight x anneal(frame) x gate(G_net, G_expert, G_floor)    (0 from stop_frame on)

A pure function of the frame and the two scores, like the other schedules: exact after a
resume, since the scores are kept in the checkpoint (`TeacherScores`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from agent.schedules import linear
from config import ImitationConfig


def gate(net_score: float | None, expert_score: float | None, floor: float = 0.0) -> float:
    """QDagger's max(0, 1 - G_net / G_expert), at most 1, with both scores counted from `floor`
    (the score of the worst play): max(0, 1 - (G_net - floor) / (G_expert - floor)).  1 before
    either score exists.

    Why the floor: QDagger's ratio counts from 0, which is the worst play only in games scored
    in gains.  Pong's games end between -21 and +21, so from 0 a network at -6 against a teacher
    at +12 reads as 'not started' (gate 1) when it has closed more than half the gap; counted
    from -21 it reads 0.55.  A teacher at or below the floor cannot be divided by, so the gate
    is then simply open below the teacher's score and shut at or above it.
    """
    if net_score is None or expert_score is None:
        return 1.0
    if expert_score <= floor:
        return 1.0 if net_score < expert_score else 0.0
    return min(1.0, max(0.0, 1.0 - (net_score - floor) / (expert_score - floor)))


def imitation_weight_at(frame: int, cfg: ImitationConfig, net_score: float | None = None,
                        expert_score: float | None = None) -> float:
    """lambda at `frame` (counted from the schedules' origin): 0 when the term is off."""
    if cfg.weight <= 0 or (cfg.stop_frame > 0 and frame >= cfg.stop_frame):
        return 0.0
    weight = linear(cfg.weight, 0.0, cfg.anneal_frames, frame) if cfg.anneal_frames else cfg.weight
    if cfg.gate:
        weight *= gate(net_score, expert_score, cfg.gate_floor)
    return weight


@dataclass
class TeacherScores:
    """The gate's two numbers, in game points by the evaluation protocol: the expert's (measured
    once, at the run's first evaluation) and the network's latest."""

    expert_score: float | None = None
    net_score: float | None = None

    def state(self) -> dict:
        return asdict(self)

    @classmethod
    def from_state(cls, state: dict | None) -> TeacherScores:
        """A checkpoint's scores; checkpoints written before the imitation term have none."""
        if not state:
            return cls()
        return cls(*(None if state.get(k) is None else float(state[k])
                     for k in ("expert_score", "net_score")))
