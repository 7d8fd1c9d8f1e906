"""The run's files as a contract: metrics rows, rolling windows, sinks, events, control, doctor.

No torch.  Empty until the learner issue.
"""
