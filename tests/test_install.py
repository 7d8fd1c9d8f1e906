"""The Makefile's install path: the pip command a `TORCH_SPEC` produces, read from `make -n`
(a dry run: nothing is installed), split as the shell splits it."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
from packaging.requirements import InvalidRequirement, Requirement

REPO = Path(__file__).resolve().parents[1]
CUDA_SPEC = "torch==2.13.0 --index-url https://download.pytorch.org/whl/cu126"

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs make")


def torch_install_args(tmp_path: Path, *make_args: str) -> list[str]:
    """The arguments after `pip install` in the recipe that installs torch, as the shell passes
    them (the recipe runs only when `import torch` fails: the part after `||`)."""
    plan = subprocess.run(["make", "-n", "install", f"VENV={tmp_path / 'venv'}", *make_args],
                          cwd=REPO, capture_output=True, text=True, check=True).stdout
    line = next(line for line in plan.splitlines() if 'import torch"' in line)
    command = shlex.split(line.split("||", 1)[1])
    return command[command.index("install") + 1:]


def split_pip_args(args: list[str]) -> tuple[list[Requirement], list[str]]:
    """(requirements, options): every word not starting with "-" (nor an option's value) must
    parse as a requirement, as pip parses it."""
    requirements, options, after_option = [], [], False
    for word in args:
        if word.startswith("-") or after_option:
            options.append(word)
            after_option = word in ("--index-url", "--extra-index-url", "-i")
        else:
            requirements.append(Requirement(word))
    return requirements, options


def test_the_default_spec_is_the_pinned_cpu_build(tmp_path: Path) -> None:
    requirements, options = split_pip_args(torch_install_args(tmp_path))
    assert [str(r) for r in requirements] == ["torch==2.13.0"]
    assert options == ["--quiet"]


def test_a_spec_with_pip_options_reaches_pip_as_a_requirement_and_its_options(
        tmp_path: Path) -> None:
    args = torch_install_args(tmp_path, f"TORCH_SPEC={CUDA_SPEC}")
    requirements, options = split_pip_args(args)
    assert [str(r) for r in requirements] == ["torch==2.13.0"]
    assert options == ["--quiet", "--index-url", "https://download.pytorch.org/whl/cu126"]


def test_the_spec_quoted_whole_is_what_pip_rejected() -> None:
    """Why the Makefile leaves TORCH_SPEC unquoted: as one word it is no requirement (pip's
    "Invalid requirement", reproduced in issue 13)."""
    with pytest.raises(InvalidRequirement):
        Requirement(CUDA_SPEC)


def test_the_declared_torch_floor_has_what_the_learner_calls() -> None:
    """pyproject's lower bound is the oldest torch with the APIs the code relies on."""
    import tomllib

    import torch

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    floor = next(d for d in project["dependencies"] if d.startswith("torch"))
    assert floor == "torch>=2.6"  # get_total_norm arrived in 2.6
    assert hasattr(torch.nn.utils, "get_total_norm")
