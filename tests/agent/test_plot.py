"""`python -m agent.plot`: a run's curves as a PNG, and a clear refusal of a broken file."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from agent.plot import PANEL_H, PANEL_W, PANELS, main
from metrics.schema import IntervalAccumulator

STATE = dict(epsilon=0.1, expert_ratio=0.5, lr=1e-4, learner_steps=0, target_age=None,
             replay_size=0, nonfinite_steps=0)  # fmt: skip


def write_rows(path: Path, count: int) -> None:
    with path.open("w") as out:
        for i in range(count):
            row = IntervalAccumulator(frame=1000 * i).row(float(i), **STATE) | dict(
                loss=1.0 / (i + 1), return_mean=float(i), q_min=-1.0, q_max=float(i),
                q_mean=0.5, eval_score=None if i % 3 else 10.0 * i)
            out.write(json.dumps(row) + "\n")


def test_a_run_becomes_a_png_with_one_panel_per_group(tmp_path: Path) -> None:
    write_rows(tmp_path / "metrics.jsonl", 12)
    out = tmp_path / "curves.png"
    assert main([str(tmp_path), str(out), "--expert", "50"]) == 0
    with Image.open(out) as image:
        assert image.size == (PANEL_W, PANEL_H * len(PANELS) + 16)
        colors = image.convert("RGB").getcolors(maxcolors=1 << 16)
        assert colors is not None and len(colors) > 3  # curves, not a blank page


def test_a_broken_metrics_file_exits_2_without_writing(tmp_path: Path, capsys) -> None:
    (tmp_path / "metrics.jsonl").write_text("{not json}\n{}\n")
    out = tmp_path / "curves.png"
    assert main([str(tmp_path), str(out)]) == 2
    assert not out.exists() and "plot:" in capsys.readouterr().err
