"""The four model classes as MLflow pyfunc models, logged to a real SQLite tracking store and
loaded back by MLflow: their predictions against the models' own (lists equal item for item,
ties included; probabilities to 1e-12), the signatures, the requirements, and every bad
input named."""

from __future__ import annotations

import io
import json
import time
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from mlflow.exceptions import MlflowException

from recommenders_kit.deploy import mlflow as rk_mlflow
from recommenders_kit.errors import InputError, ModelFormatError, StoreUnavailableError
from recommenders_kit.models.als import _common as als_common
from recommenders_kit.models.als import pandas as als_pandas
from recommenders_kit.models.als import to_pandas
from recommenders_kit.models.fingerprint import Fingerprint
from tests.support import venvs
from tests.support.mlflow_store import sqlite_tracking


@pytest.fixture(scope="module", autouse=True)
def tracking(tmp_path_factory):
    """A real SQLite tracking store for this module (restored afterwards)."""
    with sqlite_tracking(tmp_path_factory.mktemp("mlruns")):
        yield


def lists(frame: pd.DataFrame, user="userID", item="itemID", score="prediction") -> dict:
    """user -> (items, scores) of a recommend_k_items frame, in its order."""
    return {u: (g[item].tolist(), g[score].tolist()) for u, g in frame.groupby(user, sort=False)}


def pyfunc_lists(out: pd.DataFrame, user="userID") -> dict:
    return {
        u: (list(i), list(s))
        for u, i, s in zip(out[user], out["items"], out["scores"], strict=True)
    }


def test_recommender_lists_equal_recommend_k_items(small_als, ml100k):
    info = rk_mlflow.log_model(small_als, "als")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    users = pd.DataFrame({"userID": ml100k["userID"].drop_duplicates().to_numpy()})
    for params in (None, {"k": 5}, {"k": 20, "remove_seen": False}):
        k = (params or {}).get("k", 10)
        remove_seen = (params or {}).get("remove_seen", True)
        got = pyfunc_lists(loaded.predict(users, params=params))
        want = lists(small_als.recommend_k_items(users, k=k, remove_seen=remove_seen))
        assert got == want
    assert loaded.metadata.get_params_schema().to_dict() == [
        {"name": "k", "type": "long", "default": 10, "shape": None},
        {"name": "remove_seen", "type": "boolean", "default": True, "shape": None},
    ]


def test_unknown_and_repeated_users_keep_their_rows(small_als):
    loaded = mlflow.pyfunc.load_model(rk_mlflow.log_model(small_als, "als").model_uri)
    out = loaded.predict(pd.DataFrame({"userID": [5, 10**9, 5]}), params={"k": 3})
    assert out["userID"].tolist() == [5, 10**9, 5]
    assert len(out["items"][0]) == 3
    assert list(out["items"][0]) == list(out["items"][2])
    # recommend_k_items gives an unknown user no rows: the pyfunc gives it empty lists
    assert small_als.recommend_k_items([10**9]).empty
    assert (len(out["items"][1]), len(out["scores"][1])) == (0, 0)


def test_ties_go_by_item_id_as_in_recommend_k_items(tmp_path):
    """Items 20, 30 and 40 have the same factors: every user's scores tie among them."""
    model = als_pandas.ALSRecommender(rank=2)
    user_f = np.array([[1.0, 0.5], [0.2, 1.0]], np.float32)
    item_f = np.array([[0.1, 0.1], [1.0, 1.0], [1.0, 1.0], [1.0, 1.0], [0.5, 0.0]], np.float32)
    ids = np.array([1, 2]), np.array([10, 20, 30, 40, 50])
    model.model = als_common.Factors(*ids, user_f, item_f)
    model.fingerprint = Fingerprint(rows=2, users=2, items=5, hash=0)
    model.set_seen(pd.DataFrame({"userID": [1, 2], "itemID": [30, 10]}))
    want = lists(model.recommend_k_items(k=2))
    assert [items for items, _ in want.values()] == [[20, 40], [20, 30]]
    loaded = mlflow.pyfunc.load_model(rk_mlflow.log_model(model, "ties").model_uri)
    assert pyfunc_lists(loaded.predict(pd.DataFrame({"userID": [1, 2]}), params={"k": 2})) == want


