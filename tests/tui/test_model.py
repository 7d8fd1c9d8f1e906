"""tui.model and tui.format: the numbers the dashboard shows, from hand-made rows."""

from __future__ import annotations

import pytest

from tests.tui.helpers import CONFIG, make_row
from tui import format as fmt
from tui import model


def history_of(rows, **kwargs) -> model.History:
    history = model.History(**kwargs)
    history.add(rows)
    return history


def tile(history: model.History, key: str, capacity: int | None = 1_000_000) -> model.Tile:
    return next(t for t in model.tiles(history, capacity) if t.key == key)


# ---- format -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "text"), [
    (None, "—"), (0, "0"), (0.0054, "5.40e-03"), (0.25, "0.250"), (12.345, "12.3"),
    (2203.37, "2,203"), (-9.79, "-9.790"), (1_566_368, "1.57M"),
])  # fmt: skip
def test_number_keeps_about_four_figures_and_shows_missing_as_a_dash(value, text):
    assert fmt.number(value) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "—"), (45.9, "45s"), (232.96, "3m52s"), (3720, "1h02m"), (183_600, "2d03h"),
])  # fmt: skip
def test_duration(seconds, text):
    assert fmt.duration(seconds) == text


def test_sparkline_maps_lowest_to_lowest_block_and_keeps_the_newest_values():
    assert fmt.sparkline([0, 3, 7], 8) == "▁▄█"
    assert fmt.sparkline([100, 0, 3, 7], 3) == "▁▄█"  # the oldest value dropped
    assert fmt.sparkline([2, 2], 5) == "▄▄"
    assert fmt.sparkline([], 5) == ""


# ---- derived numbers ----------------------------------------------------------------------------


def test_learner_steps_per_second_over_the_last_rows():
    rows = [make_row(0, t=10.0, learner_steps=100), make_row(1, t=12.0, learner_steps=120),
            make_row(2, t=14.0, learner_steps=180)]  # fmt: skip
    assert model.learner_steps_per_s(rows, over=1) == pytest.approx(30.0)  # 60 steps / 2 s
    assert model.learner_steps_per_s(rows, over=5) == pytest.approx(20.0)  # 80 steps / 4 s
    assert model.learner_rates(rows) == pytest.approx([10.0, 30.0])
    assert model.learner_steps_per_s(rows[:1]) is None


def test_learner_rate_skips_rows_with_no_elapsed_time():
    rows = [make_row(0, t=5.0, learner_steps=10), make_row(1, t=5.0, learner_steps=20)]
    assert model.learner_steps_per_s(rows) is None
    assert model.learner_rates(rows) == []


def test_replay_fill_needs_both_size_and_capacity():
    assert model.replay_fill({"replay_size": 250_000}, 1_000_000) == 0.25
    assert model.replay_fill({"replay_size": 250_000}, None) is None
    assert model.replay_fill({"replay_size": None}, 1_000_000) is None


@pytest.mark.parametrize(("slope", "tone"), [(0.0, "good"), (12.5, "good"), (-0.01, "bad"),
                                             (None, "")])  # fmt: skip
def test_slope_is_good_at_zero_and_above_bad_below(slope, tone):
    assert model.slope_tone(slope) == tone
    assert tile(history_of([make_row(0, dqn5m_slope=slope)]), "slope").tone == tone


def test_state_and_driver_fall_back_when_rows_do_not_carry_them():
    row = make_row(0)
    assert (model.run_state(row), model.run_driver(row)) == ("training", "schedule")
    row.update(state="paused", driver="expert only")
    assert (model.run_state(row), model.run_driver(row)) == ("paused", "expert only")
    assert model.run_state({"state": "bogus"}) == "training"


def test_series_skips_nulls_and_scales_frames_to_millions():
    rows = [make_row(0, frame=500_000, loss=0.5), make_row(1, frame=1_000_000, loss=None),
            make_row(2, frame=2_000_000, loss=0.25)]  # fmt: skip
    assert model.series(rows, "loss") == ([0.5, 2.0], [0.5, 0.25])
    assert model.series(rows, "eval_score") == ([], [])


def test_last_value_finds_the_newest_non_null():
    rows = [make_row(0, eval_score=300.0), make_row(1), make_row(2)]
    assert model.last_value(rows, "eval_score") == 300.0
    assert model.last_value(rows, "eval_return") is None


# ---- tiles --------------------------------------------------------------------------------------


