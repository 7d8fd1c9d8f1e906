"""`tempest-dqn bench gpu` (`make gpu-check`): the check a user with a GPU runs once, in under
8 minutes, and whose table goes in the README.

1. The device: torch and CUDA versions, the card, its memory, bfloat16, the math settings the
   learner uses (`aimodel.configure_gpu_math`).
2. Learner steps against the CPU: our full iteration (`agent.bench.learner.ours`: sample, step,
   priorities) for the Tempest MLP at 4,096 and 16,384 and the Nature CNN at 32 and 256, median
   milliseconds on the device and on the CPU, and the speed-up.
3. A 2-minute training run of the `tempest-gpu` preset (`tempest-dqn train`, stopped by
   SIGINT as a user stops it): frames/s and learner steps/s from its metrics rows.
4. Its checkpoint reloaded on the CPU (`tempest-dqn eval` with no CUDA device visible).

`--device cpu` runs the same harness with the CPU in the GPU's place (small sizes with
`--quick`): how the test suite checks it on machines without a GPU.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

import config
from agent.bench import harness
from agent.bench import learner as bl
from agent.bench import replay_contenders as rc
from aimodel import configure_gpu_math
from metrics.runfiles import METRICS_FILE

STEP_CASES = ("mlp-4096", "mlp-16384", "nature-32", "nature-256")
SIZES = {  # reps per case on the device and on the CPU; seconds of training; eval episodes
    False: dict(reps=20, cpu_reps=5, nature_rows=20_000, mlp_rows=100_000, train_s=120,
                episodes=4),
    True: dict(reps=2, cpu_reps=1, nature_rows=2_000, mlp_rows=20_000, train_s=25,
               episodes=1),
}
QUICK_TRAIN = ("--env.num-envs", "8", "--learner.batch-size", "256", "--replay.capacity",
               "20000", "--learner.learning-starts", "2000", "--learner.compile", "false",
               "--actor.eval-every-frames", "0", "--curriculum.enabled", "false")
"""--quick on the CPU: the tempest-gpu preset shrunk so that it learns within seconds."""


def device_info(device: str) -> dict:
    """What the learner will run on, and the math it will use there."""
    info = {"torch": torch.__version__, "cuda": torch.version.cuda, "device": device,
            "cpu_threads": torch.get_num_threads()}
    if device == "cuda":
        configure_gpu_math()
        props = torch.cuda.get_device_properties(0)
        info |= {"name": props.name, "memory_gib": round(props.total_memory / 2**30, 1),
                 "capability": f"{props.major}.{props.minor}",
                 "bf16": torch.cuda.is_bf16_supported(),
                 "cudnn_benchmark": torch.backends.cudnn.benchmark,
                 "matmul_precision": torch.get_float32_matmul_precision()}
    return info


def median_step_ms(case: bl.Case, replay, device: str, reps: int) -> float:
    """Median ms of our full iteration (after 2 warm-up steps) on `device`."""
    call = bl.ours(case, replay, {name: [] for name in bl.PARTS}, compiled=False, device=device)
    for _ in range(2):
        call()
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1e3


def learner_steps(device: str, size: dict) -> list[dict]:
    """Each case's step on the device and on the CPU, and the speed-up."""
    rng, rows, replays = np.random.default_rng(7), [], {}
    for key in STEP_CASES:
        case = next(c for c in bl.CASES if c.key == key)
        if case.family not in replays:
            replays[case.family] = bl.filled_replay(case.family, size[f"{case.family}_rows"],
                                                    rng)
        print(f"bench gpu: {case.title} ...", file=sys.stderr, flush=True)
        on_device = median_step_ms(case, replays[case.family], device, size["reps"])
        on_cpu = median_step_ms(case, replays[case.family], "cpu", size["cpu_reps"])
        rows.append({"case": key, "title": case.title, "device_ms": round(on_device, 2),
                     "cpu_ms": round(on_cpu, 2), "speedup": round(on_cpu / on_device, 2),
                     "samples_per_s": round(case.batch * 1e3 / on_device)})
    return rows


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "agent", *args]


