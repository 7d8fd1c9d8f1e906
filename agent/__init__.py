"""The application: the emulator loop, evaluation, run directory, checkpoints and the CLI.

`agent.train` builds the env with its expert labels and runs `agent.trainer.Trainer` (the actor,
the replay and the learner); `agent.cli` is the `tempest-dqn` command line, `agent.bench` the
benchmarks.
"""
