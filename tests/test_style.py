"""The tools that keep the code in shape, each as a test: ruff (lint rules and format, settings
in pyproject.toml), import-linter (the layers only point down, see ARCHITECTURE.md) and mypy
over the package."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PATHS = ["recommenders_kit", "tests", "benchmarks", "scripts", "docs"]
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


#: Private names of other libraries the package needs, and why.
FOREIGN_PRIVATE = {
    "_jvm": "pyspark: the JVM gateway (Hadoop FileSystem calls)",
    "_jsc": "pyspark: the Java SparkContext (Hadoop configuration, scheduler backend)",
    "_jsparkSession": "pyspark: the Java session (re-rooting a local plan)",
    "_jdf": "pyspark: the Java DataFrame behind a Python one",
    "_to_dict": "azure-ai-ml: the REST body an entity would send (no public serializer)",
}


def _on_self(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def _defined_here(tree: ast.AST) -> set[str]:
    """Names a file defines itself: functions, classes, variables, ``self.<name> = ...``."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store) and _on_self(node):
            names.add(node.attr)
    return names


def test_no_module_reaches_into_another_modules_private_names():
    """``obj._name`` and ``from module import _name`` only for names the file itself defines
    or on ``self`` / ``cls`` (a class's own members, inherited ones too); a private module,
    ``_common.py``, is imported whole by its package's twins."""
    reached = []
    for path in (ROOT / "recommenders_kit").rglob("*.py"):
        tree = ast.parse(path.read_text())
        own = _defined_here(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                package = ROOT / (node.module or "").replace(".", "/")
                names = [a.name for a in node.names if not (package / f"{a.name}.py").exists()]
            elif isinstance(node, ast.Attribute):  # read or written
                names = [] if _on_self(node) else [node.attr]
            else:
                continue
            for name in names:
                private = name.startswith("_") and not name.startswith("__")
                if private and name not in own and name not in FOREIGN_PRIVATE:
                    reached.append(f"{path.relative_to(ROOT)}:{node.lineno} {name}")
    assert not reached


def test_only_settings_reads_the_environment():
    """Every environment variable the package reads goes through ``settings.py``."""
    reads = []
    for path in (ROOT / "recommenders_kit").rglob("*.py"):
        if path.name == "settings.py" and path.parent.name == "recommenders_kit":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            text = ast.unparse(node) if isinstance(node, ast.Call | ast.Subscript) else ""
            loads = isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)
            if text.startswith(("os.environ.get(", "os.getenv(")) or (
                loads and text.startswith("os.environ[")
            ):
                reads.append(f"{path.relative_to(ROOT)}:{node.lineno} {text}")
    assert not reads
