"""`tempest-dqn plot`: runs on one matplotlib figure, resumed sessions stitched, clear refusals."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from agent.cli import main as cli_main
from agent.plot import DPI, FIGURE_INCHES, draw, load_run, main, timeline
from metrics.schema import IntervalAccumulator

STATE = dict(epsilon=0.1, expert_ratio=0.5, lr=1e-4, learner_steps=0, target_age=None,
             replay_size=0, nonfinite_steps=0)  # fmt: skip


def write_rows(folder: Path, count: int, expert: float | None = 50.0, offset: float = 0.0,
               imitation: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "metrics.jsonl").open("w") as out:
        for i in range(count):
            row = IntervalAccumulator(frame=100_000 * i).row(
                2.0 * i, imitation_weight=max(0.0, 1 - i / 6) if imitation else 0.0,
                expert_eval_score=expert if i >= 3 else None, **STATE) | dict(
                loss=1.0 / (i + 1), dqn_return_1m=float(i) + offset, q_min=-1.0,
                q_max=float(i), q_mean=0.5, agreement=0.5,
                imitation_loss=0.3 / (i + 1) if imitation else None,
                eval_score=None if i % 3 else 10.0 * i + offset)
            out.write(json.dumps(row) + "\n")
    return folder


def test_two_runs_on_one_figure_with_the_expert_line(tmp_path: Path) -> None:
    a = write_rows(tmp_path / "with", 12)
    b = write_rows(tmp_path / "without", 12, offset=-5.0, imitation=False)
    figure = draw([load_run(a), load_run(b)])
    by_title = {axes.get_title(): axes for axes in figure.axes}
    frames = by_title["greedy evaluation (no expert): score, over frames"]
    runs = [line for line in frames.lines if line.get_label() in ("with", "without")]
    assert [line.get_label() for line in runs] == ["with", "without"]
    assert list(runs[0].get_xdata()) == [0.0, 0.3, 0.6, 0.9]  # millions of frames
    assert list(runs[1].get_ydata()) == [-5.0, 25.0, 55.0, 85.0]
    expert = [line for line in frames.lines if line.get_label().startswith("expert")]
    assert len(expert) == 1 and list(expert[0].get_ydata()) == [50.0, 50.0]  # one shared line
    minutes = by_title["greedy evaluation (no expert): score, over training time"]
    assert list(minutes.lines[0].get_xdata()) == pytest.approx([0.0, 0.1, 0.2, 0.3])
    assert by_title["TD loss (solid) and imitation margin loss (dashed)"].get_yscale() == "log"
    out = tmp_path / "curves.png"
    assert main([str(a), str(b), "--out", str(out), "--label", "λ on", "--label", "λ off"]) == 0
    with Image.open(out) as image:
        assert image.size == (FIGURE_INCHES[0] * DPI, FIGURE_INCHES[1] * DPI)
        assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 50  # curves drawn


def test_a_resumed_runs_sessions_are_stitched() -> None:
    """Session 1 ran to t = 6 s (frames 0..300) but its last checkpoint was at frame 200;
    session 2 starts over at t = 0 from frame 200: minutes add up, frames 300 is redone."""
    rows = [{"t": t, "frame": f} for t, f in ((2.0, 100), (4.0, 200), (6.0, 300),
                                              (2.0, 200), (4.0, 300), (6.0, 400))]
    kept, minutes = timeline(rows)
    assert [r["frame"] for r in kept] == [100, 200, 200, 300, 400]
    assert minutes == pytest.approx([2 / 60, 4 / 60, 8 / 60, 10 / 60, 12 / 60])


def test_bad_input_exits_2_and_writes_nothing(tmp_path: Path, capsys) -> None:
    good = write_rows(tmp_path / "good", 4)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "metrics.jsonl").write_text("{not json}\n{}\n")
    out = tmp_path / "curves.png"
    cases = [
        [str(tmp_path / "broken"), "--out", str(out)],
        [str(tmp_path / "missing"), "--out", str(out)],
        [str(good), "--out", str(tmp_path / "curves.txt")],
        [str(good), "--out", str(tmp_path / "nowhere" / "curves.png")],
        [str(good), "--out", str(out), "--label", "a", "--label", "b"],
    ]
    for argv in cases:
        assert cli_main(["plot", *argv]) == 2, argv
        err = capsys.readouterr().err
        assert err.startswith("error: ") and "Traceback" not in err
    assert not out.exists() and sorted(p.name for p in tmp_path.iterdir()) == [
        "broken", "good"]
    assert cli_main(["plot", str(good), "--out", str(out)]) == 0 and out.exists()
