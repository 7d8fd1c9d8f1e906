"""The whole training loop on the fake chain env: it learns, records, obeys, saves, resumes."""

from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from agent.background import uses_learner_thread
from agent.checkpoint import latest_checkpoint
from agent.games import GameRecord
from agent.rundir import open_run_dir
from agent.trainer import Trainer
from metrics import read_rows
from metrics.control import send_command
from tests.agent.chain_runs import LENGTH, chain_cfg, chain_trainer, self_labelled
from tests.fakes import ChainVectorEnv, PipelinedChainVectorEnv


def test_the_loop_learns_the_optimal_policy_and_records_metrics(tmp_path):
    trainer = chain_trainer(chain_cfg(tmp_path, **{"actor.eval_every_frames": 1000,
                                                   "actor.eval_episodes": 6}))
    trainer.run()
    states = np.eye(LENGTH, dtype=np.float32)[: LENGTH - 1]
    assert (trainer.learner.greedy_actions(states) == 1).all()  # always right
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert rows[-1]["frame"] == 3000 and rows[-1]["learner_steps"] > 200
    assert any(r["loss"] is not None for r in rows) and rows[-1]["episodes"] > 50
    assert latest_checkpoint(trainer.paths.checkpoints) is not None
    evaluations = [r["eval_score"] for r in rows if r["eval_score"] is not None]
    assert len(evaluations) == 3 and evaluations[-1] == 1.0  # the goal, every episode
    assert [r["state"] for r in rows].count("evaluating") == 3  # announced before each one
    assert {r["state"] for r in rows} == {"training", "evaluating"}
    assert {r["driver"] for r in rows} == {"schedule"}


def test_resume_restores_parameters_schedules_and_replay_exactly(tmp_path):
    first = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 1200}))
    first.run()
    resumed = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 1200}))
    assert resumed.resume()
    assert resumed.actor.frame == first.actor.frame == 1200
    assert resumed.pacer.state() == first.pacer.state()
    assert resumed.learner.learner_steps == first.learner.learner_steps
    for a, b in zip(resumed.learner.online.parameters(), first.learner.online.parameters(),
                    strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(resumed.replay.obs_SF, first.replay.obs_SF)
    first.replay.truncate_streams()  # what resuming does, since the envs start over
    np.testing.assert_array_equal(resumed.replay.flags_S, first.replay.flags_S)
    np.testing.assert_array_equal(resumed.replay.tree.sum_T, first.replay.tree.sum_T)
    assert (resumed.actor.rng.bit_generator.state == first.actor.rng.bit_generator.state)


def test_a_pipelined_env_learns_and_its_checkpoint_holds_the_step_in_flight(tmp_path):
    """Learner steps run while the envs step; a save books the step in flight first, so the
    saved replay and counters are the run's, and a resume restores them exactly."""
    first = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 2400}), PipelinedChainVectorEnv)
    assert first.actor.pipelined
    first.run()
    states = np.eye(LENGTH, dtype=np.float32)[: LENGTH - 1]
    assert (first.learner.greedy_actions(states) == 1).all()
    assert first.actor.frame == 2400 and first.actor.flush().frames == 0
    rows = read_rows(first.paths.metrics, strict=True)
    assert rows[-1]["frame"] == 2400 and rows[-1]["episodes"] == first.counters.episodes
    resumed = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 2400}), PipelinedChainVectorEnv)
    assert resumed.resume()
    assert resumed.actor.frame == 2400 and resumed.counters.episodes == first.counters.episodes
    np.testing.assert_array_equal(resumed.replay.obs_SF, first.replay.obs_SF)
    np.testing.assert_array_equal(resumed.replay.write_count_N, first.replay.write_count_N)


def test_a_corrupt_checkpoint_stops_the_run_and_is_left_alone(tmp_path):
    first = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 400}))
    first.run()
    generation = latest_checkpoint(first.paths.checkpoints)
    (generation / "model.safetensors").write_bytes(b"broken")
    from agent.checkpoint import CheckpointError

    with pytest.raises(CheckpointError, match="model.safetensors"):
        chain_trainer(chain_cfg(tmp_path)).resume()
    assert (generation / "model.safetensors").read_bytes() == b"broken"


