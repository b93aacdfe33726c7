"""The stored run of each notebook (what ``scripts/run_notebooks.py`` executes and commits)
and the key numbers a fresh run must reproduce: shared by that script and the notebook
tests, so that stale outputs fail the tests."""

from __future__ import annotations

from typing import Any

#: Parameters of the stored run of each notebook (paths are added per run).
RUNS: dict[str, dict[str, Any]] = {
    "00_quick_start/als_movielens.ipynb": {"MOVIELENS_SIZE": "100k", "SPARK_MASTER": "local[2]"},
    "00_quick_start/lightgbm_criteo.ipynb": {"DATA": "sample"},
    "01_prepare_data/data_split.ipynb": {"MOVIELENS_SIZE": "100k", "SPARK_MASTER": "local[2]"},
    "02_model/synapseml_lightgbm_criteo.ipynb": {"DATA": "sample", "SPARK_MASTER": "local[2]"},
    "03_evaluate/evaluation.ipynb": {"MOVIELENS_SIZE": "100k", "SPARK_MASTER": "local[2]"},
    "04_model_select/als_hyperparameter_sweep.ipynb": {"N_TRIALS": 3, "SPARK_MASTER": "local[2]"},
    "05_operationalize/als_movielens_o16n.ipynb": {"SPARK_MASTER": "local[2]", "ENGINE": "spark"},
    "05_operationalize/lightgbm_criteo_o16n.ipynb": {"DATA": "sample"},
    "05_operationalize/lightgbm_criteo_spark_serving.ipynb": {"DATA": "sample"},
    "05_operationalize/mlflow_models.ipynb": {"DATA": "sample", "SPARK_MASTER": "local[2]"},
}
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
#: Relative tolerance of the comparison (ALS and LightGBM are deterministic for a seed; the
#: margin covers BLAS and thread-count differences between machines).
RTOL = 1e-3


def lookup(record: dict, dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        value = value[part]
    return value


#: Parameters that name this machine's files or servers: not part of a run's settings.
_LOCAL = ("_DIR", "_PATH", "_ENDPOINT", "_KEY", "_DATABASE", "_VERIFY", "_CONNECTION_STRING")


def settings(parameters: dict[str, Any]) -> dict[str, Any]:
    """A run's parameters without the machine-specific ones (paths, endpoints, keys)."""
    return {k: v for k, v in parameters.items() if not k.endswith(_LOCAL)}
