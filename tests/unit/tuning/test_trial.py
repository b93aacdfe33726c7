"""The sweep-trial entry point, run as Azure ML runs it: a command line and an MLflow run."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from mlflow.tracking import MlflowClient


def _trial(*args, cwd, tracking):
    env = {**os.environ, "MLFLOW_TRACKING_URI": tracking}
    return subprocess.run(
        [sys.executable, "-m", "recommenders_kit.tuning.trial", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )


def test_lightgbm_trial_logs_parameters_history_and_metrics(tmp_path):
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = _trial(
        "lightgbm",
        "--data",
        "generated",
        "--rows",
        "3000",
        "--param",
        "num_leaves=15.0",
        "--param",
        "learning_rate=0.2",
        "--param",
        "min_count=5",
        cwd=tmp_path,
        tracking=tracking,
    )
    assert result.returncode == 0, result.stderr
    metrics = json.loads(result.stdout.strip().splitlines()[-1])
    assert 0.5 < metrics["auc"] < 1.0
    assert metrics["logloss"] > 0
    client = MlflowClient(tracking)
    (run,) = client.search_runs(["0"])
    assert run.data.params == {"num_leaves": "15", "learning_rate": "0.2", "min_count": "5"}
    assert run.data.metrics["auc"] == metrics["auc"]
    steps = [m.step for m in client.get_metric_history(run.info.run_id, "auc")]
    assert steps[:2] == [10, 20]
    assert steps[-1] > steps[-2]


@pytest.mark.parametrize(
    ("kind", "param", "message"),
    [
        ("als", "rank=twelve", "parameter rank: 'twelve' is not an integer"),
        # every recommender is a trial kind, read by its own space
        ("ease", "lam=big", "parameter lam: 'big' is not a number"),
    ],
)
def test_bad_parameter_is_named(tmp_path, kind, param, message):
    """Checked before any data or Spark: one line naming the parameter, exit code 2."""
    tracking = f"sqlite:///{tmp_path / 'mlflow.db'}"
    result = _trial(kind, "--param", param, cwd=tmp_path, tracking=tracking)
    assert result.returncode == 2
    assert message in result.stderr.replace("\n", " ")
    assert "Traceback" not in result.stderr
