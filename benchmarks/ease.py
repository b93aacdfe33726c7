"""Spark EASE's fit: the Gram matrix ``X^T X`` from the executors, then one inverse.

The library (``models.ease.spark``) groups each user's rows into one partition and has each
partition multiply its users' sparse history matrix by itself in scipy; the executors add
the partitions' products band of rows by band of rows, as sparse matrices. The baseline is
EASE as it is written in pyspark (and what the library did before): the Gram matrix as a
Spark SQL self-join of the rows on the user and a ``groupBy(a, b).sum`` (one row per pair of
a user's items before aggregation), then the same inverse (``models.ease.ease_weights``);
its weights are checked against the library's. The inverse alone, and the one-machine twin
(``models.ease.pandas``), give the scale.

Times on ``local[2]``, ``RECOMMENDED_TOP_K``, in one session, on MovieLens 100k (real) and a
generated set of ML-1M's shape (``benchmarks/_ratings_shape.py``; 3,706 items): the library's
fit, the inverse and the pandas fit each the best of three runs; the self-join fit once,
after them (about 3.5 minutes on the ML-1M shape on 2 cores).

Run:  .venv/bin/python -m benchmarks.ease
"""

from __future__ import annotations

from typing import Any

import numpy as np

from benchmarks._common import best_time, print_table
from benchmarks._ratings_shape import ML_1M, generate
from benchmarks._spark import session
from benchmarks.als import movielens_100k
from recommenders_kit.models.ease import ease_weights
from recommenders_kit.models.ease import pandas as ease_pandas
from recommenders_kit.models.ease import spark as ease_spark

HEADERS = [
    "data",
    "self-join fit s",
    "library fit s",
    "self-join / library",
    "the inverse alone s",
    "pandas fit s",
]


def self_join_gram(data: Any) -> tuple[np.ndarray, np.ndarray]:
    """(item ids, ``X^T X``) with binary weights (no repeated pairs in MovieLens), by joining
    the rows with themselves."""
    from pyspark.sql import functions as F

    rows = data.select(F.col("userID").alias("u"), F.col("itemID").alias("i"))
    left = rows.select("u", F.col("i").alias("a"))
    right = rows.select("u", F.col("i").alias("b"))
    gram = left.join(right, on="u").groupBy("a", "b").count().toPandas()
    item_ids = np.sort(gram["a"].unique())
    dense = np.zeros((len(item_ids), len(item_ids)))
    dense[np.searchsorted(item_ids, gram["a"]), np.searchsorted(item_ids, gram["b"])] = gram[
        "count"
    ]
    return item_ids, dense


def main() -> None:
    sets = [
        ("MovieLens 100k (real)", movielens_100k()),
        ("ML-1M shape (generated)", generate(ML_1M)),
    ]
    params = ease_spark.RECOMMENDED_TOP_K
    table = []
    with session("local[2]") as spark:
        for name, frame in sets:
            data = spark.createDataFrame(frame[["userID", "itemID", "rating"]]).repartition(4)
            data.cache().count()
            fit = lambda: ease_spark.EASERecommender(**params).fit(data)  # noqa: B023, E731
            ours_s, ours = best_time(fit)
            local = lambda: ease_pandas.EASERecommender(**params).fit(frame)  # noqa: B023, E731
            pandas_s, _ = best_time(local)
            gram_s, (_, gram) = best_time(lambda: self_join_gram(data), 1)  # noqa: B023
            invert = lambda: ease_weights(gram, params["lam"])  # noqa: B023, E731
            inverse_s, joined = best_time(invert)
            np.testing.assert_allclose(joined, ours.model.weights, atol=1e-6)
            joined_s = gram_s + inverse_s
            ratio = f"{joined_s / ours_s:.1f}x"
            table.append([name, joined_s, ours_s, ratio, inverse_s, pandas_s])
            data.unpersist()
    print("\nSpark EASE fit (local[2], RECOMMENDED_TOP_K; self-join: one run):\n")
    print_table(HEADERS, table)


if __name__ == "__main__":
    main()
