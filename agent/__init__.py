"""The application: the emulator loop, evaluation, run directory, checkpoints and the CLI.

The training loop, evaluation and checkpoints arrive with the learner issue; today this package
holds the command line (`agent.cli`), which says plainly which commands are not built yet.
"""
