"""The stored run of each notebook (what ``scripts/run_notebooks.py`` executes and commits:
the notebook's own defaults, the run a reader gets with Run All) and the key numbers a fresh
run must reproduce: shared by that script and the notebook tests, so that stale outputs fail
the tests."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

#: The record entries (dotted paths) that must match between the stored run and a fresh one.
KEYS: dict[str, list[str]] = {
    "00_quick_start/als_movielens.ipynb": [
        "metrics.precision_at_k",
        "metrics.ndcg_at_k",
        "metrics.map",
        "metrics.rmse",
        "baseline_ranking.precision_at_k",
    ],
    "00_quick_start/lightgbm_criteo.ipynb": ["metrics.auc", "metrics.logloss"],
    "01_prepare_data/data_split.ipynb": ["test_rows.random", "test_rows.stratified"],
    "02_model/synapseml_lightgbm_criteo.ipynb": ["metrics.auc"],
    "03_evaluate/evaluation.ipynb": ["hand_worked.ndcg_at_k", "metrics.precision_at_k"],
    "04_model_select/als_hyperparameter_sweep.ipynb": [
        "best_valid_ndcg",
        "test.recommended.ndcg_at_k",
    ],
    "05_operationalize/als_movielens_o16n.ipynb": ["users", "metrics.precision_at_k"],
    "05_operationalize/lightgbm_criteo_o16n.ipynb": ["rows_scored"],
    "05_operationalize/lightgbm_criteo_spark_serving.ipynb": ["rows_scored"],
    "05_operationalize/mlflow_models.ipynb": ["users", "metrics.precision_at_k", "rows_served"],
}
#: What ``scripts/run_notebooks.py`` writes for this machine's paths in a stored notebook (the
#: temporary working folder, the data cache, the repository); the tests fail on any of them.
PLACEHOLDERS = {"work": "<work>", "cache": "<cache>", "repo": "<repo>"}
#: Relative tolerance of the comparison (ALS and LightGBM are deterministic for a seed; the
#: margin covers BLAS and thread-count differences between machines).
RTOL = 1e-3


def lookup(record: dict, dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value[part]
    return value


#: Parameters that name this machine's files, servers or Spark master: not part of a run's
#: settings.
_LOCAL = (
    "_DIR",
    "_PATH",
    "_ENDPOINT",
    "_KEY",
    "_DATABASE",
    "_VERIFY",
    "_CONNECTION_STRING",
    "SPARK_MASTER",
)


def settings(parameters: dict[str, Any]) -> dict[str, Any]:
    """A run's parameters without the machine-specific ones (paths, endpoints, keys)."""
    return {k: v for k, v in parameters.items() if not k.endswith(_LOCAL)}


def defaults(relative: str) -> dict[str, Any]:
    """The notebook's own parameter values: the assignments of its ``parameters`` cell."""
    import nbformat

    nb = nbformat.read(NOTEBOOKS / relative, as_version=4)
    (cell,) = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    values: dict[str, Any] = {}
    for node in ast.parse(cell.source).body:
        if isinstance(node, ast.Assign):
            for target in node.targets:
                names = target.elts if isinstance(target, ast.Tuple) else [target]
                value = ast.literal_eval(node.value)
                parts = value if isinstance(target, ast.Tuple) else [value]
                values.update({n.id: v for n, v in zip(names, parts, strict=True)})
    return values


def run_settings(relative: str, parameters: dict[str, Any]) -> dict[str, Any]:
    """The settings of a run of ``relative`` with ``parameters`` over its defaults."""
    return settings({**defaults(relative), **parameters})


def stale(stored: dict, settings: dict[str, Any], record: dict) -> list[str] | None:
    """How a fresh run's record differs from the stored run's key numbers (``[]``: it does
    not), or None when the two runs are not comparable: other settings, or other data (a
    Criteo notebook on the real sample, stored on its generated fallback)."""
    if settings != stored["run"] or record.get("data") != stored.get("data"):
        return None
    differences = []
    for key, want in stored["results"].items():
        got = lookup(record, key)
        if not _close(got, want):
            differences.append(f"{key}: stored {want}, now {got}")
    return differences


def _close(got: Any, want: Any) -> bool:
    if isinstance(want, int | float) and isinstance(got, int | float):
        return abs(got - want) <= RTOL * abs(want)
    return got == want
