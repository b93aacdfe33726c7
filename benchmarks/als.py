"""Spark ALS top-k speed: the Spark path and the local fast path against the naive approach.

For each data set: ALS fit time (the recommended implicit configuration), and the time to
produce the top 10 unseen items of every user three ways:

* naive: cross join of all users x all items -> ``model.transform`` -> anti join with the
  training pairs -> window rank <= 10 (what people write first);
* Spark path: ``ALSRecommender.recommend_k_items`` (blocked ``recommendForUserSubset``);
* fast path: ``ALSRecommender.recommend_k_items_local`` (numpy, factors collected once; the
  time includes collecting them and the training pairs).

Lists are compared with the naive ones: identical, or differing only between items whose
scores are within 1e-4 (float32 ties).

Data: MovieLens 100k (real, from ../shared/data), the partial real ML-1M ratings in
../shared/data (users 1-2999 only, so not reported as "ML-1M"), and a generated set of
ML-1M's shape (1,000,209 ratings, 6,040 users, 3,706 items).
Run:  .venv/bin/python -m benchmarks.als [--skip-naive-1m]
"""

from __future__ import annotations

import argparse
import gzip
import io
import os
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import best_time, print_table

SHARED = Path(
    os.environ.get(
        "RECOMMENDERS_KIT_TEST_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"
    )
)


def movielens_100k() -> pd.DataFrame:
    return pd.read_csv(
        SHARED / "movielens/ml-100k/u.data",
        sep="\t",
        names=["userID", "itemID", "rating", "timestamp"],
    )


def movielens_1m_partial() -> pd.DataFrame | None:
    path = SHARED / "movielens/ml-1m/ratings.partial-users-0001-2999.dat.gz"
    if not path.exists():
        return None
    with gzip.open(path, "rt") as f:
        text = f.read().replace("::", "\t")
    return pd.read_csv(
        io.StringIO(text), sep="\t", names=["userID", "itemID", "rating", "timestamp"]
    )


def generated_1m(seed: int = 0) -> pd.DataFrame:
    """ML-1M's shape: 6,040 users (>= 20 ratings each), 3,706 items, 1,000,209 ratings, with
    popularity skew and a low-rank taste structure behind the stars."""
    rng = np.random.default_rng(seed)
    n_users, n_items, n_rows = 6040, 3706, 1_000_209
    activity = rng.lognormal(0, 1.1, n_users)
    counts = 20 + np.floor(activity / activity.sum() * (n_rows - 20 * n_users)).astype(int)
    counts = np.minimum(counts, n_items)
    counts[: n_rows - counts.sum()] += 1
    log_pop = -1.0 * np.log(np.arange(1, n_items + 1))
    users_f, items_f = rng.normal(0, 1, (n_users, 8)), rng.normal(0, 1, (n_items, 8))
    parts = []
    for start in range(0, n_users, 1000):
        block = np.arange(start, min(start + 1000, n_users))
        keys = log_pop + rng.gumbel(size=(len(block), n_items))
        order = np.argsort(-keys, axis=1)
        for row, u in enumerate(block):
            items = order[row, : counts[u]]
            taste = items_f[items] @ users_f[u] / 3 + rng.normal(0, 0.7, len(items))
            stars = np.clip(np.round(3.6 + taste), 1, 5)
            parts.append(pd.DataFrame({"userID": u + 1, "itemID": items + 1, "rating": stars}))
    return pd.concat(parts, ignore_index=True)


