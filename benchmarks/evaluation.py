"""Ranking-metric speed at MovieLens-1M scale: this library (pandas, Spark) vs the reference.

Data (generated, seed 0): 1,000,000 truth rows over 6,040 users and 3,706 items (every user
>= 20 ratings, popularity-skewed items), and 100 scored predictions per user (604,000 rows,
grouped by user, scores not sorted, relevant items scored higher on average).

Baseline: ``recommenders.evaluation.python_evaluation`` (the reference toolkit's published
implementation, ``pip install -e ".[bench]"``), timed in the same process. Values must agree
to 1e-9. Run:  .venv/bin/python -m benchmarks.evaluation [--no-spark]
"""

from __future__ import annotations

import argparse
import tracemalloc

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-spark", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    from recommenders.evaluation import python_evaluation as ref

    true, pred = make_data()
    print(
        f"truth {len(true):,} rows, {true.userID.nunique():,} users, {true.itemID.nunique():,} "
        f"items; predictions {len(pred):,} rows\n"
    )
    rows, ours_values = [], {}
    sum_ref = 0.0
    spark_eval = None
    if not args.no_spark:
        from recommenders_kit.evaluation import spark as seval
        from recommenders_kit.spark import start_or_get_spark

        spark = start_or_get_spark("bench-evaluation", memory="6g")
        strue = spark.createDataFrame(true).cache()
        spred = spark.createDataFrame(pred).cache()
        strue.count(), spred.count()
        spark_eval = seval
    for name in METRICS:
        t_ours, v_ours = best_time(
            lambda name=name: getattr(ranking, name)(true, pred, k=K), args.repeat
        )
        t_ref, v_ref = best_time(
            lambda name=name: getattr(ref, name)(true, pred, k=K), max(1, args.repeat - 1)
        )
        sum_ref += t_ref
        t_spark = float("nan")
        if spark_eval:
            t_spark, v_spark = best_time(
                lambda name=name: getattr(spark_eval, name)(strue, spred, k=K), 2
            )
            assert abs(v_spark - v_ours) < 1e-9, (name, v_spark, v_ours)
        assert abs(v_ours - v_ref) < 1e-9, (name, v_ours, v_ref)
        ours_values[name] = v_ours
        rows.append([name, v_ours, t_ref, t_ours, t_ref / t_ours, t_spark])
    t_all, values = best_time(lambda: evaluate(true, pred, metrics=METRICS, k=K), args.repeat)
    assert all(abs(values[m] - ours_values[m]) < 1e-12 for m in METRICS)
    t_spark_all = float("nan")
    if spark_eval:
        t_spark_all, _ = best_time(
            lambda: spark_eval.evaluate(strue, spred, metrics=METRICS, k=K), 2
        )
    rows.append(["all five (evaluate)", "", sum_ref, t_all, sum_ref / t_all, t_spark_all])
    tracemalloc.start()
    evaluate(true, pred, metrics=METRICS, k=K)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print_table(["metric", "value", "reference s", "ours s", "speed-up", "ours on Spark s"], rows)
    print(
        f"\nvalues equal to the reference's within 1e-9: yes; peak memory of evaluate(): "
        f"{peak:.0f} MiB (tracemalloc)"
    )


if __name__ == "__main__":
    main()
