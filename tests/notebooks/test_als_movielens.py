"""The ALS quickstart notebook and the `recommenders-kit quickstart als` main job, on real
MovieLens 100k (random 75/25 split, seed 123, k=10, all unseen items ranked)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.notebooks.conftest import run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def notebook_record(offline_cache, tmp_path_factory):
    return run_notebook(
        "00_quick_start/als_movielens.ipynb",
        tmp_path_factory.mktemp("nb"),
        MOVIELENS_SIZE="100k",
        SPARK_MASTER="local[2]",
    )


def test_notebook_metrics_are_in_the_known_ranges(notebook_record):
    m = notebook_record["metrics"]
    # the library's recommended top-k configuration (implicit ALS)
    assert m["precision_at_k"] >= 0.33
    assert m["ndcg_at_k"] >= 0.37
    assert 0 < m["map"] < m["precision_at_k"]
    assert 0 < m["recall_at_k"] < 1
    # the baseline the quick start names: most popular unseen movies (about 0.2), far below
    baseline = notebook_record["baseline_ranking"]["precision_at_k"]
    assert 0.1 <= baseline <= 0.3
    assert m["precision_at_k"] >= 1.5 * baseline
    # the reference explicit configuration: the known weak ranking baseline, RMSE about 0.96
    assert 0.03 <= notebook_record["explicit_ranking"]["precision_at_k"] <= 0.08
    assert 0.93 <= m["rmse"] <= 1.0
    assert 0.7 <= m["mae"] <= 0.8
    assert 0.1 <= m["rsquared"] <= 0.35
    assert m["exp_var"] >= m["rsquared"] - 1e-3


def _quickstart(tmp_path, *options: str) -> tuple[str, dict]:
    """``recommenders-kit quickstart als --size 100k OPTIONS``: (its output, its metrics).

    The job's temporary folders (Python's) go to a folder of its own, which must be empty
    when it has exited: Spark ALS's default checkpoint folder included."""
    out, temporary = tmp_path / "metrics.json", tmp_path / "tmp"
    temporary.mkdir()
    command = [sys.executable, "-m", "recommenders_kit.cli", "quickstart", "als", "--size", "100k"]
    result = subprocess.run(
        [*command, *options, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert list(temporary.iterdir()) == []
    return result.stdout, json.loads(out.read_text())["metrics"]


def test_main_job_runs_offline_and_matches_the_notebook(notebook_record, offline_cache, tmp_path):
    stdout, cli = _quickstart(tmp_path)
    for name in ["map", "ndcg_at_k", "precision_at_k", "recall_at_k", "rmse"]:
        assert name in stdout
    assert cli == pytest.approx(notebook_record["metrics"], abs=1e-6)


def test_the_same_notebook_on_one_machine(offline_cache, tmp_path):
    """ENGINE="pandas": no Spark at all; ranking metrics only (no explicit ALS there)."""
    record = run_notebook(
        "00_quick_start/als_movielens.ipynb", tmp_path, MOVIELENS_SIZE="100k", ENGINE="pandas"
    )
    m = record["metrics"]
    assert record["engine"] == "pandas"
    assert record["explicit_ranking"] is None
    assert "rmse" not in m
    # this engine's recommended configuration: above Spark's (0.40 / 0.46 here)
    assert m["precision_at_k"] >= 0.41
    assert m["ndcg_at_k"] >= 0.47


def test_main_job_on_one_machine(offline_cache, tmp_path):
    stdout, metrics = _quickstart(tmp_path, "--engine", "implicit")  # the engine's alias
    assert "pandas ALS" in stdout
    assert metrics["precision_at_k"] >= 0.41
    assert set(metrics) == {
        "map",
        "ndcg_at_k",
        "precision_at_k",
        "recall_at_k",
    }
