"""`tempest-dqn bench NAME`: one module per benchmark, each with `main(quick)` printing one JSON
report on stdout and its markdown tables on stderr, and the harness they share (`harness`:
contenders taking turns in one process, medians, targets, the report).

    replay    our replay buffer against cpprb, Stable-Baselines3 and the memory floor
              (`replay_contenders`: how each library is built, filled and called)
    env       the env backends alone, ours against the bare emulator
    learner   our learner iteration against a bare torch step
    loop      the whole training loop against Stable-Baselines3's DQN (`loop_contenders`:
              ours driven step by step, and SB3 on the same settings)
    tui       the dashboard's cost to the trainer beside it
    actors    acting in process against Ray acting processes with the same envs, and what
              shipping a chunk of transitions costs
    gpu       the check a user with a GPU runs once (`make gpu-check`)

Nothing here is imported by training: the CLI imports a benchmark only when it is asked for.
"""
