"""MovieLens-20M's shape on one machine: Spark ALS and the one-machine ALS, top-10 for every
user with seen items removed, and all five ranking metrics with the pandas evaluator.

The real ``ml-20m`` archive cannot be downloaded here (``datasets.movielens`` loads it where
it can), so the ratings are generated with its shape (``benchmarks/_ratings_shape.py``:
20,000,263 ratings, 138,493 users with 20-9,254 ratings each, 26,744 items with a long
popularity tail, half stars). Split per user, 75/25 (``split.pandas.stratified_split``).
Both engines get the same parameters (implicit feedback, rank 20, 10 iterations).

Per stage: seconds, ratings per second (of the stage's input), and peak resident memory of
this Python process and of Spark's driver JVM (which holds the local executors), each reset
before the stage (Linux ``VmHWM`` through ``/proc/<pid>/clear_refs``).

Run:  .venv/bin/python -m benchmarks.scale_movielens [--fraction 0.1] [--spark-memory 14g]
"""

from __future__ import annotations

import argparse
import dataclasses
import tempfile
from pathlib import Path
from typing import Any

from benchmarks._common import Stages, jvm_pid, print_table
from benchmarks._ratings_shape import ML_20M, describe, generate
from recommenders_kit.evaluation.pandas import evaluate
from recommenders_kit.split.pandas import stratified_split

PARAMS = {"rank": 20, "max_iter": 10, "reg_param": 0.1, "implicit_prefs": True, "alpha": 1.0}
METRICS = ["precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "map"]
HEADERS = ["engine", "stage", "input rows", "s", "rows/s", "Python peak GiB", "JVM peak GiB"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fraction", type=float, default=1.0, help="of the users and ratings")
    parser.add_argument("--spark-memory", default="14g")
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    shape = dataclasses.replace(
        ML_20M,
        users=round(ML_20M.users * args.fraction),
        ratings=round(ML_20M.ratings * args.fraction),
    )
    stages = Stages(jvm_column=True)
    train, test = prepare(shape, stages)
    scores = {"implicit": one_machine(train, test, stages)}
    if not args.no_spark:
        scores["spark"] = on_spark(train, test, stages, args.spark_memory)
    print(f"\n{shape.ratings:,} ratings, {shape.users:,} users, {shape.items:,} items; {PARAMS}\n")
    print_table(HEADERS, stages.rows)
    print()
    print_table(["engine", *METRICS], [[e, *s.values()] for e, s in scores.items()])


def prepare(shape: Any, stages: Stages) -> tuple[Any, Any]:
    """Generated ratings split per user into train and test (the full frame is then freed)."""
    ratings = stages.run("data", "generate", shape.ratings, lambda: generate(shape))
    print(f"per user / per item (min / median / mean / max): {describe(ratings)}")
    return stages.run(
        "data",
        "stratified split 75/25",
        len(ratings),
        lambda: stratified_split(ratings, ratio=0.75, seed=42),
    )


def one_machine(train: Any, test: Any, stages: Stages) -> dict[str, float]:
    from recommenders_kit.models.als.pandas import ALSRecommender

    model = stages.run(
        "implicit", "fit", len(train), lambda: ALSRecommender(**PARAMS, num_threads=2).fit(train)
    )
    top = stages.run("implicit", "top-10, seen removed", len(train), model.recommend_k_items)
    return stages.run(
        "implicit", "evaluate (pandas, 5 metrics)", len(test), lambda: evaluate(test, top, METRICS)
    )


def on_spark(train: Any, test: Any, stages: Stages, memory: str) -> dict[str, float]:
    from benchmarks._spark import parquet_frame, session
    from recommenders_kit.models.als.spark import ALSRecommender

    with tempfile.TemporaryDirectory() as tmp, session("local[2]", memory=memory) as spark:
        stages.jvm = jvm_pid(spark)
        columns = train[["userID", "itemID", "rating"]]
        data = stages.run(
            "spark",
            "load (parquet)",
            len(train),
            lambda: parquet_frame(spark, columns, Path(tmp), "t"),
        )
        model = stages.run("spark", "fit", len(train), lambda: ALSRecommender(**PARAMS).fit(data))
        top = stages.run(
            "spark",
            "top-10, seen removed (to pandas)",
            len(train),
            lambda: model.recommend_k_items(k=10).toPandas(),
        )
        stages.jvm = None
        return stages.run(
            "spark", "evaluate (pandas, 5 metrics)", len(test), lambda: evaluate(test, top, METRICS)
        )


if __name__ == "__main__":
    main()
