"""The LightGBM notebooks: one machine and SynapseML, on the real Criteo rows and on
generated rows (the fallback when the sample cannot be downloaded)."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def test_native_notebook_on_the_real_rows(offline_cache, tmp_path):
    record = run_notebook(
        "00_quick_start/lightgbm_criteo.ipynb",
        tmp_path,
        DATA="sample",
        MODEL_DIR=str(tmp_path / "model"),
    )
    assert record["data"] == "sample"
    assert record["rows"] == 1000
    assert 0.5 < record["metrics"]["auc"] <= 1
    assert 0 < record["metrics"]["logloss"] < 1
    # the baseline row: the training click rate for every test row (AUC 0.5 exactly)
    assert record["baseline"]["auc"] == 0.5
    assert 0.3 < record["baseline"]["logloss"] < 0.7
    assert (tmp_path / "model" / "model.txt").exists()


def test_native_notebook_on_generated_rows_nears_the_ceiling(offline_cache, tmp_path):
    record = run_notebook(
        "00_quick_start/lightgbm_criteo.ipynb",
        tmp_path,
        DATA="generated",
        N_GENERATED=30_000,
        MODEL_DIR=str(tmp_path / "model"),
    )
    m = record["metrics"]
    assert m["auc_ceiling"] - 0.05 < m["auc"] <= m["auc_ceiling"] + 0.005
    assert m["logloss"] < record["baseline"]["logloss"] - 0.01  # 30,000 rows: well above it


@pytest.mark.spark
def test_synapseml_notebook_on_the_real_rows(offline_cache, tmp_path):
    record = run_notebook(
        "02_model/synapseml_lightgbm_criteo.ipynb",
        tmp_path,
        DATA="sample",
        SPARK_MASTER="local[2]",
        MODEL_DIR=str(tmp_path / "model"),
    )
    assert record["data"] == "sample"
    assert 600 < record["rows"] < 1000
    assert 0.5 < record["metrics"]["auc"] <= 1
    assert record["export_max_difference"] < 1e-9
