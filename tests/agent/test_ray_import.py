"""The in-process path never loads Ray: a run without `--actors.backend ray` must not pay for
its import, nor depend on the package being installed."""

from __future__ import annotations

import subprocess
import sys


def test_training_in_process_does_not_import_ray(tmp_path):
    script = (
        "import sys, config\n"
        "from agent.rundir import open_run_dir\n"
        "from agent.trainer import Trainer\n"
        f"cfg = config.apply_overrides(config.get_preset('smoke'), {{'run.frames': 200, "
        f"'run.run_dir': {str(tmp_path)!r}, 'run.name': 'r'}})\n"
        "Trainer(cfg, open_run_dir(cfg)).run()\n"
        "assert 'ray' not in sys.modules, 'the in-process path imported ray'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