def test_click_probabilities_equal_predict_proba(small_click, click_rows):
    info = rk_mlflow.log_model(small_click, "click")
    loaded = mlflow.pyfunc.load_model(info.model_uri)
    rows = rk_mlflow.click_input(click_rows.head(300))
    rows.loc[0, "cat00"] = None  # missing
    rows.loc[1, "cat01"] = "never-seen-in-training"
    rows.loc[2, "int00"] = np.nan
    got = loaded.predict(rows)
    assert list(got.columns) == ["probability"]
    assert len(rows) > rk_mlflow.RECORD_ROWS  # scored as a frame; a few rows go as records:
    few = loaded.predict(rows.head(5))["probability"]
    np.testing.assert_allclose(few, small_click.predict_proba(rows.head(5)), rtol=0, atol=1e-12)
    np.testing.assert_allclose(
        got["probability"], small_click.predict_proba(rows), rtol=0, atol=1e-12
    )
    schema = loaded.metadata.get_input_schema()
    types = {spec.name: spec.type.name for spec in schema.inputs}
    assert types["int00"] == "double"
    assert types["cat25"] == "string"
    assert len(types) == 39


def test_signatures_examples_and_requirements(small_als, small_click, tmp_path):
    for model, extra in ((small_als, set()), (small_click, {"lightgbm", "scikit-learn"})):
        info = rk_mlflow.log_model(model, "m")
        folder = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=tmp_path))
        assert info.signature.inputs
        assert info.signature.outputs
        example = json.loads((folder / "serving_input_example.json").read_text())
        assert "dataframe_split" in example
        reqs = (folder / "requirements.txt").read_text().split()
        names = {r.split("==")[0] for r in reqs}
        assert all("==" in r for r in reqs)
        assert "recommenders-kit==0.1.0" in reqs
        assert "pyspark" not in names
        assert extra <= names
        assert ("lightgbm" in names) == bool(extra)
        assert not list(folder.rglob("*.pkl"))  # the model's own folder, no pickle
        mlmodel = (folder / "MLmodel").read_text()
        assert "loader_module: recommenders_kit.deploy.mlflow" in mlmodel


def test_bad_requests_name_the_field(small_als, small_click, click_rows):
    recs = mlflow.pyfunc.load_model(rk_mlflow.log_model(small_als, "als").model_uri)
    users = pd.DataFrame({"userID": [1]})
    with pytest.raises(MlflowException, match="'k'"):
        recs.predict(users, params={"k": "x"})
    with pytest.raises(MlflowException, match="k must be >= 1"):
        recs.predict(users, params={"k": 0})
    with pytest.raises(MlflowException, match=r"missing inputs \['userID'\]"):
        recs.predict(pd.DataFrame({"user": [1]}))
    probs = mlflow.pyfunc.load_model(rk_mlflow.log_model(small_click, "click").model_uri)
    rows = rk_mlflow.click_input(click_rows.head(3))
    with pytest.raises(MlflowException, match="cat07"):
        probs.predict(rows.drop(columns="cat07"))
    with pytest.raises(MlflowException, match="int03"):
        probs.predict(rows.assign(int03="many"))


