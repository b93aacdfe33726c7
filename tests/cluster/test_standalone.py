"""The Spark paths on a real multi-executor cluster: a Spark standalone master and two workers
on loopback, each executor its own JVM with its own Python workers.

Runs first in the suite (``tests/cluster`` sorts before the other folders): its session is the
process's first SparkContext, started with the same driver settings and jars as the local
test session that follows it once this module has stopped the cluster.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import threading
import time

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets import criteo, movielens
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev
from recommenders_kit.models.als.spark import RECOMMENDED_TOP_K, ALSRecommender
from recommenders_kit.models.lightgbm import pandas as lgb_pandas
from recommenders_kit.models.lightgbm import spark as lgb_spark
from recommenders_kit.split import pandas as psplit
from recommenders_kit.split import spark as ssplit
from tests.support.mlflow_store import sqlite_tracking
from tests.support.spark_cluster import cluster_session, standalone_cluster

pytestmark = [pytest.mark.cluster, pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    from pyspark.sql import SparkSession

    if SparkSession.getActiveSession() is not None:
        raise RuntimeError(
            "a local Spark session already runs in this process: run the cluster tests first "
            "(pytest tests/cluster tests/...) or in their own pytest run"
        )
    with standalone_cluster(tmp_path_factory.mktemp("cluster"), workers=2) as running:
        yield running


@pytest.fixture(scope="module")
def spark(cluster, tmp_path_factory):
    session = cluster_session(cluster, "recommenders_kit-cluster-tests")
    shared = tmp_path_factory.mktemp("shared")
    session.sparkContext.setCheckpointDir(shared.joinpath("checkpoints").as_uri())
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECOMMENDERS_KIT_SPARK_DATA", shared.joinpath("data").as_uri())
        yield session
    session.stop()


def _executors(spark) -> int:
    """Executors registered with the driver (the driver itself not counted)."""
    return spark.sparkContext._jsc.sc().getExecutorMemoryStatus().size() - 1


def test_the_session_has_two_executor_processes(spark, cluster):
    assert spark.sparkContext.master == cluster.url
    deadline = time.monotonic() + 60
    while _executors(spark) < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _executors(spark) == 2
    assert all(cluster.executor_pids(i) for i in range(2))  # one JVM under each worker


def test_loader_needs_a_shared_folder(spark, monkeypatch):
    monkeypatch.delenv("RECOMMENDERS_KIT_SPARK_DATA")
    with pytest.raises(ValueError, match="spark_data_path is required on a cluster"):
        movielens.load_spark_df(spark, "100k")


@pytest.fixture(scope="module")
def ratings(spark):
    return movielens.load_spark_df(spark, "100k").cache()


def test_splits_match_pandas_per_user(ratings, ml100k):
    for split in ("stratified_split", "chronological_split"):
        train, test = getattr(ssplit, split)(ratings, 0.75)
        want_train, want_test = getattr(psplit, split)(ml100k, 0.75)
        for got, want in ((train, want_train), (test, want_test)):
            counts = got.groupBy("userID").count().toPandas().set_index("userID")["count"]
            pd.testing.assert_series_equal(
                counts.sort_index(), want.groupby("userID").size().sort_index(), check_names=False
            )


def test_als_top_k_metrics_and_persistence(spark, ratings, tmp_path):
    train, test = (part.cache() for part in ssplit.stratified_split(ratings, 0.75, seed=3))
    model = ALSRecommender(**{**RECOMMENDED_TOP_K, "max_iter": 5}).fit(train)
    top = model.recommend_k_items(k=10).cache()
    top_pd, test_pd, train_pd = top.toPandas(), test.toPandas(), train.toPandas()
    assert top_pd.groupby("userID").size().eq(10).all()
    assert top_pd.merge(train_pd, on=["userID", "itemID"]).empty
    names = ["precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "map"]
    on_spark = sev.evaluate(test, top, metrics=names, k=10)
    assert on_spark == pytest.approx(pev.evaluate(test_pd, top_pd, metrics=names, k=10), abs=1e-9)
    assert on_spark["precision_at_k"] > 0.2
    where = model.save(tmp_path.joinpath("als").as_uri())
    loaded = ALSRecommender.load(where).set_seen(train)
    again = loaded.recommend_k_items(k=10).toPandas()
    key = ["userID", "itemID"]
    pd.testing.assert_frame_equal(
        again.sort_values(key).reset_index(drop=True),
        top_pd.sort_values(key).reset_index(drop=True),
    )


def test_bad_input_gets_the_pandas_messages(spark, ratings):
    with pytest.raises(ValueError, match=r"missing column\(s\) \['stars'\]"):
        ALSRecommender(col_rating="stars").fit(ratings)
    with pytest.raises(ValueError, match="needs integer ids"):
        ALSRecommender().fit(ratings.withColumn("itemID", ratings["itemID"].cast("string")))
    with pytest.raises(ValueError, match="k must be >= 1"):
        sev.precision_at_k(ratings, ratings.withColumnRenamed("rating", "prediction"), k=0)


def test_synapseml_trains_one_lightgbm_network_across_both_executors(spark, cluster, tmp_path):
    frame, _ = generate(20_000, seed=4)
    train, test = frame.iloc[:16_000], frame.iloc[16_000:]
    model = lgb_spark.LightGBMClickModel(
        lgb_spark.FeatureEncoder(min_count=5), params={"num_leaves": 15}, num_boost_round=30
    ).fit(criteo.to_spark(spark, train).repartition(4))
    # every ordinal column is split one-vs-rest: the distributed many-vs-many split crashes
    assert model.booster_params["max_cat_to_onehot"] > model.encoder.cardinality > 56
    # each executor's LightGBM task joined one network of both and trained its part
    for work_dir in cluster.work_dirs:
        log = _executor_logs(work_dir)
        nodes = re.findall(r"received nodes for network init: '([^']*)'", log)
        assert nodes, f"no LightGBM task ran in {work_dir}"
        assert len(nodes[-1].split(",")) == 2
        assert "shouldExecuteTraining: true" in log
    stest = criteo.to_spark(spark, test)
    scores = model.evaluate(stest)
    assert scores["auc"] > 0.7
    served = lgb_pandas.LightGBMClickModel.load(model.save(tmp_path / "model"))
    spark_p = model.predict_proba(stest).select("probability").toPandas()["probability"]
    np.testing.assert_allclose(served.predict_proba(test), spark_p.to_numpy(), atol=1e-9)


def test_mlflow_spark_udf_scores_on_the_executors(spark, ratings, tmp_path):
    """Both kinds of logged model, batch-scored by ``mlflow.pyfunc.spark_udf`` in the
    executors' Python workers: the lists of the Spark-trained ALS and the probabilities of a
    click model equal the models' own."""
    import mlflow
    from pyspark.sql import functions as F

    from recommenders_kit.deploy.mlflow import click_input, log_model

    with sqlite_tracking(tmp_path):
        als = ALSRecommender(rank=8, max_iter=5).fit(ratings)
        topk = mlflow.pyfunc.spark_udf(
            spark, log_model(als, "als").model_uri, env_manager="local", params={"k": 5}
        )
        users = ratings.select("userID").distinct().repartition(4)
        got = users.select(topk(F.struct("userID")).alias("r")).select("r.*").toPandas()
        want = als.recommend_k_items(k=5).toPandas()
        want = want.sort_values(["userID", "prediction", "itemID"], ascending=[True, False, True])
        assert {u: list(i) for u, i in zip(got["userID"], got["items"], strict=True)} == {
            u: g["itemID"].tolist() for u, g in want.groupby("userID")
        }
        frame, _ = generate(3000, seed=8)
        click = lgb_pandas.LightGBMClickModel(num_boost_round=10, progress=False).fit(frame)
        rows = click_input(frame.head(400))
        probability = mlflow.pyfunc.spark_udf(
            spark, log_model(click, "click").model_uri, result_type="double", env_manager="local"
        )
        data = spark.createDataFrame(rows.assign(row=np.arange(len(rows)))).repartition(4)
        scored = data.select("row", probability(*rows.columns).alias("p")).toPandas()
        np.testing.assert_allclose(
            scored.sort_values("row")["p"], click.predict_proba(rows), rtol=0, atol=1e-12
        )