def test_commands_are_applied_and_acknowledged(tmp_path):
    cfg = chain_cfg(tmp_path, **{"run.frames": 400})
    trainer = chain_trainer(cfg)
    trainer.inbox.discard_pending = lambda: 0  # keep the commands sent before the run starts
    send_command(trainer.paths.root, "lr", value="half")
    send_command(trainer.paths.root, "greedy")
    (trainer.paths.control / "zz-bad.json").write_text("{not json")
    trainer.run()
    events = [json.loads(line) for line in trainer.paths.events.read_text().splitlines()]
    kinds = [(e["kind"], e["message"]) for e in events]
    assert ("command", "learning-rate factor 0.5") in kinds
    assert ("command", "greedy acting on") in kinds
    assert any(k == "warning" and "ignored a control command" in m for k, m in kinds)
    assert trainer.overrides.epsilon(0.7) == 0.0
    assert read_rows(trainer.paths.metrics)[-1]["driver"] == "greedy"


def test_a_paused_run_keeps_writing_rows_that_say_so(tmp_path):
    import threading
    import time

    cfg = chain_cfg(tmp_path, **{"run.frames": 10**9, "metrics.interval_s": 0.05})
    trainer = chain_trainer(cfg)
    trainer.inbox.discard_pending = lambda: 0
    send_command(trainer.paths.root, "pause")

    def quit_when_paused_rows_appear() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            text = trainer.paths.metrics.read_text() if trainer.paths.metrics.exists() else ""
            if text.count('"paused"') >= 2:
                break
            time.sleep(0.05)
        send_command(trainer.paths.root, "quit")

    watcher = threading.Thread(target=quit_when_paused_rows_appear)
    watcher.start()
    trainer.run()
    watcher.join()
    rows = read_rows(trainer.paths.metrics)
    assert [r["state"] for r in rows].count("paused") >= 2
    assert all(r["frame"] == 0 for r in rows if r["state"] == "paused")


def test_the_learner_thread_learns_too_and_keeps_the_replay_ratio(tmp_path):
    cfg = chain_cfg(tmp_path, **{"actor.learner_thread": True, "actor.learner_thread_min_cpus": 0})
    trainer = chain_trainer(cfg)
    trainer.run()
    assert trainer.background is not None
    states = np.eye(LENGTH, dtype=np.float32)[: LENGTH - 1]
    assert (trainer.learner.greedy_actions(states) == 1).all()
    assert (trainer.acting.greedy(states) == 1).all()  # the actor's copy is in sync
    expected = (3000 - 200) * cfg.learner.replay_ratio / cfg.learner.batch_size
    assert abs(trainer.learner.learner_steps - expected) <= 1


def test_the_learner_thread_needs_the_cpus_and_the_events_say_where_the_learner_ran(
        tmp_path, monkeypatch):
    monkeypatch.setattr("agent.background.usable_cpus", lambda: 2)
    cfg = chain_cfg(tmp_path, **{"actor.learner_thread": True, "run.frames": 400})
    trainer = chain_trainer(cfg)
    trainer.run()
    assert trainer.background is None and trainer.learner.learner_steps > 0
    messages = [json.loads(line)["message"] for line in trainer.paths.events.open()]
    assert ("learner: inline, 2 CPUs < actor.learner_thread_min_cpus 3 (set it to 0 for the "
            "thread)") in messages
    monkeypatch.setattr("agent.background.usable_cpus", lambda: 3)
    assert uses_learner_thread(chain_cfg(tmp_path, **{"actor.learner_thread": True}).actor)


