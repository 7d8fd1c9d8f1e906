"""One check shared by the tests that promise a code path never loads torch."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def assert_torch_not_loaded(code: str) -> None:
    """Run `code` in a fresh interpreter, then fail if any torch module was imported."""
    probe = code + (
        "\nimport sys\n"
        "loaded = sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.'))\n"
        "print(loaded[:5])\n"
        "sys.exit(1 if loaded else 0)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, f"torch was loaded: {result.stdout}{result.stderr}"
