"""Experts and the curriculum (no torch): who may act besides the network, and how often.

`Expert` is the protocol scripted policies implement: the Tempest expert and the arcade's
attract-mode AI (`expert.tempest`), the Pong and Breakout screen experts (`expert.ale`);
`expert.labels` puts an expert's proposal in every step's info; `expert_ratio_at` is the annealed
share of expert actions; `mix` chooses, per environment and step, between the expert and the
network's epsilon-greedy action.
"""

from expert.mixer import DQN, EXPERT, RANDOM, MixerOverride, mix
from expert.protocol import NO_ACTION, Expert
from expert.schedule import expert_ratio_at

__all__ = ["DQN", "EXPERT", "NO_ACTION", "RANDOM", "Expert", "MixerOverride",
           "expert_ratio_at", "mix"]
