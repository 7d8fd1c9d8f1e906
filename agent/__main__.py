"""`python -m agent` is the same as the `tempest-dqn` console script."""

from agent.cli import main

raise SystemExit(main())