def test_reset_metrics_keeps_weights_and_replay_but_restarts_schedules(tmp_path):
    first = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 1200}))
    first.run()
    assert len(first.windows) > 0
    again = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 1200, "run.reset_metrics": True}))
    assert again.resume()
    assert again.counters.schedule_origin == 1200 and len(again.windows) == 0
    for a, b in zip(again.learner.online.parameters(), first.learner.online.parameters(),
                    strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(again.replay.obs_SF, first.replay.obs_SF)


def test_a_replay_larger_than_the_memory_is_refused_before_anything_runs(tmp_path, monkeypatch):
    import agent.machine as machine

    monkeypatch.setattr(machine, "memory_available", lambda: 10_000)
    with pytest.raises(machine.MemoryBudgetError, match="lower --replay.capacity"):
        chain_trainer(chain_cfg(tmp_path))


def test_tensorboard_mirrors_the_metrics_rows(tmp_path):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 800, "metrics.tensorboard": True}))
    trainer.run()
    events = EventAccumulator(str(trainer.paths.root / "tensorboard"))
    events.Reload()
    rows = read_rows(trainer.paths.metrics, strict=True)
    scalars = events.Scalars("metrics/episodes")
    assert [s.step for s in scalars] == [r["frame"] for r in rows]
    assert scalars[-1].value == rows[-1]["episodes"]
    assert "metrics/loss" in events.Tags()["scalars"]


def test_tensorboard_without_the_package_is_a_clear_error(tmp_path, monkeypatch):
    import sys

    from agent.tensorboard_sink import TensorBoardUnavailable

    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(TensorBoardUnavailable, match=r"pip install -e '\.\[tensorboard\]'"):
        chain_trainer(chain_cfg(tmp_path, **{"metrics.tensorboard": True}))


def test_the_expert_curriculum_shares_the_actions_and_is_recorded(tmp_path):
    from replay import Source

    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 1200, "expert.ratio_start": 0.5,
                                                   "expert.ratio_floor": 0.5}))
    trainer.run()
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert {r["expert_ratio"] for r in rows if r["frame"] > 0} == {0.5}
    stored = trainer.replay.flags_S[: trainer.replay.capacity] != 8
    sources = trainer.replay.source_S[: trainer.replay.capacity][stored]
    written = sources[: int(trainer.replay.write_count_N.min())]
    assert abs((written == Source.EXPERT).mean() - 0.5) < 0.1
    assert (trainer.replay.expert_S[trainer.replay.sampleable_S == 1] == 1).all()


def test_expert_off_command_hands_every_action_to_the_network(tmp_path):
    from replay import Source

    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 400}))
    trainer.inbox.discard_pending = lambda: 0
    send_command(trainer.paths.root, "expert", value="off")
    trainer.run()
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert rows[-1]["expert_ratio"] == 0.0 and rows[-1]["driver"] == "expert off"
    assert not (trainer.replay.source_S == Source.EXPERT).any()


# ------------------------------------------------------------------------ the imitation term


def _events(trainer) -> list[dict]:
    return [json.loads(line) for line in trainer.paths.events.read_text().splitlines()]


def test_the_imitation_term_runs_on_its_schedule_and_the_gate_follows_the_evaluations(
        tmp_path):
    """lambda = weight until the first evaluation; there the run measures the expert once, by
    the same protocol (the chain's expert reaches the goal: 1.0), and from then on every row's
    lambda is weight x max(0, 1 - G_net / G_expert) with the latest evaluation's G_net."""
    trainer = chain_trainer(chain_cfg(tmp_path, **{"imitation.weight": 0.5, "imitation.margin": 0.8,
                                                   "actor.eval_every_frames": 1000,
                                                   "actor.eval_episodes": 4,
                                                   "env.reward_clip": 2.5}))
    assert trainer.learner.imitation_margin == pytest.approx(0.8 * 2.5)  # Tempest's units
    trainer.run()
    rows = read_rows(trainer.paths.metrics, strict=True)
    experts = [e for e in _events(trainer) if "the expert, by the same protocol" in e["message"]]
    assert len(experts) == 1 and experts[0]["scores"] == [1.0] * 4
    net_score = None
    for row in rows:  # a row carries the evaluation that set its lambda
        net_score = net_score if row["eval_score"] is None else row["eval_score"]
        expected = 0.5 if net_score is None else 0.5 * max(0.0, 1.0 - net_score)
        if row["frame"] > 0:
            assert row["imitation_weight"] == pytest.approx(expected), row["frame"]
        if row["state"] == "training" and row["learner_steps"] and row["loss"] is not None:
            assert (row["imitation_loss"] is None) == (row["imitation_weight"] == 0)
    assert {r["expert_eval_score"] for r in rows if r["frame"] > 1000} == {1.0}
    assert all(r["expert_eval_score"] is None for r in rows if r["frame"] < 1000)
    assert net_score == 1.0 and rows[-1]["imitation_weight"] == 0.0  # the gate shut it


