"""The dashboard starts without torch (DESIGN.md §2): it must open in a blink beside a trainer."""

from __future__ import annotations

from tests.torch_free import assert_torch_not_loaded


def test_importing_the_app_leaves_torch_out():
    assert_torch_not_loaded("import tui.app\nimport tui.__main__")
