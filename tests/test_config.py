"""config.py: presets, field docs, overrides, validation, round trip (config files, the
environment and the resolution order: test_config_sources.py)."""

from __future__ import annotations

import dataclasses
import json

import pytest

import config
from config import (
    Config,
    ConfigError,
    apply_overrides,
    field_docs,
    from_dict,
    resolve,
    to_dict,
    validate,
)

SMOKE = config.PRESETS["smoke"]


def _section_classes() -> list[type]:
    return [Config] + [type(getattr(Config(), name)) for name in config.SECTIONS]


# --------------------------------------------------------------------------------------- presets


@pytest.mark.parametrize("name", sorted(config.PRESETS))
def test_every_preset_validates(name: str) -> None:
    validate(config.PRESETS[name])


def test_default_preset_is_tempest_and_the_dataclass_defaults() -> None:
    assert config.DEFAULT_PRESET == "tempest"
    assert config.PRESETS["tempest"] == Config()
    assert resolve(environ={}) == Config()
    assert Config().env.id == "Tempest-v0"


def test_presets_have_their_promised_shape() -> None:
    tempest, smoke = config.PRESETS["tempest"], config.PRESETS["smoke"]
    assert tempest.expert.enabled and tempest.learner.batch_size >= 4096
    assert tempest.learner.batch_size % tempest.learner.micro_batches == 0
    assert 5 <= tempest.replay.n_step <= 12 and tempest.replay.capacity == 1_000_000
    assert smoke.run.frames <= 10_000 and smoke.replay.capacity <= 10_000
    assert config.PRESETS["pong"].env.id == "ALE/Pong-v5"
    assert config.PRESETS["breakout"].env.id == "ALE/Breakout-v5"
    assert config.PRESETS["pong"].expert.enabled and config.PRESETS["breakout"].expert.enabled
    for ale in (config.PRESETS["pong"], config.PRESETS["breakout"]):  # the term, gated
        assert ale.imitation.weight > 0 and ale.imitation.gate and ale.actor.eval_every_frames > 0
    assert tempest.curriculum.enabled and tempest.env.reward_subjective_scale == 0
    for name in ("smoke", "pong", "breakout"):  # no evaluations, or no waves
        assert not config.PRESETS[name].curriculum.enabled
    gpu = config.PRESETS["tempest-gpu"]  # the tempest preset, sized for one large card
    assert gpu.learner.device == "cuda" and gpu.env.id == tempest.env.id
    assert (gpu.learner.batch_size, gpu.learner.micro_batches) == (16_384, 1)
    assert gpu.env.num_envs > tempest.env.num_envs and gpu.expert == tempest.expert


def test_unknown_preset_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"unknown preset 'pongg'.*did you mean 'pong'") as err:
        resolve("pongg", environ={})
    assert "breakout, pong, smoke, tempest" in str(err.value)


# ------------------------------------------------------------------------------------------ docs


@pytest.mark.parametrize("cls", _section_classes(), ids=lambda c: c.__name__)
def test_every_field_has_a_docstring(cls: type) -> None:
    docs = field_docs(cls)
    for f in dataclasses.fields(cls):
        assert docs.get(f.name, "").strip(), f"{cls.__name__}.{f.name} has no docstring"


def test_describe_fields_covers_every_field_with_its_doc() -> None:
    infos = list(config.describe_fields())
    expected = sum(len(dataclasses.fields(c)) for c in _section_classes()[1:])
    assert len(infos) == expected
    lr = next(i for i in infos if i.key == "learner.lr")
    assert (
        lr.annotation is float and lr.default == Config().learner.lr and "learning rate" in lr.doc
    )


# ------------------------------------------------------------------------------------- overrides


