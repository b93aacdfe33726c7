"""The code follows the project's lint and format rules (ruff, settings in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["recommenders_kit", "tests", "benchmarks", "scripts"]


def _ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ruff", *args, *PATHS], cwd=ROOT, capture_output=True, text=True
    )


def test_lint():
    result = _ruff("check")
    assert result.returncode == 0, result.stdout[-3000:]


def test_format():
    result = _ruff("format", "--check")
    assert result.returncode == 0, result.stdout[-3000:]