def test_by_class_gives_the_learner_the_envs_action_classes(tmp_path):
    """imitation.by_class on Tempest: the learner's margin compares the 12 classes of the 44
    joint actions, and a real run's steps take the term; off, every action is its own."""
    settings = {"run.frames": 800, "imitation.weight": 0.5, "learner.learning_starts": 200}
    cfg = chain_cfg(tmp_path, **settings, **{"imitation.by_class": True})
    trainer = Trainer(cfg, open_run_dir(cfg))  # the real Tempest-v0 and its expert
    same = trainer.learner._same_class
    assert same.shape == (44, 44) and same.sum(dim=1).tolist().count(5.0) == 40  # 5 speeds
    trainer.run()
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert any(r["imitation_loss"] is not None for r in rows)
    plain = chain_trainer(chain_cfg(tmp_path / "plain", **settings))
    assert plain.learner._same_class is None


def test_imitation_scores_resume_exactly(tmp_path):
    settings = {"run.frames": 1200, "imitation.weight": 0.5, "actor.eval_every_frames": 1000,
                "actor.eval_episodes": 4, "imitation.anneal_frames": 5000}
    first = chain_trainer(chain_cfg(tmp_path, **settings))
    first.run()
    first.teacher.net_score = 0.25  # a network halfway there (the chain's learns it all)
    first.save("test")
    resumed = chain_trainer(chain_cfg(tmp_path, **settings))
    assert resumed.resume()
    assert resumed.teacher == first.teacher and first.teacher.expert_score == 1.0
    assert resumed.actor.frame == first.actor.frame == 1200
    resumed.actor.has_expert = first.actor.has_expert  # known once the envs answer
    for trainer in (first, resumed):
        trainer._refresh_imitation_weight()
    assert resumed.imitation_weight == first.imitation_weight == pytest.approx(
        0.5 * (1 - 1200 / 5000) * (1 - 0.25))


def test_the_imitation_command_switches_the_term_off_and_back(tmp_path):
    trainer = chain_trainer(chain_cfg(tmp_path, **{"run.frames": 600, "imitation.weight": 0.5}))
    trainer.inbox.discard_pending = lambda: 0
    send_command(trainer.paths.root, "imitation", value="off")
    trainer.run()
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert {r["imitation_weight"] for r in rows} == {0.0}
    assert {r["imitation_loss"] for r in rows} == {None}
    assert ("command", "imitation term off") in [(e["kind"], e["message"])
                                                 for e in _events(trainer)]
    send_command(trainer.paths.root, "imitation", value="toggle")
    from agent.controls import apply_commands

    apply_commands(trainer.inbox, trainer.events, trainer.overrides)
    assert trainer.overrides.imitation_weight(0.5) == 0.5  # back on its schedule


def test_no_expert_labels_no_imitation(tmp_path):
    class Unlabelled(ChainVectorEnv):
        def _info(self) -> dict:
            return {k: v for k, v in super()._info().items() if k != "expert_action"}

    cfg = chain_cfg(tmp_path, **{"run.frames": 600, "imitation.weight": 0.5})
    torch.manual_seed(0)
    trainer = Trainer(cfg, open_run_dir(cfg), lambda env_cfg: Unlabelled(env_cfg.num_envs, LENGTH),
                      label=self_labelled)
    trainer.run()
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert {r["imitation_weight"] for r in rows} == {0.0}
    assert {r["imitation_loss"] for r in rows} == {None}