@pytest.mark.parametrize(
    ("key", "raw", "expected"),
    [
        ("learner.lr", "3e-4", 3e-4),
        ("learner.lr", 0.001, 0.001),
        ("learner.lr", 1, 1.0),
        ("learner.batch_size", "256", 256),
        ("learner.batch_size", 512, 512),
        ("run.frames", "1e6", 1_000_000),
        ("run.frames", "2_000_000", 2_000_000),
        ("run.frames", 3e6, 3_000_000),
        ("learner.double_dqn", "false", False),
        ("learner.double_dqn", "YES", True),
        ("learner.double_dqn", "0", False),
        ("learner.double_dqn", "on", True),
        ("learner.double_dqn", True, True),
        ("run.name", "my-run", "my-run"),
        ("learner.loss", "mse", "mse"),
        ("learner.loss", "Huber", "huber"),
        ("learner.hidden_sizes", "256,256", (256, 256)),
        ("learner.hidden_sizes", "[128, 64]", (128, 64)),
        ("learner.hidden_sizes", [32, 16, 8], (32, 16, 8)),
        ("learner.hidden_sizes", "64", (64,)),
        ("replay.obs_dtype", "float16", "float16"),
    ],
)
def test_overrides_coerce_to_the_field_type(key: str, raw: object, expected: object) -> None:
    cfg = apply_overrides(Config(), {key: raw})
    section, name = key.split(".")
    value = getattr(getattr(cfg, section), name)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize(
    ("key", "raw", "expected_type"),
    [
        ("learner.lr", "fast", "a number"),
        ("learner.lr", "nan", "a number"),
        ("learner.lr", True, "a number"),
        ("learner.batch_size", "big", "an integer"),
        ("learner.batch_size", "1.5", "an integer"),
        ("learner.batch_size", False, "an integer"),
        ("learner.double_dqn", "maybe", "a boolean"),
        ("learner.loss", "l1", "one of 'huber', 'mse'"),
        ("learner.hidden_sizes", "256,wide", "a comma-separated list of integers"),
        ("run.name", 7, "a string"),
    ],
)
def test_unparseable_value_names_field_value_and_type(
    key: str, raw: object, expected_type: str
) -> None:
    with pytest.raises(ConfigError, match=rf"^{key} expects {expected_type}.*got {raw!r}"):
        apply_overrides(Config(), {key: raw})


def test_dashes_and_underscores_are_equivalent() -> None:
    dashed = apply_overrides(Config(), {"learner.max-grad-norm": "5", "replay.n-step": "3"})
    underscored = apply_overrides(Config(), {"learner.max_grad_norm": "5", "replay.n_step": "3"})
    assert dashed == underscored
    assert dashed.learner.max_grad_norm == 5.0 and dashed.replay.n_step == 3


