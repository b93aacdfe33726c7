"""The tools that keep the code in shape, each as a test: ruff (lint rules and format, settings
in pyproject.toml), import-linter (the layers only point down, see ARCHITECTURE.md) and mypy
over the package."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["recommenders_kit", "tests", "benchmarks", "scripts"]
BIN = Path(sys.executable).parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True)


def test_lint():
    result = _run(sys.executable, "-m", "ruff", "check", *PATHS)
    assert result.returncode == 0, result.stdout[-3000:]


def test_format():
    result = _run(sys.executable, "-m", "ruff", "format", "--check", *PATHS)
    assert result.returncode == 0, result.stdout[-3000:]


def test_no_format_escapes_without_a_reason():
    lines = [
        f"{path}:{number}"
        for folder in PATHS
        for path in (ROOT / folder).rglob("*.py")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if "fmt: skip" in line and "fmt: skip (" not in line
    ]
    assert not lines, "a '# fmt: skip' needs its reason: '# fmt: skip (why)'"


def test_layers_only_point_down():
    result = _run(str(BIN / "lint-imports"))
    assert result.returncode == 0, result.stdout[-3000:]
    assert "1 kept, 0 broken" in result.stdout


def test_types():
    result = _run(sys.executable, "-m", "mypy")
    assert result.returncode == 0, result.stdout[-3000:]
