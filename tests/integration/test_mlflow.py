"""The MLflow lifecycle on real parts: a real ``mlflow server`` (SQLite, proxied artifacts) as
the registry, ``mlflow models serve --env-manager local`` answering ``/invocations``, and
``mlflow.pyfunc.spark_udf`` on the local Spark session; every answer compared with the
models' own predictions."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import mlflow
import numpy as np
import pytest

from recommenders_kit.deploy import azureml
from recommenders_kit.deploy import mlflow as rk_mlflow
from tests.support.local_servers import mlflow_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real MLflow tracking server as tracking URI for this module (the registry follows
    it: no registry URI is set, so nothing leaks into later tests' environment)."""
    before = mlflow.get_tracking_uri()
    with mlflow_server(tmp_path_factory.mktemp("mlflow-server")) as url:
        mlflow.set_tracking_uri(url)
        assert mlflow.get_registry_uri() == url
        yield url
    mlflow.set_tracking_uri(before)


@pytest.fixture(scope="module")
def registered(server, small_als, small_click):
    """Both models logged, registered and aliased ``champion`` on the server."""
    names = {}
    for kind, model in (("recommender", small_als), ("click_model", small_click)):
        info = rk_mlflow.log_model(model, kind)
        version = rk_mlflow.register(info.model_uri, f"rk_{kind}")
        names[kind] = (f"rk_{kind}", version)
    return names


def _post(url: str, body: object) -> tuple[int, dict]:
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}/invocations", data=data, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"{}")


def test_register_alias_and_load_by_alias(registered, small_als, ml100k):
    name, version = registered["recommender"]
    assert version.version == "1"
    client = mlflow.MlflowClient()
    assert client.get_model_version_by_alias(name, "champion").version == version.version
    loaded = mlflow.pyfunc.load_model(f"models:/{name}@champion")
    users = ml100k[["userID"]].drop_duplicates().head(50)
    out = loaded.predict(users, params={"k": 7})
    want = small_als.recommend_k_items(users, k=7)
    assert [list(i) for i in out["items"]] == [
        g["itemID"].tolist() for _, g in want.groupby("userID", sort=False)
    ]
    # a second registration is version 2, and the alias moves to it
    again = rk_mlflow.register(version.source, name)
    assert again.version == "2"
    assert client.get_model_version_by_alias(name, "champion").version == "2"


def test_bad_names_are_refused_before_anything_is_registered(registered):
    client = mlflow.MlflowClient()
    before = {m.name for m in client.search_registered_models()}
    with pytest.raises(ValueError, match="three parts"):
        rk_mlflow.register("models:/x/1", "movielens_als", registry_uri="databricks-uc")
    with pytest.raises(ValueError, match="not a model name"):
        rk_mlflow.register("models:/x/1", "a:b")
    assert {m.name for m in client.search_registered_models()} == before


def test_serve_a_recommender(server, registered, small_als):
    name, _ = registered["recommender"]
    users = [1, 2, 3, 10**9]
    want = small_als.recommend_k_items(users[:3], k=4)
    want_lists = [g["itemID"].tolist() for _, g in want.groupby("userID", sort=False)] + [[]]
    with rk_mlflow.local_server(f"models:/{name}@champion") as url:
        split = {"dataframe_split": {"columns": ["userID"], "data": [[u] for u in users]}}
        records = {"dataframe_records": [{"userID": u} for u in users]}
        for body in (split, records):
            status, answer = _post(url, {**body, "params": {"k": 4}})
            assert status == 200
            assert [row["items"] for row in answer["predictions"]] == want_lists
            assert [row["userID"] for row in answer["predictions"]] == users
        status, answer = _post(url, split)  # the default k
        assert [len(row["items"]) for row in answer["predictions"]] == [10, 10, 10, 0]
        for bad, field in (
            ({**split, "params": {"k": "x"}}, "'k'"),
            ({**split, "params": {"k": 0}}, "k must be >= 1"),
            ({"dataframe_split": {"columns": ["user"], "data": [[1]]}}, "userID"),
        ):
            status, answer = _post(url, bad)
            assert 400 <= status < 500
            assert field in answer["message"]
        status, _ = _post(url, b"{not json")
        assert 400 <= status < 500


def test_serve_a_click_model_and_azure_mls_body(server, registered, small_click, click_rows):
    name, _ = registered["click_model"]
    rows = rk_mlflow.click_input(click_rows.head(20))
    rows.loc[0, "cat03"] = "never-seen"
    want = small_click.predict_proba(rows)
    body = azureml.mlflow_request(rows)
    with rk_mlflow.local_server(f"models:/{name}@champion") as url:
        split = json.loads(rows.to_json(orient="split", index=False))
        records = json.loads(rows.to_json(orient="records"))
        for request in (
            {"dataframe_split": split},
            {"dataframe_records": records},
            # Azure ML's no-code endpoints take {"input_data": <split frame>}: the same frame
            {"dataframe_split": body["input_data"]},
        ):
            status, answer = _post(url, request)
            assert status == 200
            got = [row["probability"] for row in answer["predictions"]]
            np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
        short = json.loads(rows.drop(columns="int00").to_json(orient="split", index=False))
        status, answer = _post(url, {"dataframe_split": short})
        assert 400 <= status < 500
        assert "int00" in answer["message"]


@pytest.mark.spark
def test_spark_udf_scores_both_models(
    spark, registered, small_als, small_click, click_rows, ml100k
):
    from pyspark.sql import functions as F

    name, _ = registered["recommender"]
    users = ml100k[["userID"]].drop_duplicates().head(200)
    topk = mlflow.pyfunc.spark_udf(
        spark, f"models:/{name}@champion", env_manager="local", params={"k": 5}
    )
    frame = spark.createDataFrame(users).repartition(3)
    scored = frame.select(topk(F.struct("userID")).alias("r")).select("r.*").toPandas()
    want = small_als.recommend_k_items(users, k=5)
    want_lists = {u: g["itemID"].tolist() for u, g in want.groupby("userID")}
    assert {u: list(i) for u, i in zip(scored["userID"], scored["items"], strict=True)} == (
        want_lists
    )
    name, _ = registered["click_model"]
    rows = rk_mlflow.click_input(click_rows.head(500))
    probability = mlflow.pyfunc.spark_udf(
        spark, f"models:/{name}@champion", result_type="double", env_manager="local"
    )
    frame = spark.createDataFrame(rows.assign(row=np.arange(len(rows)))).repartition(3)
    got = frame.select("row", probability(*rows.columns).alias("p")).toPandas()
    got = got.sort_values("row")["p"].to_numpy()
    np.testing.assert_allclose(got, small_click.predict_proba(rows), rtol=0, atol=1e-12)