def _executor_logs(work_dir) -> str:
    return "\n".join(p.read_text(errors="replace") for p in work_dir.rglob("stderr"))


def test_a_killed_executor_is_replaced_and_the_fit_gives_the_same_model(spark, cluster, ratings):
    train = ratings.repartition(4).cache()
    train.count()
    params = {**RECOMMENDED_TOP_K, "max_iter": 6, "num_blocks": 4}
    want = ALSRecommender(**params).fit(train).model.userFactors.toPandas()
    before = set(cluster.executor_pids(0))
    result: dict = {}
    thread = threading.Thread(
        target=lambda: result.update(model=ALSRecommender(**params).fit(train))
    )
    thread.start()
    tracker, deadline = spark.sparkContext.statusTracker(), time.monotonic() + 60
    while not tracker.getActiveStageIds() and time.monotonic() < deadline:
        time.sleep(0.05)  # until the fit's first stage runs (a warm fit takes seconds)
    for pid in before:
        os.kill(pid, signal.SIGKILL)
    assert thread.is_alive(), "the executor must die while the fit runs"
    thread.join(timeout=600)
    assert "model" in result, "the fit did not finish after the executor was killed"
    deadline = time.monotonic() + 120  # the worker relaunches it on its own time
    while not set(cluster.executor_pids(0)) - before and time.monotonic() < deadline:
        time.sleep(1)
    assert set(cluster.executor_pids(0)) - before, "the worker started a new executor"
    got = result["model"].model.userFactors.toPandas()
    merged = want.merge(got, on="id", suffixes=("_want", "_got"))
    assert len(merged) == len(want)
    np.testing.assert_allclose(
        np.vstack(merged["features_got"]), np.vstack(merged["features_want"]), atol=1e-5
    )


def test_stopping_leaves_no_process(tmp_path):
    with standalone_cluster(tmp_path, workers=1) as small:
        pids = [p.pid for p in small.processes]
    alive = subprocess.run(
        ["ps", "-ww", "-eo", "pid=,args="], capture_output=True, text=True
    ).stdout
    assert not [line for line in alive.splitlines() if str(tmp_path) in line]
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
