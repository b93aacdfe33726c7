"""A local MLflow tracking store for a test, its artefacts kept in the test's folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from recommenders_kit.tuning.sweep import open_experiment


@contextmanager
def sqlite_tracking(folder: Path) -> Iterator[str]:
    """MLflow's fluent API on a new SQLite store in ``folder`` for the block; yields its URI.

    Runs and models go into an experiment whose artefacts are in ``folder`` too: MLflow's
    ``Default`` experiment would keep them in ``./mlruns`` of the working directory, the
    checkout. The tracking URI and the experiment are restored afterwards.
    """
    import mlflow

    before = mlflow.get_tracking_uri()
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MLFLOW_EXPERIMENT_ID", open_experiment(uri, "tests"))
        mlflow.set_tracking_uri(uri)
        try:
            yield uri
        finally:
            mlflow.set_tracking_uri(before)
