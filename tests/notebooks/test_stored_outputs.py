"""Every notebook is committed with its outputs, as ``scripts/run-notebooks.sh`` writes them:
every code cell executed, plots as PNG, no path of the machine that ran them, under 1 MB;
and with the key numbers of its stored run (which the notebook tests compare with a fresh
run, in ``tests/notebooks/conftest.py``)."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

from tests.notebooks.conftest import NOTEBOOKS, stored_run
from tests.support.notebooks import KEYS, RUNS

ALL = sorted(str(p.relative_to(NOTEBOOKS)) for p in NOTEBOOKS.rglob("*.ipynb"))
# notebooks importing optuna (the sweep) or implicit (one-machine ALS), which import
# tqdm.auto themselves: in a kernel without ipywidgets that import warns "IProgress not
# found"; the library's own bars (recommenders_kit._progress) never do
THIRD_PARTY_TQDM = {
    "03_evaluate/evaluation.ipynb",
    "04_model_select/als_hyperparameter_sweep.ipynb",
}


def test_every_notebook_has_a_stored_run():
    assert sorted(RUNS) == ALL
    assert sorted(KEYS) == ALL


@pytest.mark.parametrize("relative", ALL)
def test_committed_with_outputs(relative):
    nb = nbformat.read(NOTEBOOKS / relative, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), f"{relative} has cells that were not run"
    text = json.dumps([c.get("outputs", []) for c in code])
    assert len(text) < 1_000_000
    if relative not in THIRD_PARTY_TQDM:
        assert "IProgress not found" not in text, f"{relative} shows tqdm's ipywidgets warning"
    for local in ("/tmp/", str(Path.home()) + "/", str(NOTEBOOKS.parent)):
        assert local not in text, f"{relative} shows a path of the machine that ran it: {local}"
    assert not any("injected-parameters" in c.metadata.get("tags", []) for c in nb.cells)
    stored = stored_run(relative)
    assert stored["run"] == RUNS[relative]
    assert sorted(stored["results"]) == sorted(KEYS[relative])


def test_plots_are_stored_as_pictures():
    pictures = {
        relative: sum(
            "image/png" in output.get("data", {})
            for cell in nbformat.read(NOTEBOOKS / relative, as_version=4).cells
            for output in cell.get("outputs", [])
        )
        for relative in ALL
    }
    assert pictures["01_prepare_data/data_split.ipynb"] >= 2
    assert pictures["03_evaluate/evaluation.ipynb"] >= 1
    assert pictures["00_quick_start/lightgbm_criteo.ipynb"] >= 1
