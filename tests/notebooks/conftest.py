"""Notebook tests: papermill runs each notebook in a real kernel, offline, on a seeded cache."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.support.data import CRITEO_SAMPLE, seed_criteo_sample, seed_movielens_100k
from tests.support.notebooks import NOTEBOOKS, run_settings, stale


@pytest.fixture(scope="module")
def offline_cache(tmp_path_factory):
    """A data cache holding the real extracted MovieLens 100k, and offline mode on, so the
    notebooks (and the CLI) run as on a machine without internet access, and as
    ``scripts/run_notebooks.py`` stores them: the Criteo notebooks fall back to generated
    rows. Module-scoped: the settings end with the notebook's module."""
    cache = seed_movielens_100k(tmp_path_factory.mktemp("offline-cache"))
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECOMMENDERS_KIT_CACHE", str(cache))
        mp.setenv("RECOMMENDERS_KIT_OFFLINE", "1")
        mp.setenv("SPARK_MASTER", "local[2]")
        yield cache


@pytest.fixture
def criteo_sample(offline_cache):
    """The real 1,000 Criteo rows in the cache as the sample, for one test."""
    seed_criteo_sample(offline_cache)
    yield offline_cache
    shutil.rmtree(offline_cache / CRITEO_SAMPLE)


def run_notebook(relative: str, tmp_path: Path, **parameters) -> dict:
    """Execute ``notebooks/<relative>`` with papermill; return the JSON it recorded.

    When the run has the settings of the notebook's stored run (its defaults), the key numbers
    stored with its outputs must equal this run's (to ``RTOL``): stale outputs fail here."""
    import papermill

    results = tmp_path / "results.json"
    papermill.execute_notebook(
        str(NOTEBOOKS / relative),
        str(tmp_path / Path(relative).name),
        parameters={**parameters, "RESULTS_PATH": str(results)},
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    record = json.loads(results.read_text())
    differences = stale(stored_run(relative), run_settings(relative, parameters), record)
    assert not differences, (
        f"{relative}: a fresh run at its stored settings differs from its stored outputs "
        f"({'; '.join(differences)}): run scripts/run-notebooks.sh to refresh them"
    )
    return record


def stored_run(relative: str) -> dict:
    """The settings and key numbers stored with a notebook's outputs."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS / relative, as_version=4)
    stored = nb.metadata.get("recommenders_kit")
    assert stored, f"{relative} is committed without its outputs: run scripts/run-notebooks.sh"
    return stored
