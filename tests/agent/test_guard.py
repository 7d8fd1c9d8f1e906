"""Guard mode and the live doctor (agent.guard): findings logged, rollbacks, giving up."""

from __future__ import annotations

import dataclasses
import json

import torch

import config
from agent.guard import DoctorOnDuty, checkpoint_before, live_changes
from agent.rundir import open_run_dir
from agent.trainer import Trainer
from metrics import GUARD_CODES, EventLog, read_events
from tests.fakes import ChainVectorEnv
from tests.metrics.doctor_traces import seed_004_agreement_and_loss


def _generation(checkpoints, number: int, frame: int | None) -> None:
    generation = checkpoints / f"gen-{number:06d}"
    generation.mkdir(parents=True)
    if frame is not None:
        (generation / "state.json").write_text(json.dumps({"counters": {"frame": frame}}))


def test_the_rollback_target_is_the_newest_generation_saved_before_the_onset(tmp_path):
    _generation(tmp_path, 1, 1_000)
    _generation(tmp_path, 2, 5_000)
    _generation(tmp_path, 3, None)  # incomplete: no state.json
    _generation(tmp_path, 4, 9_000)
    assert checkpoint_before(tmp_path, 9_500).name == "gen-000004"
    assert checkpoint_before(tmp_path, 9_000).name == "gen-000002"  # saved at the onset: after
    assert checkpoint_before(tmp_path, 1_000) is None
    assert checkpoint_before(tmp_path / "none", 10**9) is None


def test_only_live_learner_fields_are_applied_else_the_lr_is_halved():
    learner = config.LearnerConfig(lr=0.004)
    assert live_changes({"learner.lr": 0.001}, learner) == {"lr": 0.001}
    assert live_changes({"learner.max_grad_norm": 10.0}, learner) == {"max_grad_norm": 10.0}
    assert live_changes({"replay.n_step": 5}, learner) == {"lr": 0.002}
    assert live_changes({"learner.batch_size": 4, "learner.micro_batches": 4}, learner) == \
        {"lr": 0.002}
    assert live_changes({}, learner) == {"lr": 0.002}


def _duty(tmp_path, guard: bool, max_rollbacks: int = 3):
    cfg = config.apply_overrides(config.get_preset("tempest"),
                                 {"doctor.guard": guard, "doctor.max_rollbacks": max_rollbacks})
    calls = []

    def restore(generation, changes):
        calls.append((generation, changes))
        return dataclasses.replace(cfg.learner, **changes)

    events = EventLog(tmp_path / "events.jsonl")
    return DoctorOnDuty(cfg, events, tmp_path / "checkpoints", restore), calls, events


def test_findings_are_logged_live_and_without_guard_nothing_is_rolled_back(tmp_path):
    duty, calls, events = _duty(tmp_path, guard=False)
    trace = seed_004_agreement_and_loss()
    found = [f for row in trace.rows for f in duty.examine(row)]
    events.close()
    logged = [e for e in read_events(tmp_path / "events.jsonl") if e["kind"] == "finding"]
    assert {f.code for f in found} >= {"loss_explosion", "agreement_collapse"}
    assert [e["code"] for e in logged] == [f.code for f in found]
    explosion = next(e for e in logged if e["code"] == "loss_explosion")
    assert explosion["frame"] == trace.onset_frame("loss_explosion")
    assert explosion["advice"] and explosion["severity"] == "critical"
    assert calls == []


def test_guard_rolls_back_once_per_alarm_and_gives_up_after_max_rollbacks(tmp_path):
    _generation(tmp_path / "checkpoints", 1, 1_000)
    duty, calls, events = _duty(tmp_path, guard=True, max_rollbacks=1)
    trace = seed_004_agreement_and_loss()
    for row in trace.rows:
        duty.examine(row)
    assert len(calls) == 1 and calls[0][0].name == "gen-000001"
    first_changes = calls[0][1]
    assert duty.cfg.learner == dataclasses.replace(duty.cfg.learner, **first_changes)
    for row in trace.rows:  # the same collapse again, after the rollback
        duty.examine(row)
    events.close()
    guard = [e for e in read_events(tmp_path / "events.jsonl") if "guard" in e]
    assert [e["guard"] for e in guard] == ["rollback", "gave_up"]
    assert "gen-000001" in guard[0]["message"] and "rollback 1 of 1" in guard[0]["message"]
    alarm = next(e for e in read_events(tmp_path / "events.jsonl")
                 if e.get("code") in GUARD_CODES and e["kind"] == "finding")
    assert guard[0]["frame"] == alarm["detected_frame"]  # the row `tempest-dqn doctor` restarts at
    assert "gave up after 1 rollbacks" in guard[1]["message"]
    assert len(calls) == 1 and not duty.guarding


