"""config.py's sources: TOML and YAML files, the environment's flags, and the order in which
presets, files, the environment and overrides resolve."""

from __future__ import annotations

import pytest

import config
from config import ConfigError, load_config_file, resolve

SMOKE = config.PRESETS["smoke"]

# ----------------------------------------------------------------------------------------- files


def test_toml_file_is_flattened_to_dotted_keys(tmp_path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        'preset = "pong"\n[learner]\nlr = 3e-4\nhidden_sizes = [256, 256]\n[replay]\nn-step = 5\n'
    )
    assert load_config_file(path) == {
        "preset": "pong",
        "learner.lr": 3e-4,
        "learner.hidden_sizes": [256, 256],
        "replay.n-step": 5,
    }
    cfg = resolve(config_file=path, environ={})
    assert cfg.env.id == "ALE/Pong-v5" and cfg.learner.lr == 3e-4
    assert cfg.learner.hidden_sizes == (256, 256) and cfg.replay.n_step == 5


@pytest.mark.parametrize("suffix", [".yaml", ".yml"])
def test_yaml_file_is_flattened_to_dotted_keys(tmp_path, suffix: str) -> None:
    path = tmp_path / f"run{suffix}"
    path.write_text("learner:\n  lr: 3e-4\n  double_dqn: no\nrun:\n  frames: 1e6\n")
    cfg = resolve("smoke", path, environ={})
    assert cfg.learner.lr == 3e-4 and cfg.learner.double_dqn is False
    assert cfg.run.frames == 1_000_000 and cfg.replay.capacity == SMOKE.replay.capacity


def test_empty_yaml_file_changes_nothing(tmp_path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("")
    assert resolve("smoke", path, environ={}) == SMOKE


def test_missing_config_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"config file not found: .*nope\.toml"):
        load_config_file(tmp_path / "nope.toml")


def test_unsupported_extension(tmp_path) -> None:
    path = tmp_path / "run.ini"
    path.write_text("[learner]\n")
    with pytest.raises(ConfigError, match=r"unsupported extension; use .toml, .yaml or .yml"):
        load_config_file(path)


def test_toml_syntax_error_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[learner]\nlr = 3e-4\nbatch_size = = 3\n")
    with pytest.raises(ConfigError, match=r"cannot parse config file .*bad\.toml.*line 3"):
        load_config_file(path)


def test_yaml_syntax_error_names_file_and_line(tmp_path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("learner:\n  lr: 3e-4\n  batch_size: [1, 2\n")
    with pytest.raises(ConfigError, match=r"cannot parse config file .*bad\.yaml at line \d+"):
        load_config_file(path)


def test_yaml_that_is_not_a_mapping(tmp_path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- 1\n- 2\n")
    with pytest.raises(ConfigError, match=r"must hold a mapping of sections"):
        load_config_file(path)


def test_unknown_field_in_file_names_the_file(tmp_path) -> None:
    path = tmp_path / "typo.toml"
    path.write_text("[learner]\nlrr = 1e-3\n")
    with pytest.raises(ConfigError, match=r"typo\.toml: unknown field 'learner.lrr'"):
        resolve(config_file=path, environ={})


# ----------------------------------------------------------------------------------- environment


@pytest.mark.parametrize("value", ["1", "true", "TRUE", "yes", "On"])
def test_truthy_environment_flags(value: str) -> None:
    cfg = resolve("smoke", environ={"FORCE_FRESH_MODEL": value, "RESET_METRICS": value})
    assert cfg.run.force_fresh_model and cfg.run.reset_metrics


@pytest.mark.parametrize("value", ["0", "false", "No", "off", ""])
def test_falsy_environment_flags(value: str) -> None:
    cfg = resolve("smoke", environ={"FORCE_FRESH_MODEL": value, "RESET_METRICS": value})
    assert not cfg.run.force_fresh_model and not cfg.run.reset_metrics


def test_environment_flag_that_is_neither_yes_nor_no() -> None:
    with pytest.raises(ConfigError, match=r"environment variable RESET_METRICS='maybe'"):
        resolve("smoke", environ={"RESET_METRICS": "maybe"})


def test_unrelated_environment_is_ignored() -> None:
    assert resolve("smoke", environ={"HOME": "/root", "PATH": "/bin"}) == SMOKE


# ----------------------------------------------------------------------------------------- order


def test_resolution_order_preset_file_environment_overrides(tmp_path) -> None:
    path = tmp_path / "run.toml"
    path.write_text(
        'preset = "pong"\n[learner]\nlr = 2e-4\ngamma = 0.98\n'
        "[run]\nforce_fresh_model = true\nreset_metrics = false\n"
    )
    cfg = resolve(
        None,
        path,
        {"learner.gamma": "0.97", "run.reset_metrics": "false"},
        {"FORCE_FRESH_MODEL": "0", "RESET_METRICS": "1"},
    )
    assert cfg.env.id == "ALE/Pong-v5"  # the file's preset
    assert cfg.learner.batch_size == config.PRESETS["pong"].learner.batch_size  # preset
    assert cfg.learner.lr == 2e-4  # file over preset
    assert cfg.run.force_fresh_model is False  # environment over file
    assert cfg.learner.gamma == 0.97  # overrides over file
    assert cfg.run.reset_metrics is False  # overrides over environment


def test_explicit_preset_wins_over_the_files(tmp_path) -> None:
    path = tmp_path / "run.toml"
    path.write_text('preset = "pong"\n')
    assert resolve("smoke", path, environ={}).env.id == "Tempest-v0"
