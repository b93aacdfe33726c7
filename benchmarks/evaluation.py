"""Ranking-metric speed at MovieLens-1M scale: this library on pandas and Spark vs the
reference toolkit.

Data (generated, seed 0): 1,000,000 truth rows over 6,040 users and 3,706 items (every user
>= 20 ratings, popularity-skewed items), and 100 scored predictions per user (604,000 rows,
grouped by user, scores not sorted, relevant items scored higher on average).

Baselines, timed in the same run (``pip install -e ".[bench]"``):

* pandas: ``recommenders.evaluation.python_evaluation``;
* Spark: ``recommenders.evaluation.spark_evaluation.SparkRankingEvaluation``, built for each
  metric as a user asking for that metric does (its constructor defines the plan, the metric
  call runs it).

Spark runs on ``local[2]`` and on a loopback standalone cluster (two 1-core workers), with
two kinds of input: parquet files read and cached (how a job's input arrives) and frames made
with ``spark.createDataFrame(pandas)`` and cached (how a notebook's input often arrives: Spark
then keeps the rows inside the plan, and planning any query over them costs seconds; this
library's metrics re-root such frames on an RDD first). Each engine is called once untimed
before the timings (the JVM's warm-up). Values must agree to
1e-9 with the pandas engine (the reference's nDCG differs in the 5th decimal: MLlib's
``RankingMetrics`` deduplicates and breaks ties its own way). Run:

    .venv/bin/python -m benchmarks.evaluation [--no-spark] [--no-cluster] [--repeat 3]
"""

from __future__ import annotations

import argparse
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks._common import best_time, print_table
from recommenders_kit.evaluation.pandas import evaluate, ranking