def test_overrides_leave_the_input_untouched() -> None:
    before = Config()
    after = apply_overrides(before, {"learner.lr": "1e-3"})
    assert before.learner.lr == Config().learner.lr and after.learner.lr == 1e-3
    with pytest.raises(dataclasses.FrozenInstanceError):
        after.learner.lr = 0.5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("learner.lrr", r"unknown field 'learner.lrr'; did you mean 'learner.lr'\?"),
        ("lr", r"unknown field 'lr'; did you mean 'learner.lr'\?"),
        ("env.gamma", r"unknown field 'env.gamma'; did you mean 'learner.gamma'\?"),
        ("lerner.lr", r"unknown section 'lerner' in 'lerner.lr'.*did you mean 'learner.lr'\?"),
        ("learner.max-grad-nrom", r"did you mean 'learner.max_grad_norm'\?"),
    ],
)
def test_unknown_names_suggest_the_nearest(key: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        apply_overrides(Config(), {key: "1"})


def test_unknown_name_with_no_neighbour_says_so_plainly() -> None:
    with pytest.raises(ConfigError, match=r"^unknown field 'learner.qqqqqqqq'$"):
        apply_overrides(Config(), {"learner.qqqqqqqq": "1"})
    with pytest.raises(
        ConfigError, match=r"^unknown section 'zzzz' in 'zzzz.qqqq' \(sections: env,"
    ):
        apply_overrides(Config(), {"zzzz.qqqq": "1"})


# ------------------------------------------------------------------------------------ validation


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"learner.batch_size": 0}, r"learner.batch_size must be a positive integer, got 0"),
        ({"learner.batch_size": -4}, r"learner.batch_size must be a positive integer, got -4"),
        (
            {"learner.batch_size": 64, "learner.micro_batches": 3},
            r"learner.batch_size \(64\) must be divisible by learner.micro_batches \(3\)",
        ),
        ({"replay.n_step": 0}, r"replay.n_step must be a positive integer, got 0"),
        ({"learner.tau": 0}, r"learner.tau must be in \(0, 1\], got 0"),
        ({"learner.tau": 1.5}, r"learner.tau must be in \(0, 1\], got 1.5"),
        (
            {"learner.tau": 1.0, "learner.hard_update_every": 0},
            r"target network would never move",
        ),
        (
            {"expert.ratio_start": 0.2, "expert.ratio_floor": 0.3},
            r"expert.ratio_floor \(0.3\) must not be above expert.ratio_start \(0.2\)",
        ),
        ({"env.sticky_action_prob": 1.5}, r"env.sticky_action_prob must be in \[0, 1\], got 1.5"),
        ({"actor.epsilon_end": -0.1}, r"actor.epsilon_end must be in \[0, 1\], got -0.1"),
        ({"actor.eval_epsilon": 2}, r"actor.eval_epsilon must be in \[0, 1\]"),
        ({"replay.beta_start": 1.2}, r"replay.beta_start must be in \[0, 1\]"),
        ({"expert.ratio_start": 1.1}, r"expert.ratio_start must be in \[0, 1\]"),
        ({"learner.gamma": 1.01}, r"learner.gamma must be in \(0, 1\], got 1.01"),
        ({"learner.gamma": 0}, r"learner.gamma must be in \(0, 1\], got 0"),
        (
            {
                "replay.capacity": 100,
                "env.num_envs": 20,
                "learner.batch_size": 2,
                "learner.micro_batches": 1,
            },
            r"replay.capacity // env.num_envs = 5 rows per environment.*at least .* = 6",
        ),
        (
            {"replay.capacity": 32, "learner.batch_size": 64},
            r"replay.capacity \(32\) must be at least learner.batch_size \(64\)",
        ),
        ({"learner.lr": 0}, r"learner.lr must be greater than 0, got 0"),
        ({"learner.max_grad_norm": -1}, r"learner.max_grad_norm must be 0 or more, got -1"),
        ({"learner.hidden_sizes": []}, r"learner.hidden_sizes must list one or more"),
        ({"expert.decay_per_interval": 0}, r"expert.decay_per_interval must be in \(0, 1\]"),
        ({"run.name": "a/b"}, r"run.name must be a plain directory name"),
        ({"run.resume_from": "yesterday"}, r"run.resume_from must be 'latest-good' or a gen"),
        ({"run.resume_from": "6", "run.force_fresh_model": True},
         r"run.resume_from and run.force_fresh_model \(--fresh\) contradict"),
        ({"curriculum.enabled": True, "env.id": "ALE/Pong-v5"},
         r"needs Tempest-v0's waves; ALE/Pong-v5 has none: set curriculum.enabled false"),
        ({"curriculum.enabled": True},
         r"needs evaluations.*actor.eval_every_frames above 0, or curriculum.enabled false"),
    ],
)
def test_validation_errors_are_actionable(overrides: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        validate(apply_overrides(SMOKE, overrides))


def test_validation_reports_every_problem_at_once() -> None:
    cfg = apply_overrides(SMOKE, {"learner.batch_size": 0, "replay.n_step": 0})
    with pytest.raises(ConfigError) as err:
        validate(cfg)
    assert len(str(err.value).splitlines()) == 2


def test_validation_checks_types_of_directly_built_configs() -> None:
    cfg = dataclasses.replace(
        Config(), learner=dataclasses.replace(Config().learner, batch_size="64", loss="l2")
    )
    with pytest.raises(ConfigError, match=r"learner.batch_size expects an integer, got '64'"):
        validate(cfg)


def test_config_error_is_a_value_error() -> None:
    assert issubclass(ConfigError, ValueError)


@pytest.mark.parametrize(
    "env_id", ["Tempest-v0", "ALE/Pong-v5", "ALE/Breakout-v5", "ALE/MsPacman-v5"]
)
def test_valid_env_ids(env_id: str) -> None:
    validate(apply_overrides(SMOKE, {"env.id": env_id}))


@pytest.mark.parametrize(
    ("env_id", "suggestion"),
    [
        ("ALE/Pongg-v5", "ALE/Pong-v5"),
        ("Pong-v5", "ALE/Pong-v5"),
        ("PongNoFrameskip-v4", "ALE/Pong-v5"),
        ("ALE/breakout-v5", "ALE/Breakout-v5"),
        ("tempest-v0", "Tempest-v0"),
        ("ALE/Tempest-v5", "Tempest-v0"),
    ],
)
def test_unknown_env_id_suggests_the_closest(env_id: str, suggestion: str) -> None:
    with pytest.raises(
        ConfigError, match=rf"unknown env id '{env_id}' \(did you mean '{suggestion}'"
    ):
        validate(apply_overrides(SMOKE, {"env.id": env_id}))


def test_unknown_env_id_states_the_valid_forms() -> None:
    with pytest.raises(ConfigError, match=r"valid forms: 'Tempest-v0'.*'ALE/<Game>-v5'"):
        validate(apply_overrides(SMOKE, {"env.id": "CartPole-v1"}))


# ------------------------------------------------------------------------------------ round trip


@pytest.mark.parametrize("name", sorted(config.PRESETS))
def test_to_dict_from_dict_round_trip_is_exact(name: str) -> None:
    cfg = config.PRESETS[name]
    assert from_dict(to_dict(cfg)) == cfg
    assert from_dict(json.loads(json.dumps(to_dict(cfg)))) == cfg


def test_to_dict_is_json_ready_and_complete() -> None:
    data = to_dict(Config())
    assert list(data) == list(config.SECTIONS)
    assert data["learner"]["hidden_sizes"] == list(Config().learner.hidden_sizes)
    json.dumps(data)


def test_a_saved_env_without_lane_map_was_trained_without_it() -> None:
    """A run saved before the lane map existed learned the 247-value observation: its saved
    env section reads lane_map false, while a new configuration (and a dict without the env
    section, as the doctor's) takes today's default."""
    assert Config().env.lane_map is True
    saved = to_dict(Config())
    del saved["env"]["lane_map"]
    assert from_dict(saved).env.lane_map is False
    assert from_dict({"doctor": {}}).env.lane_map is True
    assert from_dict(to_dict(Config())).env.lane_map is True


@pytest.mark.parametrize("clock", ["shot_clock", "spike_clock"])
def test_a_saved_env_without_a_clock_reads_that_channel_as_a_depth(clock) -> None:
    on = apply_overrides(Config(), {f"env.{clock}": True})
    saved = to_dict(on)
    del saved["env"][clock]
    assert getattr(from_dict(saved).env, clock) is False
    assert from_dict(saved).env.lane_map is True
    assert getattr(from_dict(to_dict(on)).env, clock) is True
    assert Config().env.shot_clock is True and Config().env.spike_clock is False


def test_from_dict_fills_missing_fields_and_rejects_unknown() -> None:
    assert from_dict({"learner": {"lr": 0.5}}).learner.lr == 0.5
    assert from_dict({}) == Config()
    with pytest.raises(ConfigError, match=r"unknown field 'learner.lrr'"):
        from_dict({"learner": {"lrr": 0.5}})
