"""Environment backends: the ALE adapter and the Tempest simulator.

Empty until the learner issue (ALE) and the Tempest issue (simulator).
"""