METRICS = ["precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "map"]
K = 10


def make_data(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_users, n_items, n_rows, per_user = 6040, 3706, 1_000_000, 100
    counts = 20 + rng.lognormal(0, 1.2, n_users)
    counts = np.minimum(
        20 + np.floor((counts - 20) / (counts - 20).sum() * (n_rows - 20 * n_users)), n_items
    ).astype(int)
    counts[: n_rows - counts.sum()] += 1  # exact total
    log_pop = -1.1 * np.log(np.arange(1, n_items + 1)) + rng.normal(0, 0.3, n_items)
    true_u, true_i, pred_u, pred_i, pred_s = [], [], [], [], []
    for start in range(0, n_users, 500):  # chunks keep the users x items matrix small
        users = np.arange(start, min(start + 500, n_users))
        keys = log_pop + rng.gumbel(size=(len(users), n_items))
        order = np.argsort(-keys, axis=1)
        relevant = np.zeros((len(users), n_items), dtype=bool)
        for row, u in enumerate(users):
            items = order[row, : counts[u]]
            relevant[row, items] = True
            true_u.append(np.full(len(items), u))
            true_i.append(items)
        score = 0.8 * relevant + 0.3 * log_pop + rng.normal(0, 1, (len(users), n_items))
        top = np.argpartition(-score, per_user, axis=1)[:, :per_user]
        top.sort(axis=1)  # grouped by user, item order: the scores are not sorted
        pred_u.append(np.repeat(users, per_user))
        pred_i.append(top.ravel())
        pred_s.append(np.take_along_axis(score, top, axis=1).ravel())
    true = pd.DataFrame(
        {"userID": np.concatenate(true_u), "itemID": np.concatenate(true_i), "rating": 1.0}
    )
    pred = pd.DataFrame(
        {
            "userID": np.concatenate(pred_u),
            "itemID": np.concatenate(pred_i),
            "prediction": np.concatenate(pred_s),
        }
    )
    return true, pred


def pandas_table(true: pd.DataFrame, pred: pd.DataFrame, repeat: int) -> dict[str, float]:
    from recommenders.evaluation import python_evaluation as ref

    rows, values, sum_ref = [], {}, 0.0
    for name in METRICS:
        t_ours, v_ours = best_time(lambda n=name: getattr(ranking, n)(true, pred, k=K), repeat)
        t_ref, v_ref = best_time(
            lambda n=name: getattr(ref, n)(true, pred, k=K), max(1, repeat - 1)
        )
        assert abs(v_ours - v_ref) < 1e-9, (name, v_ours, v_ref)
        sum_ref += t_ref
        values[name] = v_ours
        rows.append([name, v_ours, t_ref, t_ours, t_ref / t_ours])
    t_all, got = best_time(lambda: evaluate(true, pred, metrics=METRICS, k=K), repeat)
    assert all(abs(got[m] - values[m]) < 1e-12 for m in METRICS)
    rows.append(["all five (evaluate)", "", sum_ref, t_all, sum_ref / t_all])
    tracemalloc.start()
    evaluate(true, pred, metrics=METRICS, k=K)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print("pandas, one process (values equal to the reference's within 1e-9):\n")
    print_table(["metric", "value", "reference s", "ours s", "speed-up"], rows)
    print(f"\npeak memory of evaluate(): {peak:.0f} MiB (tracemalloc)\n", flush=True)
    return values


def spark_rows(spark, strue, spred, label: str, values: dict[str, float], repeat: int) -> list:
    """One row per metric (and one for all five): reference s, ours s, reference / ours."""
    from recommenders.evaluation.spark_evaluation import SparkRankingEvaluation

    from recommenders_kit.evaluation import spark as sev

    def reference(name: str) -> float:
        evaluation = SparkRankingEvaluation(strue, spred, k=K, col_prediction="prediction")
        return getattr(evaluation, name)()

    reference("precision_at_k"), sev.precision_at_k(strue, spred, k=K)  # warm both up
    rows, t_one_ref = [], None
    for name in METRICS:
        t_ours, v_ours = best_time(lambda n=name: getattr(sev, n)(strue, spred, k=K), repeat)
        t_ref, _ = best_time(lambda n=name: reference(n), repeat)
        t_one_ref = t_ref if t_one_ref is None else min(t_one_ref, t_ref)
        assert abs(v_ours - values[name]) < 1e-9, (name, v_ours, values[name])
        rows.append([label, name, t_ref, t_ours, t_ref / t_ours])
    t_all, got = best_time(lambda: sev.evaluate(strue, spred, metrics=METRICS, k=K), repeat)
    assert all(abs(got[m] - values[m]) < 1e-9 for m in METRICS)
    rows.append(
        [
            label,
            "all five (evaluate) vs the reference's fastest one",
            t_one_ref,
            t_all,
            t_one_ref / t_all,
        ]
    )
    return rows


def spark_table(true, pred, values, masters: list[str], repeat: int) -> None:
    from benchmarks._spark import parquet_frame, session

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for master in masters:
            with session(master) as spark:
                for source in ("parquet", "from pandas"):
                    if source == "parquet":
                        strue = parquet_frame(spark, true, Path(tmp), "true")
                        spred = parquet_frame(spark, pred, Path(tmp), "pred")
                    else:
                        strue, spred = spark.createDataFrame(true), spark.createDataFrame(pred)
                        strue, spred = strue.cache(), spred.cache()
                        strue.count(), spred.count()
                    label = f"{master}, {source}"
                    rows += spark_rows(spark, strue, spred, label, values, repeat)
                    print_table(
                        ["Spark, input", "metric", "reference s", "ours s", "speed-up"], rows[-6:]
                    )
                    print(flush=True)
                    strue.unpersist(), spred.unpersist()
    print("Spark, all runs (values equal to the pandas engine's within 1e-9):\n")
    print_table(["Spark, input", "metric", "reference s", "ours s", "speed-up"], rows)


def migration_table(seeds: int = 3) -> None:
    """The reference toolkit's calls, keyword for keyword, against this library's on random
    data: the largest difference per metric over every score type and discount (nDCG) and
    ``seeds`` data sets. ``top_k`` only: the reference's ``by_threshold`` keeps the
    ``threshold`` best items of each user (its ``threshold`` is a count there), this
    library's keeps the items scoring at least ``threshold``, at most k of them."""
    import itertools

    from recommenders.evaluation import python_evaluation as ref

    from recommenders_kit.evaluation.pandas import ranking

    rows = []
    for name in ["precision_at_k", "recall_at_k", "ndcg_at_k", "map_at_k", "map"]:
        graded = name == "ndcg_at_k"
        kinds = itertools.product(
            ["top_k"],
            ["binary", "raw", "exp"] if graded else [None],
            ["loge", "log2"] if graded else [None],
        )
        worst, calls = 0.0, 0
        for (method, score, disc), seed in itertools.product(kinds, range(seeds)):
            true, pred = _migration_data(seed)
            kw = {"col_user": "userID", "col_item": "itemID", "col_rating": "rating"}
            kw |= {"col_prediction": "prediction", "relevancy_method": method, "k": 5}
            if graded:
                kw |= {"score_type": score, "discfun_type": disc}
            diff = abs(
                getattr(ranking, name)(true, pred, **kw) - getattr(ref, name)(true, pred, **kw)
            )
            worst, calls = max(worst, diff), calls + 1
        rows.append([name, calls, f"{worst:.1e}"])
    print_table(["metric", "calls compared", "largest |ours - reference|"], rows)


def _migration_data(seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Random truth (ratings 1-5) and scores; every user of the truth is scored (the
    reference averages over the truth's users, this library over the users in both)."""
    rng = np.random.default_rng(seed)
    true = pd.DataFrame({"userID": rng.integers(0, 200, 3000), "itemID": rng.integers(0, 80, 3000)})
    true = true.drop_duplicates().reset_index(drop=True)
    true["rating"] = rng.integers(1, 6, len(true)).astype(float)
    users = np.repeat(np.unique(true.userID), 30)
    pred = pd.DataFrame({"userID": users, "itemID": rng.integers(0, 100, len(users))})
    pred = pred.drop_duplicates().reset_index(drop=True)
    pred["prediction"] = rng.random(len(pred))
    return true, pred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--no-cluster", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--migration", action="store_true", help="only compare values with the reference's"
    )
    args = parser.parse_args()
    if args.migration:
        migration_table()
        return
    true, pred = make_data()
    print(
        f"truth {len(true):,} rows, {true.userID.nunique():,} users, {true.itemID.nunique():,} "
        f"items; predictions {len(pred):,} rows\n"
    )
    values = pandas_table(true, pred, args.repeat)
    if not args.no_spark:
        masters = ["local[2]"] + ([] if args.no_cluster else ["cluster"])
        spark_table(true, pred, values, masters, args.repeat)


if __name__ == "__main__":
    main()
