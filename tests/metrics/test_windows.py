"""DqnWindows: hand-computed means and slopes, the window edge, eviction, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest

from metrics.windows import DqnWindows


def _filled(points: list[tuple[int, float]], **sizes: int) -> DqnWindows:
    windows = DqnWindows(**sizes)
    for end_frame, value in points:
        windows.add(end_frame, value)
    return windows


def _naive(points: list[tuple[int, float]], frame: int, width: int) -> list[tuple[int, float]]:
    return [(f, v) for f, v in points if frame - width < f <= frame]


def test_hand_computed_means_and_slope() -> None:
    windows = _filled([(1_000_000, 1.0), (2_000_000, 2.0), (3_000_000, 4.0)])
    summary = windows.summary(3_000_000)
    # 5M window (-2M, 3M]: all three; 1M window (2M, 3M]: only the episode at 3M.
    assert summary["dqn_return_5m"] == pytest.approx(7 / 3)
    assert summary["dqn_return_1m"] == pytest.approx(4.0)
    # x centred: -1e6, 0, 1e6; y centred: -4/3, -1/3, 5/3; Sxy = 3e6, Sxx = 2e12
    # slope = 1.5e-6 per frame = 1.5 per million frames.
    assert summary["dqn5m_slope"] == pytest.approx(1.5)


def test_the_window_is_half_open_an_episode_on_the_old_edge_is_out() -> None:
    windows = _filled([(1_000_000, 10.0), (1_000_001, 20.0)])
    # At frame 2M the 1M window is (1M, 2M]: the episode ending exactly at 1M is out.
    assert windows.mean(2_000_000, 1_000_000) == pytest.approx(20.0)
    assert windows.mean(2_000_001, 1_000_000) is None
    # The current frame itself is in.
    windows.add(2_000_001, 5.0)
    assert windows.mean(2_000_001, 1_000_000) == pytest.approx(5.0)


def test_eviction_moves_the_5m_window_and_drops_old_episodes() -> None:
    windows = _filled([(1_000_000, 1.0), (2_000_000, 2.0), (3_000_000, 4.0)])
    summary = windows.summary(6_000_000)  # 5M window (1M, 6M]: 2M and 3M remain
    assert len(windows) == 2
    assert summary["dqn_return_5m"] == pytest.approx(3.0)
    assert summary["dqn5m_slope"] == pytest.approx(2.0)  # (4 - 2) / 1M frames
    assert summary["dqn_return_1m"] is None  # (5M, 6M] is empty
    windows.summary(8_000_000)
    assert len(windows) == 0
    assert windows.summary(8_000_000) == {
        "dqn_return_1m": None,
        "dqn_return_5m": None,
        "dqn5m_slope": None,
    }


def test_slope_is_null_for_one_episode_or_a_single_end_frame() -> None:
    assert _filled([(100, 3.0)]).slope(100) is None
    assert _filled([(100, 3.0), (100, 5.0)]).slope(100) is None
    assert _filled([(100, 3.0), (100, 5.0)]).mean(100, 1_000_000) == pytest.approx(4.0)
    assert DqnWindows().slope(0) is None


def test_episodes_are_unweighted_by_their_length_and_rows_do_not_double_count() -> None:
    """The old system weighted by frames per row and added a bucket per key press."""
    windows = _filled([(10, 1.0), (4_000_000, 3.0)])
    for _ in range(50):  # summaries as often as anyone likes change nothing
        summary = windows.summary(4_000_000)
    assert summary["dqn_return_5m"] == pytest.approx(2.0)


def test_matches_a_brute_force_oracle_across_growth_and_compaction() -> None:
    rng = np.random.default_rng(3)
    windows = DqnWindows(short_frames=1_000, long_frames=5_000)
    points: list[tuple[int, float]] = []
    frame = 0
    for _ in range(6_000):
        frame += int(rng.integers(0, 7))
        value = float(rng.normal())
        windows.add(frame, value)
        points.append((frame, value))
        if rng.random() < 0.05:
            frame += int(rng.integers(0, 3))
            got = windows.summary(frame)
            short, long = _naive(points, frame, 1_000), _naive(points, frame, 5_000)
            assert got["dqn_return_1m"] == pytest.approx(np.mean([v for _, v in short]))
            assert got["dqn_return_5m"] == pytest.approx(np.mean([v for _, v in long]))
            x, y = np.array([f for f, _ in long], float), np.array([v for _, v in long])
            assert got["dqn5m_slope"] == pytest.approx(np.polyfit(x, y, 1)[0] * 1e6)
            assert len(windows) == len(long)
    assert windows._frames.size <= 4 * 5_000  # memory bounded by the window, not the run


def test_slope_is_exact_at_large_frame_numbers() -> None:
    base = 10**10
    windows = _filled([(base + i * 1000, 0.5 + 0.002 * i) for i in range(100)])
    assert windows.slope(base + 99_000) == pytest.approx(2.0, rel=1e-9)  # 0.002 / 1000 frames


def test_many_episodes_stay_fast() -> None:
    windows = DqnWindows()
    for i in range(200_000):
        windows.add(i * 500, 1.0)  # 100M frames of 500-frame episodes
    assert len(windows) == 10_000
    assert windows.summary(200_000 * 500)["dqn_return_5m"] == 1.0


def test_state_round_trips_through_json() -> None:
    windows = _filled([(1_000_000, 1.0), (2_000_000, 2.0), (3_000_000, 4.0)])
    windows.summary(3_500_000)
    restored = DqnWindows.from_state(json.loads(json.dumps(windows.state())))
    assert restored.summary(3_500_000) == windows.summary(3_500_000)
    with pytest.raises(ValueError, match="before frame"):
        restored.add(3_000_000, 1.0)  # the restored clock remembers 3.5M
    restored.add(3_600_000, 8.0)
    assert len(restored) == 4


def test_from_state_rejects_broken_state() -> None:
    with pytest.raises(ValueError, match="version"):
        DqnWindows.from_state({"end_frames": []})
    state = DqnWindows().state()
    with pytest.raises(ValueError, match="lacks"):
        DqnWindows.from_state({k: v for k, v in state.items() if k != "values"})
    with pytest.raises(ValueError, match="decrease"):
        DqnWindows.from_state({**state, "end_frames": [5, 3], "values": [1.0, 2.0]})
    with pytest.raises(ValueError, match="2 end frames, 1 values"):
        DqnWindows.from_state({**state, "end_frames": [1, 3], "values": [1.0]})


def test_reset_forgets_everything() -> None:
    windows = _filled([(1_000_000, 1.0), (2_000_000, 2.0)])
    windows.reset()
    assert len(windows) == 0 and windows.summary(0)["dqn_return_5m"] is None


def test_bad_input_is_refused() -> None:
    windows = _filled([(100, 1.0)])
    with pytest.raises(ValueError, match="must not decrease"):
        windows.add(99, 1.0)
    with pytest.raises(ValueError, match="finite"):
        windows.add(200, float("nan"))
    with pytest.raises(ValueError, match="before frame"):
        windows.summary(50)
    with pytest.raises(ValueError, match="short_frames"):
        DqnWindows(short_frames=6_000_000)
    with pytest.raises(ValueError, match="exceeds"):
        windows.mean(100, 6_000_000)