def training_run(run_dir: Path, device: str, seconds: float, quick: bool) -> dict:
    """The tempest-gpu preset for `seconds`, stopped with SIGINT (it saves); its rows' rates."""
    flags = ["--learner.device", device] + (list(QUICK_TRAIN) if quick else [])
    command = _cli("train", "--preset", "tempest-gpu", "--no-tui", "--run-dir", str(run_dir),
                   "--run.name", "gpu-check", "--frames", "1000000000", *flags)
    print(f"bench gpu: training the tempest-gpu preset for {seconds:.0f} s ...",
          file=sys.stderr, flush=True)
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=300)
    if process.returncode != 0:
        raise RuntimeError(f"the training run failed ({process.returncode}): {stderr[-2000:]}")
    rows = [json.loads(line) for line in (run_dir / "gpu-check" / METRICS_FILE).open()]
    return _rates(rows)


def _rates(rows: list[dict]) -> dict:
    """Frames/s and learner steps/s between the first row with a learner step and the last."""
    learning = [r for r in rows if r["learner_steps"] > 0]
    first, last = (learning[0], learning[-1]) if len(learning) > 1 else (rows[0], rows[-1])
    seconds = max(last["t"] - first["t"], 1e-9)
    return {"frames": last["frame"], "learner_steps": last["learner_steps"],
            "frames_per_s": round((last["frame"] - first["frame"]) / seconds),
            "learner_steps_per_s": round((last["learner_steps"] - first["learner_steps"])
                                         / seconds, 1),
            "measured_s": round(seconds, 1)}


def reload_on_cpu(run_dir: Path, episodes: int) -> dict:
    """`tempest-dqn eval` of the run's checkpoint with no CUDA device visible."""
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run(_cli("eval", str(run_dir / "gpu-check"), "--episodes",
                                 str(episodes), "--seed", "100"),
                            env=env, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"eval on the CPU failed: {result.stderr[-2000:]}")
    evaluation = json.loads(result.stdout)
    return {"frame": evaluation["frame"], "episodes": evaluation["episodes"],
            "mean_score": evaluation["mean_score"]}


def markdown(report: dict) -> str:
    info, cases = report["params"]["device_info"], report["cases"]
    steps = next(c for c in cases if c["case"] == "learner steps")["rows"]
    run = next(c for c in cases if c["case"] == "training run")
    reload = next(c for c in cases if c["case"] == "reloaded on the CPU")
    lines = [f"device: {info.get('name', info['device'])} (torch {info['torch']}, CUDA "
             f"{info['cuda']})", "",
             "| learner iteration | device ms | CPU ms | speed-up | samples/s on the device |",
             "| --- | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['title']} | {r['device_ms']:.2f} | {r['cpu_ms']:.1f} | {r['speedup']:.1f}x"
              f" | {r['samples_per_s']:,} |" for r in steps]
    lines += ["", f"training the tempest-gpu preset: {run['frames_per_s']:,} frames/s, "
              f"{run['learner_steps_per_s']} learner steps/s ({run['frames']:,} frames, "
              f"{run['learner_steps']:,} steps in all)",
              f"its checkpoint (frame {reload['frame']:,}) evaluated on the CPU: mean score "
              f"{reload['mean_score']:,.0f} over {reload['episodes']} episode(s)"]
    return "\n".join(lines)


def main(quick: bool = False, device: str = "cuda") -> int:
    """The whole check; JSON on stdout, the table on stderr."""
    size, started = SIZES[bool(quick)], time.perf_counter()
    rc.warm_numba()
    info = device_info(device)
    steps = learner_steps(device, size)
    with tempfile.TemporaryDirectory(prefix="gpu-check-") as tmp:
        run = training_run(Path(tmp), device, size["train_s"], quick)
        reload = reload_on_cpu(Path(tmp), size["episodes"])
    cases = [{"case": "learner steps", "rows": steps, "targets": []},
             {"case": "training run", **run, "targets": []},
             {"case": "reloaded on the CPU", **reload, "targets": []}]
    params = dict(size, device_info=info, preset=config.to_dict(config.PRESETS["tempest-gpu"]))
    notes = ["learner iteration = replay.sample + Learner.step (read back at once) + "
             "update_priorities, not compiled, median after 2 warm-up steps",
             "training run: frames/s and learner steps/s between its first row with a learner "
             "step and its last (the start-up, compile and replay warm-up excluded)"]
    return harness.publish("gpu", quick, params, cases, notes, started, markdown)
