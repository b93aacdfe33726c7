"""The operationalization notebooks, against the local Azure stand-ins started by the tests:
Cosmos DB (ALS lists), Azurite (model folder), Azure ML's inference server (scoring)."""

from __future__ import annotations

import pytest
import yaml
from azure.ai.ml import load_online_deployment

from tests.notebooks.conftest import run_notebook
from tests.support.local_servers import COSMOS_KEY

pytestmark = [pytest.mark.notebooks, pytest.mark.slow]


@pytest.mark.spark
@pytest.mark.parametrize(
    ("engine", "precision"),
    [("spark", 0.3), ("pandas", 0.4)],  # each engine's recommended configuration's level
)
def test_als_lists_through_cosmos_to_the_web_service(
    offline_cache, cosmos_endpoint, tmp_path, engine, precision
):
    """Lists from Spark, or with ENGINE="pandas" from pandas (written from pandas)."""
    record = run_notebook(
        "05_operationalize/als_movielens_o16n.ipynb",
        tmp_path,
        SPARK_MASTER="local[2]",
        ENGINE=engine,
        COSMOS_ENDPOINT=cosmos_endpoint,
        COSMOS_KEY=COSMOS_KEY,
        COSMOS_DATABASE=f"notebook-{engine}",
        COSMOS_VERIFY=False,
        BUNDLE_DIR=str(tmp_path / "bundle"),
    )
    users = record["users"]
    assert users == 943
    assert record["cosmos"]["first"] == {"users": users, "written": users, "unchanged": 0}
    assert record["cosmos"]["second"] == {"users": users, "written": 0, "unchanged": users}
    assert record["served_source"] == "personal"
    assert record["served_equals_computed"]
    assert record["unknown_source"] == "popular"
    assert record["bad_status"] == 422
    assert record["metrics"]["precision_at_k"] > precision


def test_click_model_through_blob_specs_and_local_scoring(offline_cache, azurite, tmp_path):
    record = run_notebook(
        "05_operationalize/lightgbm_criteo_o16n.ipynb",
        tmp_path,
        BLOB_CONNECTION_STRING=azurite,
    )
    assert record["data"] == "generated"
    assert record["rows_scored"] == 1000
    assert record["max_difference"] < 1e-12
    assert record["blob_round_trip"] is True
    assert record["bad_status"] == 422
    assert record["p99_ms"] > 0
    deployment = load_online_deployment(source=tmp_path / record["specs"]["aks_deployment"])
    assert deployment.scale_settings.max_instances == 4
    spec = yaml.safe_load((tmp_path / record["specs"]["deployment"]).read_text())
    assert spec["instance_type"] == "Standard_DS3_v2"
    assert spec["endpoint_name"] == "criteo-ctr"
    # the specs name the model and code folders relative to themselves (o16n_build/)
    assert spec["model"]["path"] == "../criteo_model"
    assert spec["code_configuration"]["code"] == "code"


@pytest.mark.spark
def test_click_model_behind_spark_serving_answers_as_azure_ml(offline_cache, tmp_path):
    record = run_notebook("05_operationalize/lightgbm_criteo_spark_serving.ipynb", tmp_path)
    assert record["data"] == "generated"
    assert record["rows_scored"] == 1000
    assert record["max_difference"] < 1e-9
    assert record["same_error_bodies"] is True
    assert record["same_statuses"] is True
    assert record["bad_statuses"] == {
        "malformed JSON": 400,
        "wrong type": 422,
        "missing feature": 422,
    }
    assert set(record["p50_ms"]) == {"Spark Serving", "Azure ML"}


@pytest.mark.spark
def test_mlflow_models_logged_registered_served_and_batch_scored(offline_cache, tmp_path):
    record = run_notebook("05_operationalize/mlflow_models.ipynb", tmp_path)
    assert 900 < record["users"] <= 943  # MovieLens 100k users with test ratings
    assert record["same_lists"] is True
    assert record["unknown_user_items"] == []
    assert record["rows_served"] == 200
    assert record["max_difference"] < 1e-12
    assert record["bad_status"] == 400
    assert record["metrics_udf"] == pytest.approx(record["metrics"], abs=1e-9)
    assert record["metrics"]["precision_at_k"] > 0.3
    assert record["versions"] == {"movielens_als": "1", "criteo_ctr": "1"}
    deployment = load_online_deployment(source=tmp_path / record["deployment_spec"])
    assert deployment.code_configuration is None
    assert deployment.environment is None
