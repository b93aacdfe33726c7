"""The package stays light to import and its command line is wired up."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

import recommenders_kit
from recommenders_kit.cli import main

HEAVY = ("pyspark", "lightgbm", "azure", "synapse", "mlflow", "optuna", "sklearn")


def test_import_pulls_in_no_heavy_dependency():
    code = (
        "import sys, recommenders_kit, recommenders_kit.cli, recommenders_kit.constants;"
        "import recommenders_kit.datasets.movielens, recommenders_kit.datasets.criteo;"
        f"print([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_version_and_help():
    runner = CliRunner()
    assert recommenders_kit.__version__ in runner.invoke(main, ["--version"]).output
    result = runner.invoke(main, ["datasets", "download", "movielens", "--help"])
    assert result.exit_code == 0
    assert "--size" in result.output
