"""Ranking-metric speed at MovieLens-1M scale: this library on pandas and Spark vs the
reference toolkit.

Data (generated, seed 0): 1,000,000 truth rows over 6,040 users and 3,706 items (every user
>= 20 ratings, popularity-skewed items), and 100 scored predictions per user (604,000 rows,
grouped by user, scores not sorted, relevant items scored higher on average).

Baselines, timed in the same run (``pip install -e ".[bench]"``):

* pandas: ``recommenders.evaluation.python_evaluation``;
* Spark: ``recommenders.evaluation.spark_evaluation.SparkRankingEvaluation`` used as its users
  do: one constructor (it defines the plan), then one method call per metric.

Spark is timed the way a user's notebook runs: every column of a row comes from a fresh
process (a new Python, JVM and session; frames loaded and cached untimed), so the first call
pays what a first call pays. For each of ``local[2]`` and a loopback standalone cluster (two
1-core workers), and each input (frames made with ``spark.createDataFrame(pandas)`` and
cached, as notebooks often make them; parquet read and cached, as jobs read them), three
processes: the reference (constructor, then five metrics), this library's five metric
functions one by one, and its ``evaluate()`` of all five. Values must agree to 1e-9 with the
pandas engine (the reference's nDCG differs in the 5th decimal: MLlib's ``RankingMetrics``
deduplicates and breaks ties its own way). Run:

    .venv/bin/python -m benchmarks.evaluation [--no-spark] [--no-cluster] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


#: what each fresh Spark process runs: the reference (its constructor, then each metric
#: method of the same object), this library's metrics one by one, or its evaluate()
RUNS = ("reference", "ours, one by one", "ours, evaluate()")


def spark_run(master: str, source: str, run: str, folder: Path) -> dict[str, dict[str, float]]:
    """One fresh process (a new Python, JVM and session, as a user's notebook starts): the
    frames loaded and cached (untimed), then ``run``'s calls timed one by one. Returns
    ``{"seconds": {step: s}, "values": {metric: value}}``."""
    out = folder / "run.json"
    command = [sys.executable, "-m", "benchmarks.evaluation", "--run", master, source, run]
    subprocess.run([*command, str(folder)], check=True, stdout=subprocess.DEVNULL)
    return json.loads(out.read_text())


def _run_in_this_process(master: str, source: str, run: str, folder: Path) -> None:
    """:func:`spark_run`'s child: writes ``folder / "run.json"``."""
    from benchmarks._spark import parquet_frame, session
    from recommenders_kit.evaluation import spark as sev

    seconds: dict[str, float] = {}
    values: dict[str, float] = {}

    def timed(step: str, fn: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = fn()
        seconds[step] = time.perf_counter() - start
        return result

    with session(master) as spark:
        if source == "parquet":
            strue = parquet_frame(spark, None, folder, "true")
            spred = parquet_frame(spark, None, folder, "pred")
        else:
            true, pred = (pd.read_parquet(folder / f"{n}.parquet") for n in ("true", "pred"))
            strue, spred = spark.createDataFrame(true).cache(), spark.createDataFrame(pred).cache()
            strue.count(), spred.count()
        if run == "reference":
            from recommenders.evaluation.spark_evaluation import SparkRankingEvaluation

            evaluation = timed(
                "constructor",
                lambda: SparkRankingEvaluation(strue, spred, k=K, col_prediction="prediction"),
            )
            for name in METRICS:
                values[name] = timed(name, getattr(evaluation, name))
        elif run == "ours, one by one":
            for name in METRICS:
                values[name] = timed(name, lambda n=name: getattr(sev, n)(strue, spred, k=K))
        else:
            values = timed("evaluate", lambda: sev.evaluate(strue, spred, metrics=METRICS, k=K))
    (folder / "run.json").write_text(json.dumps({"seconds": seconds, "values": values}))


def spark_rows(label: str, runs: dict[str, Any], values: dict[str, float]) -> list[list[Any]]:
    """The table's rows for one (master, input): the reference's steps against ours."""
    ref, ours = runs["reference"]["seconds"], runs["ours, one by one"]["seconds"]
    evaluate_s = runs["ours, evaluate()"]["seconds"]["evaluate"]
    for run in ("ours, one by one", "ours, evaluate()"):
        got = runs[run]["values"]
        assert all(abs(got[m] - values[m]) < 1e-9 for m in METRICS), (label, run, got)
    four, further = METRICS[:4], METRICS[1:4]
    rows = [
        ("first metric", ref["constructor"] + ref[METRICS[0]], ours[METRICS[0]]),
        *[(f"further metric: {m}", ref[m], ours[m]) for m in further],
        (
            "four metrics one by one",
            ref["constructor"] + sum(ref[m] for m in four),
            sum(ours[m] for m in four),
        ),
        (
            "all five: evaluate() vs constructor + five",
            ref["constructor"] + sum(ref[m] for m in METRICS),
            evaluate_s,
        ),
    ]
    return [[label, step, r, o, r / o] for step, r, o in rows]


def spark_table(true, pred, values, masters: list[str]) -> None:
    headers = ["Spark, input", "step", "reference s", "ours s", "speed-up"]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        true.to_parquet(folder / "true.parquet", index=False)
        pred.to_parquet(folder / "pred.parquet", index=False)
        for master in masters:
            for source in ("from pandas", "parquet"):
                label = f"{master}, {source}"
                runs = {run: spark_run(master, source, run, folder) for run in RUNS}
                rows += spark_rows(label, runs, values)
                print_table(headers, rows[-6:])
                print(flush=True)
    print("Spark, all runs (each column a fresh process; values equal to pandas' within 1e-9):\n")
    print_table(headers, rows)


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
    parser.add_argument("--repeat", type=int, default=3, help="pandas timings: best of")
    parser.add_argument(
        "--migration", action="store_true", help="only compare values with the reference's"
    )
    parser.add_argument("--run", nargs=4, help=argparse.SUPPRESS)  # one fresh Spark process
    args = parser.parse_args()
    if args.run:
        master, source, run, folder = args.run
        _run_in_this_process(master, source, run, Path(folder))
        return
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
        spark_table(true, pred, values, masters)


if __name__ == "__main__":
    main()