def _chain_trainer(tmp_path, **overrides) -> Trainer:
    cfg = config.apply_overrides(config.get_preset("smoke"), {
        "env.num_envs": 4, "replay.capacity": 2000, "replay.sample_threads": 1,
        "learner.batch_size": 32, "learner.hidden_sizes": "32", "learner.learning_starts": 100,
        "learner.lr": 3e-3, "run.frames": 400, "run.run_dir": str(tmp_path),
        "run.name": "chain", "metrics.interval_s": 0.0, "doctor.guard": True, **overrides})
    torch.manual_seed(0)
    return Trainer(cfg, open_run_dir(cfg), lambda env_cfg: ChainVectorEnv(env_cfg.num_envs, 6),
                   label=lambda env, _cfg: env)


def test_a_trainer_in_guard_mode_restores_the_checkpoint_weights_and_applies_the_remedy(
        tmp_path):
    trainer = _chain_trainer(tmp_path)
    trainer.run()  # ends with a checkpoint at frame 400
    saved = [p.detach().clone() for p in trainer.learner.online.parameters()]
    steps, original = trainer.learner.learner_steps, trainer.learner.cfg
    with torch.no_grad():  # the divergence the rows below report
        for p in trainer.learner.online.parameters():
            p.mul_(3.0)
    trainer.learner.learner_steps += 50
    for row in seed_004_agreement_and_loss().rows:  # frames from 2M on: after the checkpoint
        trainer.duty.examine(row)
    for now, before in zip(trainer.learner.online.parameters(), saved, strict=True):
        assert torch.equal(now, before)
    assert trainer.learner.learner_steps == steps
    rollback = next(e for e in read_events(trainer.paths.events) if e.get("guard") == "rollback")
    assert rollback["changes"]
    for key, value in rollback["changes"].items():
        assert getattr(trainer.learner.cfg, key.split(".", 1)[1]) == value
    assert trainer.learner.cfg != original and trainer.cfg.learner == trainer.learner.cfg


def test_a_problem_that_comes_back_goes_back_to_before_its_first_onset(tmp_path):
    trace = seed_004_agreement_and_loss()
    onset = trace.onset_frame("loss_explosion")
    _generation(tmp_path / "checkpoints", 1, onset - 50_000)  # before the trouble
    duty, calls, events = _duty(tmp_path, guard=True)
    for row in trace.rows:
        duty.examine(row)
    _generation(tmp_path / "checkpoints", 2, onset + 10_000_000)  # saved during the trouble
    later = [dict(row, frame=row["frame"] + 20_000_000) for row in trace.rows]
    for row in later:  # the same collapse, later: the doctor, restarted, sees a new onset
        duty.examine(row)
    assert [generation.name for generation, _ in calls] == ["gen-000001", "gen-000001"]


def test_guard_mode_saves_the_weights_before_the_first_learner_step(tmp_path):
    trainer = _chain_trainer(tmp_path)
    trainer.run()
    saves = [e for e in read_events(trainer.paths.events) if e["kind"] == "checkpoint"]
    assert "before the first learner step" in saves[0]["message"]
    assert sum("before the first learner step" in e["message"] for e in saves) == 1
    state = json.loads((tmp_path / "chain" / "checkpoints" / "gen-000001" / "state.json")
                       .read_text())
    assert state["learner"]["learner_steps"] == 0 and saves[0]["frame"] >= 100  # learning_starts


def test_the_floor_and_the_rollback_target_are_pinned_while_the_trouble_lasts(tmp_path):
    trace = seed_004_agreement_and_loss()
    _generation(tmp_path / "checkpoints", 1, 50)
    _generation(tmp_path / "checkpoints", 2, trace.onset_frame("loss_explosion") - 1)
    duty, _, _ = _duty(tmp_path, guard=True)
    duty.floor = tmp_path / "checkpoints" / "gen-000001"
    assert duty.pinned() == {"gen-000001"}
    for row in trace.rows:
        duty.examine(row)
    assert duty.pinned() == {"gen-000001", "gen-000002"}


def test_a_rollback_keeps_the_imitation_term_and_its_scores(tmp_path):
    """The guard puts back the learner's networks and Adam and applies a remedy; lambda, its
    margin and the gate's scores are the trainer's and go on: the next step still imitates."""
    trainer = _chain_trainer(tmp_path, **{"imitation.weight": 0.5, "imitation.gate": False})
    trainer.run()
    trainer.teacher.expert_score = 1.0
    margin, generation = trainer.learner.imitation_margin, trainer.paths.checkpoints / "latest"
    trainer._roll_back_learner(generation.resolve(), {"lr": 1e-3})
    assert trainer.learner.cfg.lr == 1e-3 and trainer.learner.imitation_margin == margin
    assert trainer.teacher.expert_score == 1.0
    trainer._refresh_imitation_weight()
    batch = trainer.replay.sample(32, beta=1.0, out=trainer.feed.batches[0])
    stats = trainer.learner.step(batch)
    assert trainer.learner.imitation_weight == 0.5 and stats.imitation is not None
    assert stats.imitation[1] == 32  # every chain state carries the expert's label