def test_tiles_show_the_latest_row():
    rows = [make_row(i) for i in range(3)]
    rows[-1].update(epsilon=0.01, expert_ratio=0.3625, q_min=-9.75, q_max=4.66, q_mean=0.9,
                    dqn_return_1m=2471.5, dqn_return_5m=2173.8, loss=0.0055, grad_norm=0.0143,
                    grad_norm_max=0.0264, clip_delta=0.85, clip_frac=0.125, agreement=0.2272,
                    replay_size=250_000, samples_per_frame=4.129, lr=3e-4)  # fmt: skip
    shown = {t.key: (t.value, t.detail) for t in model.tiles(history_of(rows), 1_000_000)}
    assert shown["epsilon"][0] == "0.010"
    assert shown["expert"] == ("36.2%", "schedule")
    assert shown["q_range"] == ("-9.750…4.660", "mean 0.900")
    assert shown["dqn1m"][0] == "2,472" and shown["dqn5m"][0] == "2,174"
    assert shown["loss"] == ("5.50e-03", "TD loss")
    assert shown["grad"][0] == "0.014/0.026"
    assert shown["clip"] == ("0.850", "clipped 12.5%")
    assert shown["agreement"][0] == "22.7%"
    assert shown["replay"] == ("250.00k/1.00M", "25% full")
    assert shown["steps"][0] == "6.000"  # 12 steps per 2 s row
    assert shown["spf"][0] == "4.129"
    assert shown["lr"][0] == "3.00e-04"


def test_the_steps_tile_counts_ray_acting_processes_and_their_lost_chunks():
    in_process = tile(history_of([make_row(0)]), "steps")
    assert in_process.detail == "learner steps"
    healthy = tile(history_of([make_row(0, actors_live=2, actors_lost_chunks=0)]), "steps")
    assert healthy.detail == "2 actors"
    hurt = tile(history_of([make_row(0, actors_live=1, actors_lost_chunks=3)]), "steps")
    assert hurt.detail == "1 actor · 3 lost"


def test_imitation_tile_shows_lambda_and_the_margin_loss_or_off():
    on = tile(history_of([make_row(0, imitation_weight=0.5, imitation_loss=0.1234)]), "imitation")
    assert (on.value, on.detail) == ("0.500", "λ; margin loss 0.123")
    off = tile(history_of([make_row(0, imitation_weight=0.0, imitation_loss=None)]), "imitation")
    assert (off.value, off.detail) == ("0", "λ: term off")
    older = tile(history_of([make_row(0)]), "imitation")  # a run from before the term
    assert older.value == "—" and older.detail == "λ; margin loss —"


def test_tile_trends_follow_the_recent_rows_and_skip_nulls():
    rows = [make_row(i, loss=v) for i, v in enumerate([0.3, None, 0.2, 0.1])]
    assert tile(history_of(rows), "loss").trend == (0.3, 0.2, 0.1)
    many = [make_row(i) for i in range(model.TREND_ROWS + 10)]
    assert len(tile(history_of(many), "dqn5m").trend) == model.TREND_ROWS


def test_slope_tile_is_signed_per_million_frames():
    assert tile(history_of([make_row(0, dqn5m_slope=1208.04)]), "slope").value == "+1,208/M"
    assert tile(history_of([make_row(0, dqn5m_slope=-3.2)]), "slope").value == "-3.200/M"


def test_loss_tile_turns_bad_when_learner_steps_were_not_finite():
    bad = tile(history_of([make_row(0, nonfinite_steps=3)]), "loss")
    assert (bad.detail, bad.tone) == ("3 non-finite steps", "bad")


def test_replay_tile_without_a_capacity_shows_the_size_only():
    replay = tile(history_of([make_row(0, replay_size=5000)]), "replay", capacity=None)
    assert (replay.value, replay.detail) == ("5.00k", "— full")


def test_last_evaluation_is_the_newest_non_null_even_when_later_rows_have_none():
    rows = [make_row(0, eval_score=780.0, eval_return=-0.22), make_row(1),
            make_row(2, eval_score=615.0, eval_return=-2.6), make_row(3), make_row(4)]  # fmt: skip
    evaluation = tile(history_of(rows), "eval")
    assert (evaluation.value, evaluation.detail) == ("615.0 / -2.600", "at 36.00k fr")
    assert evaluation.trend == (780.0, 615.0)
    assert tile(history_of([make_row(0)]), "eval").value == "— / —"


