"""`tempest-dqn bench gpu` (`make gpu-check`): refused without CUDA, and its whole harness run
here with the CPU in the GPU's place (`--device cpu`), at sizes that take seconds."""

from __future__ import annotations

import json
import math

import pytest
import torch

from agent.bench import gpu as bench_gpu
from agent.cli import main


@pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")
def test_without_cuda_it_says_so_and_how_to_run_it_anyway(capsys) -> None:
    assert main(["bench", "gpu"], environ={}) == 2
    err = capsys.readouterr().err
    assert "CPU-only build" in err and "--device cpu" in err and "Traceback" not in err


def test_device_is_only_for_the_benches_that_take_it(capsys) -> None:
    assert main(["bench", "replay", "--device", "cpu"], environ={}) == 2
    assert "--device is for `bench learner` and `bench gpu`" in capsys.readouterr().err


@pytest.mark.slow
def test_the_whole_check_runs_with_the_cpu_in_the_gpus_place(monkeypatch, capsys) -> None:
    monkeypatch.setattr(bench_gpu, "STEP_CASES", ("mlp-4096", "nature-32"))
    monkeypatch.setitem(bench_gpu.SIZES, True, dict(reps=1, cpu_reps=1, nature_rows=1_000,
                                                    mlp_rows=5_000, train_s=15, episodes=1))
    assert bench_gpu.main(quick=True, device="cpu") == 0
    out, err = capsys.readouterr()
    report = json.loads(out)
    steps, run, reload = (c for c in report["cases"])
    assert [r["case"] for r in steps["rows"]] == ["mlp-4096", "nature-32"]
    assert all(r["device_ms"] > 0 and r["cpu_ms"] > 0 for r in steps["rows"])
    assert run["frames_per_s"] > 0 and run["learner_steps"] > 0
    assert reload["frame"] == run["frames"] and math.isfinite(reload["mean_score"])
    assert report["params"]["device_info"]["device"] == "cpu"
    assert "| learner iteration |" in err and "evaluated on the CPU" in err