def naive_top_k(model, train_sdf, k: int):
    """Score every (user, item) pair, drop seen ones, rank per user."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    users = train_sdf.select("userID").distinct()
    items = train_sdf.select("itemID").distinct()
    scored = model.model.transform(users.crossJoin(items))
    unseen = scored.join(train_sdf.select("userID", "itemID"), ["userID", "itemID"], "left_anti")
    window = Window.partitionBy("userID").orderBy(F.col("prediction").desc(), "itemID")
    return (
        unseen.withColumn("rank", F.row_number().over(window))
        .where("rank <= 10")
        .select("userID", "itemID", "prediction")
    )


def _seen(pairs: pd.DataFrame, user_ids: np.ndarray, item_ids: np.ndarray):
    from scipy import sparse

    rows = pd.Index(user_ids).get_indexer(pairs["userID"])
    cols = pd.Index(item_ids).get_indexer(pairs["itemID"])
    ok = (rows >= 0) & (cols >= 0)
    shape = (len(user_ids), len(item_ids))
    return sparse.csr_matrix((np.ones(ok.sum(), bool), (rows[ok], cols[ok])), shape=shape)


def compare_lists(got: pd.DataFrame, want: pd.DataFrame, tol: float = 1e-4) -> tuple[float, bool]:
    """(share of users with identical lists, whether every difference is a float tie)."""
    key = ["userID", "prediction", "itemID"]
    g = got.sort_values(key, ascending=[True, False, True]).groupby("userID")
    w = want.sort_values(key, ascending=[True, False, True]).groupby("userID")
    g_items, w_items = g["itemID"].apply(list), w["itemID"].apply(list)
    kth = w["prediction"].min()
    same = (g_items == w_items.reindex(g_items.index)).mean()
    score = (
        pd.concat([got, want])
        .drop_duplicates(["userID", "itemID"])
        .set_index(["userID", "itemID"])["prediction"]
    )
    ties_only = True
    for user in g_items.index[g_items != w_items.reindex(g_items.index)]:
        for item in set(g_items[user]) ^ set(w_items[user]):
            ties_only &= abs(score[(user, item)] - kth[user]) < tol
    return float(same), bool(ties_only)


def measure(spark, name: str, ratings: pd.DataFrame, skip_naive_1m: bool) -> list:
    from recommenders_kit.models.als.spark import RECOMMENDED_TOP_K, ALSRecommender

    train = spark.createDataFrame(ratings[["userID", "itemID", "rating"]]).cache()
    train.count()
    t_fit, model = best_time(lambda: ALSRecommender(**RECOMMENDED_TOP_K).fit(train), 1)
    t_spark, spark_recs = best_time(lambda: model.recommend_k_items(k=10).toPandas(), 1)

    def fast():  # collect the factors, score with numpy (what one machine can do)
        from recommenders_kit.models.als._common import Factors

        uf = model.model.userFactors.orderBy("id").toPandas()
        itf = model.model.itemFactors.orderBy("id").toPandas()
        seen = ratings[["userID", "itemID"]]
        factors = Factors(
            uf["id"].to_numpy(),
            itf["id"].to_numpy(),
            np.array(uf["features"].tolist(), dtype=np.float32),
            np.array(itf["features"].tolist(), dtype=np.float32),
            _seen(seen, uf["id"].to_numpy(), itf["id"].to_numpy()),
        )
        users, items, scores = factors.top_k(factors.user_rows(), 10, remove_seen=True)
        return pd.DataFrame({"userID": users, "itemID": items, "prediction": scores})

    t_fast, fast_recs = best_time(fast, 2)
    if "generated" in name and skip_naive_1m:
        t_naive, same, ties = float("nan"), float("nan"), "-"
    else:
        t_naive, naive_recs = best_time(lambda: naive_top_k(model, train, 10).toPandas(), 1)
        same_fast, ties_fast = compare_lists(fast_recs, naive_recs)
        same_spark, ties_spark = compare_lists(spark_recs, naive_recs)
        same = min(same_fast, same_spark)
        ties = "yes" if ties_fast and ties_spark else "NO"
    return [
        name,
        f"{len(ratings):,}",
        t_fit,
        t_naive,
        t_spark,
        t_fast,
        t_naive / t_spark,
        t_naive / t_fast,
        same,
        ties,
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--skip-naive-1m",
        action="store_true",
        help="skip the slow naive cross join on the 1M-shaped set",
    )
    args = parser.parse_args()

    from recommenders_kit.spark import start_or_get_spark

    spark = start_or_get_spark("bench-als", memory="8g")
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.setCheckpointDir(tempfile.mkdtemp())
    sets = [("MovieLens 100k (real)", movielens_100k())]
    partial = movielens_1m_partial()
    if partial is not None:
        sets.append(("ML-1M partial, users 1-2999 (real)", partial))
    sets.append(("ML-1M shape (generated)", generated_1m()))
    rows = [measure(spark, name, ratings, args.skip_naive_1m) for name, ratings in sets]
    print_table(
        [
            "data",
            "ratings",
            "fit s",
            "naive s",
            "spark path s",
            "fast path s",
            "naive/spark",
            "naive/fast",
            "identical lists",
            "others differ by ties only",
        ],
        rows,
    )


if __name__ == "__main__":
    main()
