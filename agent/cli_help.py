"""Help text for `tempest-dqn train --help`: every configuration field, grouped by section.

Generated from `config.py` (types from the annotations, docs from the field docstrings, defaults
from the chosen preset), so the help can never drift from the code.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import textwrap

import config

TRAIN_EPILOG = """\
configuration is resolved in this order, later wins:
  preset (--preset, or `preset = "..."` in the config file; default: {default})
  -> config file (--config FILE, .toml or .yaml: one table per section)
  -> environment (FORCE_FRESH_MODEL=1, RESET_METRICS=1)
  -> command line (--env, --frames, --run-dir, --no-tui, --fresh, --reset-metrics, --guard,
     --section.field)
presets: {presets}
"""


def format_value(value: object) -> str:
    """A field value written the way the command line accepts it back."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if value == "":
        return '""'
    return str(value)


def fields_help(preset: str = config.DEFAULT_PRESET, width: int | None = None) -> str:
    """Lists every `--section.field TYPE (default: ...)` with its docstring, one block per section.

    Args:
        preset: the preset whose values are shown as defaults.
        width: wrap width; default: the terminal width, at most 100.

    Raises:
        config.ConfigError: unknown preset.
    """
    width = width or min(100, shutil.get_terminal_size((100, 24)).columns)
    cfg = config.get_preset(preset)
    header = (
        f"fields (defaults from preset '{preset}'; set any with --section.field VALUE or "
        "--section.field=VALUE; dashes and underscores are interchangeable):"
    )
    lines = textwrap.wrap(header, width)
    infos = config.describe_fields(cfg)
    for section, group in itertools.groupby(infos, key=lambda info: info.key.split(".")[0]):
        lines += ["", f"{section}: {(type(getattr(cfg, section)).__doc__ or '').strip()}"]
        for info in group:
            metavar = config.type_metavar(info.annotation)
            lines.append(f"  --{info.key} {metavar}  (default: {format_value(info.default)})")
            lines += textwrap.wrap(
                info.doc, width, initial_indent=" " * 6, subsequent_indent=" " * 6
            )
    return "\n".join(lines)


class TrainHelpAction(argparse.Action):
    """`train -h`: the usual help, then every field with the defaults of the preset given so far.

    `train --preset pong --help` therefore shows Pong's values; the preset must come first.
    """

    def __init__(self, option_strings: list[str], dest: str, **kwargs: object) -> None:
        super().__init__(option_strings, dest=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(self, parser, namespace, values, option_string=None) -> None:  # noqa: ANN001
        preset = getattr(namespace, "preset", None) or config.DEFAULT_PRESET
        parser.print_help()
        print()
        print(fields_help(preset))
        parser.exit()


def train_epilog() -> str:
    """The resolution order and the preset names, shown under `train --help`'s options."""
    return TRAIN_EPILOG.format(default=config.DEFAULT_PRESET, presets=", ".join(config.PRESETS))
