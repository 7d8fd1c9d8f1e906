"""DESIGN.md §2 kept honest: which project modules each package may import, and where torch may go.

An AST walk reads every import statement of every module, including those inside function bodies
(lazy imports count: a lazy `import torch` in the replay engine still ties it to torch), plus
`importlib.import_module("...")` / `__import__("...")` calls with a literal name.  Test files are
exempt.  A subprocess then checks what importing the torch-free packages really loads.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.torch_free import assert_torch_not_loaded

REPO = Path(__file__).resolve().parents[1]

# package -> project modules it may import (besides itself); None = anything.
ALLOWED: dict[str, set[str] | None] = {
    "config": set(),
    "envs": {"config"},
    "replay": {"config"},
    "expert": {"config", "envs.tempest"},
    "aimodel": {"config", "replay"},
    "metrics": {"config"},
    "tui": {"config", "metrics"},
    "agent": None,
}
PROJECT = set(ALLOWED) | {"tests"}
TORCH_FREE = ("config", "replay", "expert", "metrics", "tui")


def module_files() -> Iterator[tuple[str, Path]]:
    """Yields (dotted module name, path) for every module of the project's packages."""
    for top in ALLOWED:
        single = REPO / f"{top}.py"
        if single.is_file():
            yield top, single
        for path in sorted((REPO / top).rglob("*.py")) if (REPO / top).is_dir() else ():
            parts = path.relative_to(REPO).with_suffix("").parts
            yield ".".join(parts[:-1] if parts[-1] == "__init__" else parts), path


def _absolute(module: str, is_package: bool, node: ast.ImportFrom) -> str:
    """Resolves `from ..x import y` against the importing module's package."""
    if node.level == 0:
        return node.module or ""
    package = module.split(".") if is_package else module.split(".")[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def imports_of(
    source: str, module: str, is_package: bool = False
) -> Iterator[tuple[int, list[str]]]:
    """Yields (line, names) per import; an import is allowed if any of its names is allowed.

    `from pkg import name` yields ["pkg", "pkg.name"] because `name` may be a submodule.
    """
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, [alias.name]
        elif isinstance(node, ast.ImportFrom):
            base = _absolute(module, is_package, node)
            for alias in node.names:
                yield node.lineno, [base, f"{base}.{alias.name}"]
        elif isinstance(node, ast.Call) and _is_dynamic_import(node):
            yield node.lineno, [node.args[0].value]


def _is_dynamic_import(node: ast.Call) -> bool:
    func = node.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return (
        name in ("import_module", "__import__")
        and bool(node.args)
        and isinstance(node.args[0], ast.Constant)
        and isinstance(node.args[0].value, str)
    )


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Every import in `source` that breaks DESIGN.md §2 for `module`."""
    top = module.split(".")[0]
    allowed = ALLOWED[top]
    found = []
    for line, names in imports_of(source, module, is_package):
        heads = {name.split(".")[0] for name in names}
        if top in TORCH_FREE and "torch" in heads:
            found.append(f"{module}:{line} imports torch ({names[-1]})")
        if allowed is None or not heads & PROJECT:
            continue
        ok = any(_within(n, top) or any(_within(n, a) for a in allowed) for n in names)
        if not ok:
            found.append(f"{module}:{line} imports {names[-1]} (allowed: {sorted(allowed)})")
    return found


def test_the_walk_finds_the_packages() -> None:
    names = {module for module, _ in module_files()}
    assert {"config", "aimodel", "agent", "agent.cli"} <= names


def test_every_module_follows_the_import_table() -> None:
    found = []
    for module, path in module_files():
        found += violations(path.read_text(encoding="utf-8"), module, path.name == "__init__.py")
    assert not found, "DESIGN.md §2 import rules broken:\n" + "\n".join(found)


def test_config_imports_only_the_standard_library_and_yaml() -> None:
    source = (REPO / "config.py").read_text(encoding="utf-8")
    allowed = set(sys.stdlib_module_names) | {"yaml", "ale_py"}  # ale_py: lazily, for env ids
    heads = {names[0].split(".")[0] for _, names in imports_of(source, "config")}
    assert heads <= allowed, heads - allowed


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("replay.buffer", "import torch", True),
        ("replay.buffer", "def f():\n    import torch.nn as nn\n", True),
        ("replay.buffer", "import importlib\nimportlib.import_module('torch')", True),
        ("metrics.doctor", "from torch import nn", True),
        ("tui.app", "from metrics import rows\nimport config", False),
        ("tui.app", "import aimodel", True),
        ("expert.tempest", "from envs.tempest.layout import LANES", False),
        ("expert.tempest", "from envs import tempest", False),
        ("expert.tempest", "from envs import ale", True),
        ("expert.tempest", "from ..envs import ale", True),
        ("expert.tempest", "from .mixer import Mixer", False),
        ("envs.ale", "import config\nimport torch", False),
        ("envs.ale", "from replay import ReplayBuffer", True),
        ("aimodel", "import torch\nfrom replay.buffer import Batch\nimport config", False),
        ("aimodel", "from agent import loop", True),
        ("config", "import replay", True),
        ("config", "import torch", True),
        ("agent.loop", "import aimodel, replay, expert, envs, metrics, tui, torch", False),
    ],
)
def test_the_checker_itself(module: str, source: str, broken: bool) -> None:
    assert bool(violations(source, module)) is broken


def test_torch_free_packages_do_not_load_torch() -> None:
    """Imports the packages and every submodule they have, then looks at sys.modules."""
    assert_torch_not_loaded(
        "import importlib, pkgutil\n"
        "import config, replay, expert, metrics, tui\n"
        "for pkg in (replay, expert, metrics, tui):\n"
        "    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(info.name)\n"
    )
