"""What MLflow packaging costs: the library's models as pyfunc models against their own calls,
``mlflow models serve`` against the library's scoring service, and ``spark_udf`` top-k lists
against ``recommend_k_items`` on Spark.

Table 1, in process (best of 3 after one warm-up call; "x direct" is pyfunc over the direct
call, the goal is <= 1.2): top-10 lists for all 6,040 users of a pandas ALS trained on
generated ratings of ML-1M's shape (``recommend_k_items`` vs ``pyfunc.predict`` with
``params={"k": 10}``), and click probabilities of 10,000 Criteo-shaped rows
(``predict_proba`` vs ``pyfunc.predict``). The "first call" column is what a fresh process
sees: ``mlflow.pyfunc.load_model`` plus the first predict, against the class's ``load`` plus
its first call.

Table 2, over HTTP on 127.0.0.1 (one worker each): the same single Criteo rows sent to
``mlflow models serve --env-manager local`` (``/invocations``, ``dataframe_split``) and to
``recommenders-kit serve`` (Azure ML's inference server, ``/score``), from 1 and 8 clients
with keep-alive connections: requests/s, p50 and p99.

Table 3, Spark ``local[2]``: top-10 lists of all users as a Spark table, by
``mlflow.pyfunc.spark_udf`` over the logged Spark ALS (scored in the Python workers from its
factors) vs ``recommend_k_items`` of the Spark model (executor blocks); both written to
Spark's ``noop`` sink, best of 2.

Run:  .venv/bin/python -m benchmarks.mlflow_models [--requests 1000]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import mlflow
import pandas as pd

from benchmarks import _spark
from benchmarks._common import best_time, print_table
from benchmarks._ratings_shape import ML_1M
from benchmarks._ratings_shape import generate as generate_ratings
from benchmarks.serving import over_http, request_bodies
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.deploy.mlflow import click_input, local_server, log_model
from recommenders_kit.models.als import pandas as als_pandas
from recommenders_kit.models.als import spark as als_spark
from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
from recommenders_kit.serving.launch import background

ALS_PARAMS = {"rank": 64, "max_iter": 5, "reg_param": 40.0}


def first_call(load, call) -> float:
    """Seconds to load a model and answer its first call."""
    start = time.perf_counter()
    call(load())
    return time.perf_counter() - start


def in_process_rows(ratings: pd.DataFrame, tmp: Path) -> tuple[list[list], str, str]:
    users = pd.DataFrame({"userID": ratings["userID"].unique()})
    als = als_pandas.ALSRecommender(**ALS_PARAMS, num_threads=0).fit(ratings)
    info = log_model(als, "als")
    folder = als.save(tmp / "als")
    pyfunc = mlflow.pyfunc.load_model(info.model_uri)
    params = {"k": 10}
    rows = []
    direct_first = first_call(
        lambda: als_pandas.ALSRecommender.load(folder), lambda m: m.recommend_k_items(users)
    )
    pyfunc_first = first_call(
        lambda: mlflow.pyfunc.load_model(info.model_uri), lambda m: m.predict(users, params=params)
    )
    als.recommend_k_items(users)
    pyfunc.predict(users, params=params)
    direct, _ = best_time(lambda: als.recommend_k_items(users))
    wrapped, _ = best_time(lambda: pyfunc.predict(users, params=params))
    n = f"{len(users):,} users"
    rows.append(["ALS top-10, recommend_k_items", n, direct, direct_first, ""])
    rows.append(["ALS top-10, pyfunc.predict", n, wrapped, pyfunc_first, f"{wrapped / direct:.2f}"])

    frame, _ = generate(110_000, seed=1)
    click = LightGBMClickModel(progress=False).fit(frame.iloc[:100_000])
    click_info = log_model(click, "click")
    click_folder = click.save(tmp / "click")
    test = click_input(frame.iloc[100_000:])
    probs = mlflow.pyfunc.load_model(click_info.model_uri)
    direct_first = first_call(
        lambda: LightGBMClickModel.load(click_folder), lambda m: m.predict_proba(test)
    )
    pyfunc_first = first_call(
        lambda: mlflow.pyfunc.load_model(click_info.model_uri), lambda m: m.predict(test)
    )
    click.predict_proba(test)
    probs.predict(test)
    direct, _ = best_time(lambda: click.predict_proba(test))
    wrapped, _ = best_time(lambda: probs.predict(test))
    n = f"{len(test):,} rows"
    rows.append(["click, predict_proba", n, direct, direct_first, ""])
    rows.append(["click, pyfunc.predict", n, wrapped, pyfunc_first, f"{wrapped / direct:.2f}"])
    return rows, click_info.model_uri, click_folder


def mlflow_bodies(bodies: list[bytes]) -> list[bytes]:
    """The same rows as ``dataframe_split`` bodies (columns in the signature's order)."""
    out = []
    for body in bodies:
        rows = pd.DataFrame(json.loads(body)["rows"])
        out.append(
            json.dumps({"dataframe_split": json.loads(rows.to_json(orient="split"))}).encode()
        )
    return out


def http_rows(model_uri: str, folder: str, requests: int) -> list[list]:
    ours = request_bodies(1, requests)
    theirs = mlflow_bodies(ours)
    rows = []
    servers = (
        (
            "mlflow models serve",
            lambda: local_server(model_uri),
            theirs,
            "/invocations",
        ),
        (
            "recommenders-kit serve (Azure ML server)",
            lambda: background(folder, workers=1),
            ours,
            "/score",
        ),
    )
    for name, start, bodies, path in servers:
        with start() as url:
            port = int(url.rsplit(":", 1)[1])
            over_http(port, bodies[:50], 1, path=path)  # warm up
            for clients in (1, 8):
                result = over_http(port, bodies, clients, path=path)
                q = pd.Series(result.latencies).quantile([0.5, 0.99]) * 1e3
                rps = len(result.latencies) / result.wall
                rows.append([name, clients, len(bodies), rps, q[0.5], q[0.99], result.failed])
    return rows


def spark_rows(ratings: pd.DataFrame) -> list[list]:
    from pyspark.sql import functions as F

    with _spark.session("local[2]") as spark:
        train = spark.createDataFrame(ratings[["userID", "itemID", "rating"]]).cache()
        model = als_spark.ALSRecommender(rank=20, max_iter=5, implicit_prefs=True).fit(train)
        info = log_model(model, "spark-als")
        topk = mlflow.pyfunc.spark_udf(spark, info.model_uri, env_manager="local", params={"k": 10})
        users = train.select("userID").distinct().cache()
        n = users.count()

        def udf_lists() -> None:
            scored = users.select(topk(F.struct("userID")).alias("r")).select("r.*")
            scored.write.format("noop").mode("overwrite").save()

        def spark_lists() -> None:
            model.recommend_k_items(k=10).write.format("noop").mode("overwrite").save()

        direct, _ = best_time(spark_lists, repeat=2)
        wrapped, _ = best_time(udf_lists, repeat=2)
    return [
        ["recommend_k_items (Spark)", f"{n:,} users", direct, ""],
        ["spark_udf (pyfunc)", f"{n:,} users", wrapped, f"{wrapped / direct:.2f}"],
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    args = parser.parse_args()
    ratings = generate_ratings(ML_1M, seed=0)
    with tempfile.TemporaryDirectory() as tmp:
        mlflow.set_tracking_uri(f"sqlite:///{Path(tmp) / 'mlflow.db'}")
        rows, click_uri, click_folder = in_process_rows(ratings, Path(tmp))
        print_table(["call", "input", "best s", "first call s", "x direct"], rows)
        print()
        print_table(
            ["server", "clients", "requests", "req/s", "p50 ms", "p99 ms", "failed"],
            http_rows(click_uri, click_folder, args.requests),
        )
        print()
        print_table(["top-10 table", "input", "best s", "x direct"], spark_rows(ratings))


if __name__ == "__main__":
    main()
