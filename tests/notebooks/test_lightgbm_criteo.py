"""The LightGBM notebooks: one machine and SynapseML, at their stored settings (offline: the
100,000 generated rows of the fallback, with the planted click model) and on the real Criteo
rows."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


def test_native_notebook_on_the_real_rows(criteo_sample, tmp_path):
    record = run_notebook(
        "00_quick_start/lightgbm_criteo.ipynb", tmp_path, MODEL_DIR=str(tmp_path / "model")
    )
    assert record["data"] == "sample"
    assert record["rows"] == 1000
    assert 0.5 < record["metrics"]["auc"] <= 1
    assert 0 < record["metrics"]["logloss"] < 1
    # the baseline row: the training click rate for every test row (AUC 0.5 exactly)
    assert record["baseline"]["auc"] == 0.5
    assert 0.3 < record["baseline"]["logloss"] < 0.7
    assert (tmp_path / "model" / "model.txt").exists()


def test_native_notebook_falls_back_to_generated_rows_and_nears_the_ceiling(
    offline_cache, tmp_path
):
    """The stored run: no sample offline, 100,000 generated rows."""
    record = run_notebook("00_quick_start/lightgbm_criteo.ipynb", tmp_path)
    assert (record["data"], record["rows"]) == ("generated", 100_000)
    m = record["metrics"]
    assert m["auc_ceiling"] - 0.03 < m["auc"] <= m["auc_ceiling"] + 0.005
    assert m["logloss"] < record["baseline"]["logloss"] - 0.02
    assert set(record["seconds"]) == {"fit", "score"}


@pytest.mark.spark
def test_synapseml_notebook_beside_one_machine_on_the_same_split(offline_cache, tmp_path):
    """The stored run: SynapseML and the one-machine model on the same generated rows."""
    record = run_notebook("02_model/synapseml_lightgbm_criteo.ipynb", tmp_path)
    assert record["data"] == "generated"
    assert 78_000 < record["rows"] < 82_000
    assert record["metrics"]["auc"] == pytest.approx(record["one_machine"]["auc"], abs=0.01)
    assert record["metrics"]["auc"] > 0.7
    assert record["export_max_difference"] < 1e-9