def test_tiles_with_no_rows_show_missing_values():
    assert {t.value for t in model.tiles(model.History(), None)} <= {"—", "—…—", "—/—", "— / —"}


# ---- history ------------------------------------------------------------------------------------


def test_history_keeps_recent_rows_and_a_thinned_whole_run():
    history = history_of([make_row(i) for i in range(20)], recent=5, whole=4)
    assert [r["frame"] // 12_000 - 1 for r in history.recent] == [15, 16, 17, 18, 19]
    # stride 8 after two halvings: rows 0, 8, 16 kept; then the rows after 16 from `recent`
    assert [r["frame"] // 12_000 - 1 for r in history.whole] == [0, 8, 16]
    assert [r["frame"] // 12_000 - 1 for r in history.chart_rows()] == [0, 8, 16, 17, 18, 19]


def test_history_starts_over_when_frames_go_backwards():
    history = history_of([make_row(i) for i in range(5)])
    history.add([make_row(0)])  # a new run replaced metrics.jsonl
    assert (history.count, history.restarts, len(history.chart_rows())) == (1, 1, 1)


def test_header_reads_config_and_the_latest_row():
    row = make_row(0, t=232.96, frame=1_566_368, fps=6428.02, state="evaluating", driver="greedy")
    assert model.header("run-a", CONFIG, row) == model.Header(
        "run-a", "Tempest-v0", "cpu", "1.57M", "6,428", "3m52s", "evaluating", "greedy")
    assert model.header("run-a", None, None).state == "waiting"
    assert model.header("run-a", CONFIG, row, pending="pausing…").state == "pausing…"


def test_decimate_keeps_first_lowest_highest_and_last_of_each_column_in_order() -> None:
    xs = [float(x) for x in range(12)]  # 2 columns: x 0..5 and 6..11
    ys = [5.0, 9.0, 1.0, 4.0, 4.0, 6.0, 3.0, 3.0, -7.0, 3.0, 8.0, 2.0]
    kept_x, kept_y = model.decimate(xs, ys, columns=2)
    assert kept_x == [0.0, 1.0, 2.0, 5.0, 6.0, 8.0, 10.0, 11.0]
    assert kept_y == [5.0, 9.0, 1.0, 6.0, 3.0, -7.0, 8.0, 2.0]  # the spike at x=8 survives


def test_decimate_leaves_a_series_that_already_fits_alone() -> None:
    xs, ys = [0.0, 1.0, 2.0], [3.0, 1.0, 2.0]
    assert model.decimate(xs, ys, columns=1) == (xs, ys)
    assert model.decimate([], [], columns=10) == ([], [])
    flat = [1.0] * 50  # every x equal: one column, its four kept points collapse to two
    assert model.decimate(flat, list(range(50)), columns=2) == ([1.0, 1.0], [0, 49])


def test_band_points_fill_each_column_from_low_to_high_one_cell_apart() -> None:
    rows = [{"frame": 0, "q_min": 0.0, "q_max": 4.0}, {"frame": 1_000_000, "q_min": None},
            {"frame": 2_000_000, "q_min": 2.0, "q_max": 4.0}]
    xs, ys = model.band_points(rows, "q_min", "q_max", columns=3, cells=4)
    # x grid 0, 1, 2 (M frames); low interpolated 0, 1, 2; high 4; one cell = (4 - 0) / 4
    assert xs == [0.0] * 5 + [1.0] * 4 + [2.0] * 3
    assert ys == [0.0, 1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0, 2.0, 3.0, 4.0]
    assert model.band_points([{"frame": 5, "q_min": None}], "q_min", "q_max", 3, 4) == ([], [])


def test_the_waves_tile_shows_the_frontier_its_clear_rate_and_a_pin():
    rows = [make_row(0) | {"curriculum_frontier": 5, "curriculum_clear_rate": 0.3,
                           "curriculum_pinned": False},
            make_row(1) | {"curriculum_frontier": 7, "curriculum_clear_rate": 0.6,
                           "curriculum_pinned": True}]
    waves = tile(history_of(rows), "curriculum")
    assert (waves.value, waves.detail, waves.trend) == ("≤ 7", "clear 60% · pinned", (5.0, 7.0))
    off = tile(history_of([make_row(0) | {"curriculum_frontier": None}]), "curriculum")
    assert off.value == "off"
