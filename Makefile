# Two commands for a fresh machine: `make run` and `make test` (see README.md).
#
# torch is installed from TORCH_SPEC only when it is not importable yet: the default pin takes the
# CPU build that lies on local disk; an unpinned `torch` would download a multi-GB CUDA build.
# Users with a GPU either have torch already or set TORCH_SPEC, which may carry pip options:
#   make run TORCH_SPEC='torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126'
# (unquoted below on purpose, so that the shell splits the requirement from its options).

PYTHON     ?= python3
VENV       ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY         := $(VENV)/bin/python
STAMP      := $(VENV)/.installed-dev
BENCH_STAMP := $(VENV)/.installed-bench

.PHONY: install run test test-fast bench gpu-check lint clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install --quiet $(TORCH_SPEC)
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

$(BENCH_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench,distributed]"
	@touch $@

install: $(STAMP)

## The main job: train the default preset (Tempest-v0 with the expert curriculum) with the
## dashboard; `make run RUN_ARGS="--preset pong"` (or any train flags) for anything else.
RUN_ARGS ?=

run: install
	$(VENV)/bin/tempest-dqn train $(RUN_ARGS)

## tmux first (the dashboard's end-to-end test runs it; skipped if it cannot be installed), lint,
## the whole suite, then the replay tests again as plain Python (NUMBA_DISABLE_JIT=1), so
## the kernel bodies are checked by the interpreter too.  The bench extra (cpprb,
## stable-baselines3) is installed so the benchmark's contenders are exercised as well, and the
## distributed extra (Ray) so the Ray actors' tests run on a local cluster.  The 25 slowest
## tests are listed at the end, so the suite's time stays in view.
test: $(BENCH_STAMP)
	@command -v tmux >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq tmux) || echo "note: tmux could not be installed (no root?);" \
		"the dashboard's terminal test (tests/tui/test_e2e_tmux.py) will be skipped"
	$(PY) -m ruff check .
	$(PY) -m pytest --durations=25
	NUMBA_DISABLE_JIT=1 $(PY) -m pytest -q tests/replay -m "not slow"

test-fast: install
	$(PY) -m pytest -q -m "not slow"

bench: $(BENCH_STAMP)
	$(VENV)/bin/tempest-dqn bench replay

## On a machine with a GPU: the device, learner steps against the CPU, a 2-minute run of the
## tempest-gpu preset, its checkpoint reloaded on the CPU (under 8 minutes; README "GPU").
gpu-check: install
	$(VENV)/bin/tempest-dqn bench gpu

lint: install
	$(PY) -m ruff check .

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
