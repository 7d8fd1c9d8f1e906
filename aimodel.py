"""The AI model: Q-networks, TD targets and losses, and the `Learner`.

Built by the learner issue.  It is deliberately empty today rather than a stub that pretends: the
CLI's `train` and `eval` commands report that learning is not built yet and exit non-zero.
"""
