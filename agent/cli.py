"""The `tempest-dqn` command line (also `python -m agent`).

Exit codes: 0 success; 1 the work it ran failed (for `doctor`: it has findings; for `bench`: a
benchmark missing from the install); 2 a user error (bad flag, unknown field,
invalid value, unreadable config or metrics file). User errors print `error: <message>` and,
where useful, a `hint:` line on stderr; never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import sys
from collections.abc import Callable, Mapping, Sequence

import config
from agent.cli_help import TrainHelpAction, train_epilog

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

FIELD_HINT = "'tempest-dqn train --help' lists every field with its type and default"


class UsageError(Exception):
    """A malformed command line; `hint` says where to look."""

    def __init__(self, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.hint = hint


class _Parser(argparse.ArgumentParser):
    """Raises `UsageError` instead of printing and exiting, so `main` formats every error alike."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message, hint=f"run '{self.prog} --help' for usage")


def split_overrides(tokens: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Separates `--section.field VALUE` / `--section.field=VALUE` tokens from the other arguments.

    A token is an override when it starts with `--` and its name contains a dot; argparse then
    sees only the fixed flags, so unknown flags still fail loudly.

    Returns:
        ({"section.field": "VALUE", ...}, remaining tokens in order).

    Raises:
        UsageError: an override with no value.
    """
    overrides: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        name, has_value, value = token[2:].partition("=")
        if not token.startswith("--") or "." not in name:
            rest.append(token)
            i += 1
            continue
        if not has_value:
            if i + 1 >= len(tokens) or tokens[i + 1].startswith("--"):
                raise UsageError(f"{token} needs a value: {token} VALUE", hint=FIELD_HINT)
            value = tokens[i + 1]
            i += 1
        overrides[name] = value
        i += 1
    return overrides, rest


def _add_train(subparsers: argparse._SubParsersAction) -> None:
    train = subparsers.add_parser(
        "train",
        help="train an agent (dashboard in a terminal, progress lines otherwise)",
        description="Train a DQN agent. Any configuration field can be set with\n"
        "--section.field VALUE (e.g. --learner.lr 3e-4 --replay.n-step 5).",
        epilog=train_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
        add_help=False,
    )
    train.add_argument(
        "-h", "--help", action=TrainHelpAction, help="show this help and every field"
    )
    train.add_argument("--preset", help=f"named preset (default: {config.DEFAULT_PRESET})")
    train.add_argument("--env", metavar="ID", help="env id: Tempest-v0 or ALE/<Game>-v5")
    train.add_argument("--frames", metavar="N", help="total emulator frames (run.frames)")
    train.add_argument("--run-dir", metavar="DIR", help="directory of runs (run.run_dir)")
    train.add_argument("--no-tui", action="store_true", help="no dashboard (tui.enabled=false)")
    train.add_argument(
        "--fresh", action="store_true", help="start a fresh model; archive the old run"
    )
    train.add_argument(
        "--reset-metrics", action="store_true", help="keep weights; restart schedules and windows"
    )
    train.add_argument(
        "--resume-from", metavar="GENERATION",
        help="resume from this checkpoint generation (gen-000006, 6, or latest-good: the "
        "newest that verifies) when latest no longer loads; newer ones are archived",
    )
    train.add_argument(
        "--guard",
        action="store_true",
        help="on a blow-up, roll back to the last checkpoint and apply the doctor's remedy "
        "(doctor.guard=true)",
    )
    train.add_argument("--config", metavar="FILE", help="a .toml or .yaml file of overrides")
    train.add_argument(
        "--print-config", action="store_true", help="print the resolved configuration as JSON"
    )


def _add_eval(sub) -> None:
    evaluate = sub.add_parser(
        "eval", help="greedy evaluation of a checkpoint (or a scripted player): JSON on stdout, "
        "a table of the games on stderr")
    evaluate.add_argument("target", metavar="CHECKPOINT_OR_RUN_DIR", nargs="?",
                          help="a run directory (its latest checkpoint) or one generation")
    evaluate.add_argument("--episodes", type=int, default=10, metavar="N",
                          help="episodes to play, one env each (default 10)")
    evaluate.add_argument("--seed", type=int, default=0, metavar="S",
                          help="env i plays seed S + i (default 0)")
    evaluate.add_argument(
        "--policy", choices=("network", "expert", "attract", "random"), default="network",
        help="who plays: the checkpoint's network (default), or a scripted player without a "
        "checkpoint (the expert, Tempest's attract-mode AI, uniform random) on --preset's game")
    evaluate.add_argument("--preset", metavar="NAME",
                          help="the game of a scripted --policy (default: tempest)")
    evaluate.add_argument(
        "--protocol", choices=("life", "game"),
        help="Tempest: one life per episode (as training) or whole games (3 lives, bonus "
        "lives); default: as the run trained. ALE games are always whole games")
    evaluate.add_argument("--start-wave", type=int, metavar="W",
                          help="Tempest: the wave every episode starts at (default: the run's)")
    evaluate.add_argument("--video", metavar="FILE",
                          help="film the first episode to FILE.mp4 or FILE.gif")
    evaluate.add_argument("--video-frames", type=int, default=None, metavar="N",
                          help="stop filming after N pictures (default: the whole episode, "
                          "up to 20,000)")


def build_parser() -> argparse.ArgumentParser:
    """The full parser; `train`'s `--section.field` overrides are split off before it runs."""
    parser = _Parser(
        prog="tempest-dqn",
        description="Deep Q-Network training for arcade games (ALE and a Tempest simulator).",
        allow_abbrev=False,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_train(sub)
    _add_eval(sub)
    watch = sub.add_parser("watch", help="the dashboard, attached to a run started elsewhere")
    watch.add_argument("run_dir", metavar="RUN_DIR")
    watch.add_argument("--hz", type=float, default=4.0, help="screen updates per second")
    doctor = sub.add_parser(
        "doctor", help="diagnose a recorded run (exit 0 healthy, 1 findings, 2 bad input)"
    )
    doctor.add_argument("target", metavar="RUN_DIR_OR_METRICS_JSONL")
    doctor.add_argument("--json", action="store_true", help="one JSON finding per line")
    plot = sub.add_parser("plot", help="the curves of one or more runs on one figure")
    _plot_module().add_arguments(plot)
    bench = sub.add_parser("bench", help="benchmarks; JSON on stdout")
    bench.add_argument("which",
                       choices=("replay", "env", "learner", "loop", "tui", "gpu", "soak", "attach",
                                "actors", "all"))
    bench.add_argument("--quick", action="store_true", help="small sizes, a few seconds")
    bench.add_argument("--device", choices=DEVICE_BENCHES_CHOICES, default=None,
                       help="where `bench learner` (default cpu) and `bench gpu` (default "
                            "cuda) run their learner")
    for command in sub.choices.values():
        command.allow_abbrev = False
    return parser


DEVICE_BENCHES = {"learner": "cpu", "gpu": "cuda"}
"""The benchmarks that take --device, and their default device."""
DEVICE_BENCHES_CHOICES = ("cpu", "cuda")


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("tempest-dqn")
    except PackageNotFoundError:
        return "unknown"


def _failed(message: str) -> int:
    print(f"tempest-dqn: {message}", file=sys.stderr)
    return EXIT_FAILED


def _flag_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The fixed `train` flags, as the fields they stand for."""
    pairs: dict[str, object] = {"env.id": args.env, "run.frames": args.frames}
    pairs["run.run_dir"] = args.run_dir
    pairs["tui.enabled"] = False if args.no_tui else None
    pairs["run.force_fresh_model"] = True if args.fresh else None
    pairs["run.reset_metrics"] = True if args.reset_metrics else None
    pairs["doctor.guard"] = True if args.guard else None
    pairs["run.resume_from"] = args.resume_from
    return {key: value for key, value in pairs.items() if value is not None}


def cmd_train(
    args: argparse.Namespace, overrides: Mapping[str, str], environ: Mapping[str, str]
) -> int:
    """Resolves and validates the configuration, then trains (agent.train)."""
    cli_overrides = {**_flag_overrides(args), **overrides}
    cfg = config.resolve(args.preset, args.config, cli_overrides, environ)
    if args.print_config:
        print(json.dumps(config.to_dict(cfg), indent=2))
        return EXIT_OK
    from agent.train import UserFacingError, train
    from agent.writes import FinalSaveError

    try:
        return train(cfg)
    except UserFacingError as err:
        return _usage_error(str(err), None)
    except FinalSaveError as err:  # the disk refused the last checkpoint: said, no traceback
        return _failed(str(err))


def cmd_eval(args: argparse.Namespace) -> int:
    """Greedy evaluation; one JSON document on stdout, the games as a table on stderr."""
    from agent.checkpoint import CheckpointError
    from agent.eval_command import EvalRequest, print_json, run_eval
    from agent.evaluate import EvalRequestError

    if args.episodes < 1:
        raise UsageError(f"--episodes must be at least 1, got {args.episodes}")
    request = EvalRequest(args.episodes, args.seed, args.policy, args.protocol, args.start_wave,
                          args.video, args.video_frames)
    try:
        document, table = run_eval(args.target, request, args.preset)
    except (CheckpointError, EvalRequestError) as err:
        return _usage_error(str(err), None)
    except NotImplementedError as err:
        return _failed(str(err))
    print(table, file=sys.stderr)
    print_json(document)
    return EXIT_OK


def cmd_watch(args: argparse.Namespace) -> int:
    """The dashboard on a run directory (one started elsewhere, headless or not)."""
    from pathlib import Path

    run_dir = Path(args.run_dir)
    if not run_dir.is_dir():
        return _usage_error(f"no run directory at {run_dir}",
                            "give the directory that holds metrics.jsonl, e.g. runs/tempest-v0")
    if not sys.stdout.isatty():
        return _usage_error("watch needs a terminal (stdout is not one)",
                            "run it in a terminal, or read metrics.jsonl directly")
    from tui.app import DashboardApp
    from tui.priority import yield_cpu_to_training

    yield_cpu_to_training()
    DashboardApp(str(run_dir), refresh_hz=args.hz).run()
    return EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    """The training doctor over a recorded run: 0 healthy, 1 findings, 2 bad input."""
    from metrics.doctor.report import DoctorInputError, examine, render_json, render_text

    try:
        report = examine(args.target)
    except DoctorInputError as err:
        return _usage_error(str(err), err.hint)
    if args.json:
        if report.tail_note:
            print(f"note: {report.tail_note}", file=sys.stderr)
        print(render_json(report.findings))
    else:
        print(render_text(report))
    return EXIT_OK if report.healthy else EXIT_FAILED


def _plot_module():
    """agent.plot (matplotlib loads only when a figure is drawn)."""
    return importlib.import_module("agent.plot")


def cmd_plot(args: argparse.Namespace) -> int:
    """The curves of one or more runs as one figure (matplotlib)."""
    problem = _plot_module().run(args)
    if problem:
        return _usage_error(problem, "give run directories that hold metrics.jsonl, e.g. "
                                     "tempest-dqn plot runs/a runs/b --out curves.png")
    print(f"wrote {args.out}", file=sys.stderr)
    return EXIT_OK


def _run_bench(name: str, quick: bool, device: str | None = None) -> int:
    """Imports `agent.bench.<name>` lazily (torch and numba load only here) and runs it."""
    module = f"agent.bench.{name}"
    try:
        bench = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return _failed(f"bench {name} is not available: agent/bench/{name}.py is missing")
    if name not in DEVICE_BENCHES:
        return bench.main(quick)
    return bench.main(quick, device=device or DEVICE_BENCHES[name])


def _check_bench_device(which: str, device: str | None) -> None:
    if device is None:
        return
    if which not in DEVICE_BENCHES:
        raise UsageError(f"--device is for `bench learner` and `bench gpu`, not `bench {which}`")
    if device == "cuda":
        from aimodel import cuda_missing_message

        message = cuda_missing_message(f"bench {which} --device cuda",
                                       "run it where a GPU is, or with --device cpu")
        if message:
            raise UsageError(message)


def cmd_bench(args: argparse.Namespace) -> int:
    """Runs one benchmark; `all` runs every CPU one that exists (replay, env, learner, loop,
    tui)."""
    _check_bench_device(args.which, args.device)
    if args.which == "gpu" and args.device is None:
        _check_bench_device("gpu", "cuda")
    if args.which != "all":
        return _run_bench(args.which, args.quick, args.device)
    codes = [_run_bench(name, args.quick) for name in ("replay", "env", "learner", "loop", "tui")]
    return next((code for code in codes if code != EXIT_OK), EXIT_OK)


def _unrecognized(command: str, unknown: list[str]) -> UsageError:
    """Names the first stray argument; for `train`, a bare field name gets its section back."""
    flag = next((token for token in unknown if token.startswith("-")), unknown[0])
    guesses = config.suggest_keys(flag.lstrip("-").partition("=")[0]) if command == "train" else []
    if flag.startswith("--") and guesses:
        choices = " or ".join(f"'--{g}'" for g in guesses)
        return UsageError(f"unknown flag '{flag}'; did you mean {choices}?", hint=FIELD_HINT)
    return UsageError(
        f"unrecognized arguments: {' '.join(unknown)}",
        hint=f"run 'tempest-dqn {command} --help' for usage",
    )


def _dispatch(argv: list[str], environ: Mapping[str, str]) -> int:
    overrides: dict[str, str] = {}
    if argv[:1] == ["train"]:
        overrides, rest = split_overrides(argv[1:])
        argv = ["train", *rest]
    args, unknown = build_parser().parse_known_args(argv)
    if unknown:
        raise _unrecognized(args.command, unknown)
    handlers: dict[str, Callable[[], int]] = {
        "train": lambda: cmd_train(args, overrides, environ),
        "eval": lambda: cmd_eval(args),
        "watch": lambda: cmd_watch(args),
        "doctor": lambda: cmd_doctor(args),
        "plot": lambda: cmd_plot(args),
        "bench": lambda: cmd_bench(args),
    }
    return handlers[args.command]()


def _usage_error(message: str, hint: str | None) -> int:
    for line in message.splitlines():
        print(f"error: {line}", file=sys.stderr)
    if hint:
        print(f"hint: {hint}", file=sys.stderr)
    return EXIT_USAGE


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    """Entry point of `tempest-dqn`; returns the exit code.

    Args:
        argv: arguments without the program name (default: `sys.argv[1:]`).
        environ: environment variables (default: `os.environ`); tests pass a dict.
    """
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        return _dispatch(argv, os.environ if environ is None else environ)
    except config.ConfigError as exc:
        about_fields = any(s in str(exc) for s in ("unknown field", "unknown section", " expects "))
        return _usage_error(str(exc), FIELD_HINT if about_fields else None)
    except UsageError as exc:
        return _usage_error(str(exc), exc.hint)
    except SystemExit as exc:  # --help and --version exit through argparse
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # `tempest-dqn doctor RUN --json | head -1`: the reader left early
        _silence_stdout()
        return 141  # what a shell reports for a command ended by SIGPIPE


def _silence_stdout() -> None:
    """Points stdout at /dev/null so the interpreter's final flush does not fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no file descriptor behind stdout (captured in tests)
        pass