def test_bad_models_and_names_fail_before_anything_is_logged(small_als, tmp_path):
    runs_before = len(mlflow.search_logged_models(output_format="list"))
    with pytest.raises(RuntimeError, match="not fitted"):
        rk_mlflow.log_model(als_pandas.ALSRecommender(), "m")
    with pytest.raises(TypeError, match="got dict"):
        rk_mlflow.log_model({}, "m")
    no_pairs = als_pandas.ALSRecommender.load(small_als.save(tmp_path / "als"))
    no_pairs.seen = None
    with pytest.raises(InputError, match="set_seen"):
        rk_mlflow.log_model(no_pairs, "m")
    with pytest.raises(InputError, match="not a model name"):
        rk_mlflow.log_model(small_als, "m", registered_model_name="a/b")
    assert len(mlflow.search_logged_models(output_format="list")) == runs_before


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("main.recs.movielens_als", None),
        ("_a.b2.C_3", None),
        ("movielens_als", "three parts"),
        ("main.recs", "three parts"),
        ("a.b.c.d", "three parts"),
        ("main.recs.movielens-als", "model part 'movielens-als'"),
        ("main.2recs.als", "schema part '2recs'"),
        ("main..als", "schema part ''"),
        ("cat alog.recs.als", "catalog part 'cat alog'"),
    ],
)
def test_unity_catalog_names(name, message):
    if message is None:
        rk_mlflow.check_unity_catalog_name(name)
        rk_mlflow.check_registered_name(name, registry_uri="databricks-uc")
    else:
        with pytest.raises(InputError, match=message):
            rk_mlflow.check_registered_name(name, registry_uri="databricks-uc")


def test_a_tracking_server_that_is_down_is_one_line_at_once(small_als):
    from recommenders_kit.serving.launch import free_port

    port = free_port()  # nobody listens there
    before = mlflow.get_tracking_uri()
    mlflow.set_tracking_uri(f"http://127.0.0.1:{port}")
    try:
        start = time.monotonic()
        with pytest.raises(StoreUnavailableError, match=f"127.0.0.1:{port} does not answer"):
            rk_mlflow.log_model(small_als, "m")
        assert time.monotonic() - start < 10  # no retries for minutes
    finally:
        mlflow.set_tracking_uri(before)


def test_a_registry_that_is_down_logs_nothing(small_als, monkeypatch):
    from recommenders_kit.serving.launch import free_port

    down = f"http://127.0.0.1:{free_port()}"
    logged = len(mlflow.search_logged_models(output_format="list"))
    # MLflow keeps a registry URI in a module variable and the environment: undone afterwards
    monkeypatch.setattr("mlflow.tracking._model_registry.utils._registry_uri", None)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", down)
    assert mlflow.get_registry_uri() == down
    with pytest.raises(StoreUnavailableError, match=f"{down} does not answer"):
        rk_mlflow.log_model(small_als, "m", registered_model_name="movielens_als")
    assert len(mlflow.search_logged_models(output_format="list")) == logged


def test_a_folder_of_a_newer_format_is_refused(small_als, tmp_path):
    info = rk_mlflow.log_model(small_als, "als")
    folder = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=tmp_path))
    spec = folder / "data" / "recommenders_kit" / "spec.json"
    spec.write_text(json.dumps({**json.loads(spec.read_text()), "format": rk_mlflow.FORMAT + 1}))
    with pytest.raises(ModelFormatError, match="upgrade recommenders-kit"):
        mlflow.pyfunc.load_model(str(folder))


# ------------------------------------------------------------------ Spark-trained models


@pytest.mark.spark
@pytest.mark.slow
def test_spark_als_is_served_from_its_factors(spark, ml100k):
    from recommenders_kit.models.als import spark as als_spark

    train = spark.createDataFrame(ml100k[["userID", "itemID", "rating"]])
    model = als_spark.ALSRecommender(rank=10, max_iter=5, seed=3).fit(train)  # explicit
    local = to_pandas(model)
    assert (local.rank, local.implicit_prefs, local.col_user) == (10, False, "userID")
    loaded = mlflow.pyfunc.load_model(rk_mlflow.log_model(model, "spark-als").model_uri)
    users = ml100k[["userID"]].drop_duplicates()
    got = pyfunc_lists(loaded.predict(users, params={"k": 10}))
    recs = model.recommend_k_items(k=10).toPandas()
    recs = recs.sort_values(["userID", "prediction", "itemID"], ascending=[True, False, True])
    want = lists(recs)
    assert got.keys() == want.keys()
    assert all(got[u][0] == want[u][0] for u in want)
    # the same float32 dot products, summed in other block shapes (executors' blocks against
    # one machine's): equal to the last bits or so, not necessarily bit for bit
    for u in want:
        np.testing.assert_allclose(got[u][1], want[u][1], rtol=1e-6)