def test_a_deferred_learner_learns_books_each_step_a_step_later_and_saves_them_all(tmp_path):
    """The GPU's way of stepping, run on the CPU: each step is booked after the next one is
    queued, the batch buffers alternate so the one in flight is never refilled, and a save
    books the step still in flight (counters and priorities in the checkpoint)."""
    trainer = chain_trainer(chain_cfg(tmp_path))
    trainer.learner.deferred = True
    sample, outs = trainer.replay.sample, []

    def recording_sample(*args, out, **kwargs):
        in_flight = trainer.feed.in_flight[1] if trainer.feed.in_flight else None
        assert out is not in_flight  # never the buffer a queued step reads
        outs.append(out)
        return sample(*args, out=out, **kwargs)

    trainer.replay.sample = recording_sample
    trainer.run()
    states = np.eye(LENGTH, dtype=np.float32)[: LENGTH - 1]
    assert (trainer.learner.greedy_actions(states) == 1).all()
    assert trainer.feed.in_flight is None  # booked by the final save
    assert {id(o) for o in outs} == {id(b) for b in trainer.feed.batches}  # two buffers, reused
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert any(r["loss"] is not None for r in rows)
    saved = json.loads((latest_checkpoint(trainer.paths.checkpoints) / "state.json")
                       .read_text())
    assert saved["learner"]["learner_steps"] == trainer.learner.learner_steps == len(outs)


def test_batches_are_pinned_only_for_a_gpu():
    from aimodel import host_batch
    from replay.types import Batch

    template = Batch(*(np.zeros((4, 2), np.float32) for _ in Batch._fields))
    assert host_batch(template, torch.device("cpu")) is template
    if torch.cuda.is_available():
        pinned = host_batch(template, torch.device("cuda"))
        assert all(torch.from_numpy(a).is_pinned() for a in pinned)


def test_events_and_rows_share_one_clock(tmp_path):
    """An evaluation's event falls between the row announcing it and the row after it, however
    long the run took to start (here half a second between building the trainer and running)."""
    cfg = chain_cfg(tmp_path, **{"run.frames": 1500, "actor.eval_every_frames": 1000,
                                 "actor.eval_episodes": 4})
    trainer = chain_trainer(cfg)
    time.sleep(0.5)
    trainer.run()
    rows = read_rows(trainer.paths.metrics, strict=True)
    [event] = [e for e in _events(trainer) if e["message"].startswith("evaluation at frame")]
    announced = next(i for i, r in enumerate(rows) if r["state"] == "evaluating")
    assert rows[announced]["t"] <= event["t"] <= rows[announced + 1]["t"]


def test_the_curriculum_moves_on_the_evaluations_reaches_the_env_and_resumes_exactly(tmp_path):
    """On the real Tempest-v0: every frontier evaluation clears (a stand-in for the network's
    episodes), so each evaluation moves the frontier one skill step up; the rows say so, the
    env's new games start where the distribution says, and a resumed run carries on from it."""
    settings = {"run.frames": 1600, "actor.eval_every_frames": 400, "actor.eval_episodes": 2,
                "curriculum.enabled": True, "curriculum.eval_episodes": 3}
    cfg = chain_cfg(tmp_path, **settings)
    trainer = Trainer(cfg, open_run_dir(cfg))
    asked = []

    def all_clear(greedy, wave, episodes, frame):
        asked.append((wave, episodes))
        return [GameRecord(0.0, 9, 9, False, wave, wave + 1)] * episodes

    trainer.curriculum.evaluate_at = all_clear
    trainer.run()
    assert asked == [(1, 3), (3, 3), (5, 3), (7, 3)]
    rows = read_rows(trainer.paths.metrics, strict=True)
    assert [r["curriculum_frontier"] for r in rows if r["eval_score"] is not None] == [
        3, 5, 7, 9]
    assert rows[-1]["curriculum_clear_rate"] == 1.0 and rows[-1]["curriculum_pinned"] is False
    games = trainer.env.unwrapped.games
    assert games._start_choices.tolist() == [1, 3, 5, 7, 9]
    resumed = Trainer(cfg, open_run_dir(cfg))
    assert resumed.resume() and resumed.curriculum.state == trainer.curriculum.state
    assert resumed.env.unwrapped.games._start_probs.tolist() == pytest.approx(
        [0.25, 0.25 / 3, 0.25 / 3, 0.25 / 3, 0.5])


def test_a_frontier_evaluation_plays_one_life_from_the_wave(tmp_path):
    cfg = chain_cfg(tmp_path, **{"curriculum.enabled": True})
    trainer = Trainer(cfg, open_run_dir(cfg))
    records = trainer.evaluations.at_wave(trainer.learner.greedy_actions, 13, 3, 0)
    assert len(records) == 3 and {r.start_wave for r in records} == {13}
    assert all(sum(r.deaths.values()) == 1 or r.truncated for r in records)