@pytest.mark.spark
@pytest.mark.slow
def test_spark_click_model_is_served_from_its_folder(spark, click_rows):
    from recommenders_kit.models.lightgbm import spark as lgb_spark

    train = spark.createDataFrame(rk_mlflow.click_input(click_rows).assign(label=click_rows.label))
    model = lgb_spark.LightGBMClickModel(num_boost_round=10, progress=False).fit(train)
    loaded = mlflow.pyfunc.load_model(rk_mlflow.log_model(model, "spark-click").model_uri)
    rows = rk_mlflow.click_input(click_rows.head(200))
    want = model.predict_proba(spark.createDataFrame(rows)).toPandas()["probability"]
    np.testing.assert_allclose(loaded.predict(rows)["probability"], want, rtol=0, atol=1e-12)


FRESH_SCRIPT = """
import json, sys
import mlflow, pandas as pd
folder, rows, params = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
out = mlflow.pyfunc.load_model(folder).predict(pd.DataFrame(**rows), params=params or None)
print(out.to_json(orient="split", index=False, double_precision=15))
"""


@pytest.mark.slow
def test_a_fresh_venv_with_only_the_requirements_gives_the_same_answers(
    small_als, small_click, click_rows, tmp_path
):
    """Both models logged with the built wheel, installed from their own requirements.txt into
    a new virtual environment outside the repository, give the predictions made here."""
    import subprocess

    from recommenders_kit.deploy.databricks import build_wheel

    root = Path(__file__).resolve().parents[3]
    wheel = build_wheel(root, tmp_path / "dist")
    python = venvs.new_venv(tmp_path / "fresh")
    users = pd.DataFrame({"userID": [1, 2, 10**9]})
    rows = rk_mlflow.click_input(click_rows.head(30))
    cases = (
        (small_als, users, {"k": 4}, "recommender"),
        (small_click, rows, None, "click"),
    )
    for model, frame, params, name in cases:
        info = rk_mlflow.log_model(model, name, wheel=wheel)
        folder = Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=tmp_path / name))
        requirements = (folder / "requirements.txt").read_text().split()
        assert f"code/{wheel.name}" in requirements
        venvs.install(python, "-r", "requirements.txt", cwd=folder)
        assert not [line for line in venvs.frozen(python) if "pyspark" in line]
        answer = subprocess.run(
            [
                python,
                "-c",
                FRESH_SCRIPT,
                str(folder),
                frame.to_json(orient="split", double_precision=15),
                json.dumps(params),
            ],
            cwd=tmp_path,
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(tmp_path),
                "MLFLOW_DISABLE_TELEMETRY": "true",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert answer.returncode == 0, answer.stderr[-2000:]
        got = pd.read_json(
            io.StringIO(answer.stdout.strip().splitlines()[-1]), orient="split", precise_float=True
        )
        want = mlflow.pyfunc.load_model(info.model_uri).predict(frame, params=params)
        if name == "click":
            np.testing.assert_allclose(got["probability"], want["probability"], rtol=0, atol=1e-12)
        else:
            assert [list(i) for i in got["items"]] == [list(i) for i in want["items"]]
            np.testing.assert_allclose(
                np.concatenate(got["scores"].tolist()), np.concatenate(want["scores"].tolist())
            )


def test_load_saved_finds_the_kind_of_a_folder(small_als, small_click, tmp_path):
    assert (
        rk_mlflow.model_kind(rk_mlflow.load_saved(small_als.save(tmp_path / "als")))
        == "recommender"
    )
    loaded = rk_mlflow.load_saved(small_click.save(tmp_path / "click"))
    assert rk_mlflow.model_kind(loaded) == "click_model"
    spark_als = tmp_path / "spark-als"
    (spark_als / "metadata").mkdir(parents=True)
    (spark_als / "model").mkdir()
    with pytest.raises(InputError, match="set_seen"):
        rk_mlflow.load_saved(spark_als)
    with pytest.raises(FileNotFoundError, match="holds no saved model"):
        rk_mlflow.load_saved(tmp_path / "nothing")
