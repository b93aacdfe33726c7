"""LightGBM click model at 100k, 1M and 4M generated Criteo rows: native vs SynapseML.

For each size (80/20 split by row order, seed 0): encode time, train time (early stopping on
the last 10% of training rows), test AUC against the ceiling (the AUC of the planted true
probabilities), batch-scoring speed of the trained model (rows/second over the test rows,
encoding included) and ``evaluate`` (AUC and logloss of the test rows; on Spark the best of
two calls, against the same two metrics on ``predict_proba``'s frame as it is, not cached).
SynapseML runs on local Spark with the same features and parameters. Peak memory: the Python
process's peak resident set, and for SynapseML also the Spark JVM's (a separate process; in
local mode it holds the executors and LightGBM's native datasets).

With ``--encoders``: the Criteo encoders alone (fit and transform of the training rows, the
same ordinal + count + out-of-fold target features) on pandas against Spark, on ``local[2]``
and on the loopback cluster, Spark reading the rows from parquet files that hold only their
own rows' values, as a job's would (its first call in a new session shown apart, the ratio
from the faster of two warm calls against the faster of two pandas calls); the encoded values
are compared (equal to 1e-9 where the folds are the same: the target features here use a
fold column).

Run:  .venv/bin/python -m benchmarks.lightgbm [--sizes 100000 1000000] [--synapse-max 1000000]
      [--spark-memory 6g]
      .venv/bin/python -m benchmarks.lightgbm --encoders [--sizes 4000000] [--no-cluster]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks._common import best_time, jvm_pid, peak_gib, print_table
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.evaluation.pandas.classification import roc_auc
from recommenders_kit.models.lightgbm.pandas import FeatureEncoder, LightGBMClickModel

PARAMS = {"learning_rate": 0.1, "num_leaves": 63, "min_data_in_leaf": 200}
MIN_COUNT = 20


def auc(labels, scores) -> float:
    return roc_auc(labels.to_numpy().astype(bool), scores)


def run_native(train, test, ceiling):
    start = time.perf_counter()
    encoder = FeatureEncoder(methods=("ordinal", "count"), min_count=MIN_COUNT)
    encoder.fit_transform(train)
    t_encode = time.perf_counter() - start
    start = time.perf_counter()
    model = LightGBMClickModel(
        FeatureEncoder(methods=("ordinal", "count"), min_count=MIN_COUNT),
        params=PARAMS,
        progress=False,
    ).fit(train)
    t_train = time.perf_counter() - start - t_encode  # fit encodes again: count it once
    start = time.perf_counter()
    p = model.predict_proba(test)
    t_score = time.perf_counter() - start
    t_evaluate, _ = best_time(lambda: model.evaluate(test), 1)
    return [
        "native",
        t_encode,
        t_train,
        auc(test["label"], p),
        ceiling,
        len(test) / t_score,
        model.meta.best_iteration,
        t_evaluate,
        "-",
    ]


def parquet(frame, folder: Path, rows_per_file: int = 250_000) -> Path:
    """Write ``frame`` as parquet files, the way a cluster job's input would arrive (handing
    millions of rows from pandas to Spark directly holds them all in the driver's heap).

    Each file's dictionaries hold only its own values: a slice of a ``category`` column keeps
    all the frame's categories, and writing it as is put every value of the whole frame in
    every file (4M rows in 16 files: 524 MB instead of 258 MB, and Spark's scan of the 26
    string columns 2-3x slower than on files a job writes)."""
    folder.mkdir(parents=True)
    for i, start in enumerate(range(0, len(frame), rows_per_file)):
        chunk = frame.iloc[start : start + rows_per_file].assign(
            label=lambda c: c["label"].astype("int32")
        )
        for name in chunk.columns[chunk.dtypes == "category"]:
            chunk[name] = chunk[name].cat.remove_unused_categories()
        chunk.to_parquet(folder / f"{i:04d}.parquet")
    return folder


def run_synapse(spark, train, test, ceiling, tmp: Path):
    from recommenders_kit.datasets import criteo
    from recommenders_kit.evaluation import spark as sev
    from recommenders_kit.models.lightgbm import spark as lgb_spark

    cut = int(len(train) * 0.9)
    parts = {"train": train.iloc[:cut], "valid": train.iloc[cut:], "test": test}
    # read from parquet as a job would, not cached: the JVM's heap is for LightGBM's input
    strain, svalid, stest = (
        spark.read.schema(criteo.spark_schema()).parquet(str(parquet(frame, tmp / name)))
        for name, frame in parts.items()
    )
    start = time.perf_counter()
    encoder = lgb_spark.FeatureEncoder(methods=("ordinal", "count"), min_count=MIN_COUNT)
    encoder.fit_transform(strain).write.format("noop").mode("overwrite").save()
    t_encode = time.perf_counter() - start
    start = time.perf_counter()
    model = lgb_spark.LightGBMClickModel(
        lgb_spark.FeatureEncoder(methods=("ordinal", "count"), min_count=MIN_COUNT),
        params=PARAMS,
    ).fit(strain, svalid)
    t_train = time.perf_counter() - start - t_encode
    start = time.perf_counter()
    scored = model.predict_proba(stest).select("label", "probability").toPandas()
    t_score = time.perf_counter() - start
    t_evaluate, _ = best_time(lambda: model.evaluate(stest), 2)

    def by_hand():  # the two metrics on predict_proba's frame as it is (evaluate before)
        scores = model.predict_proba(stest)
        return [metric(scores, col_prediction="probability") for metric in (sev.auc, sev.logloss)]

    t_uncached, _ = best_time(by_hand, 2)
    return [
        "SynapseML local[2]",
        t_encode,
        t_train,
        auc(scored["label"], scored["probability"]),
        ceiling,
        len(test) / t_score,
        model.meta.trees,
        t_evaluate,
        t_uncached / t_evaluate,
    ]


ENCODER_METHODS = ("ordinal", "count", "target")


def encoder_rows(n: int, masters: list[str], tmp: Path) -> list[list]:
    """Encode ``n`` generated training rows on pandas and on Spark; check they agree. Spark
    runs three times in one session: the first call in a new session (Python workers start,
    the JVM compiles its hot paths), then two warm ones; the ratio is the faster warm call's
    against the faster of two pandas calls."""
    from benchmarks._spark import session
    from recommenders_kit.datasets import criteo
    from recommenders_kit.models.lightgbm import spark as lgb_spark

    frame, _ = generate(n, seed=0)
    frame["fold"] = (np.arange(n) % 5).astype("int32")
    kw = {"methods": ENCODER_METHODS, "min_count": MIN_COUNT, "col_fold": "fold"}
    pandas_seconds = []
    for _ in range(2):
        start = time.perf_counter()
        want = FeatureEncoder(**kw).fit_transform(frame)
        pandas_seconds.append(time.perf_counter() - start)
    t_pandas = min(pandas_seconds)
    rows = [[f"{n:,}", "pandas", "-", t_pandas, 1.0, "-"]]
    files = parquet(frame.assign(row=np.arange(n)), tmp / f"encode-{n}")
    sample = np.random.default_rng(0).choice(n, 2000, replace=False)
    for master in masters:
        with session(master) as spark:
            schema = criteo.spark_schema().add("fold", "integer").add("row", "long")
            data = spark.read.schema(schema).parquet(str(files))
            seconds = []
            for _ in range(3):
                start = time.perf_counter()
                encoded = lgb_spark.FeatureEncoder(**kw).fit_transform(data)
                encoded.write.format("noop").mode("overwrite").save()
                seconds.append(time.perf_counter() - start)
            got = encoded.where(encoded.row.isin(sample.tolist())).toPandas().set_index("row")
            diff = np.abs(
                got.sort_index()[want.columns].to_numpy() - want.iloc[np.sort(sample)].to_numpy()
            )
            rows.append(
                [
                    f"{n:,}",
                    f"Spark {master}",
                    seconds[0],
                    min(seconds[1:]),
                    min(seconds[1:]) / t_pandas,
                    f"{np.nanmax(diff):.1e}",
                ]
            )
            print_table(ENCODER_HEADERS, rows[-1:])
            print(flush=True)
    return rows


ENCODER_HEADERS = [
    "rows",
    "engine",
    "first call s",
    "fit + transform s",
    "x pandas",
    "largest difference",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000, 4_000_000])
    parser.add_argument(
        "--synapse-max",
        type=int,
        default=1_000_000,
        help="largest size also run with SynapseML (0: never)",
    )
    parser.add_argument("--spark-memory", default="6g", help="the local Spark JVM's heap")
    parser.add_argument("--encoders", action="store_true", help="the encoders alone")
    parser.add_argument("--no-cluster", action="store_true")
    args = parser.parse_args()
    if args.encoders:
        masters = ["local[2]"] + ([] if args.no_cluster else ["cluster"])
        with tempfile.TemporaryDirectory() as tmp:
            rows = [r for n in args.sizes for r in encoder_rows(n, masters, Path(tmp))]
        print("\nCriteo encoders, fit + transform of the training rows:\n")
        print_table(ENCODER_HEADERS, rows)
        return
    spark = None
    rows = []
    for n in args.sizes:
        frame, prob = generate(n, seed=0)
        cut = int(n * 0.8)
        train, test = frame.iloc[:cut], frame.iloc[cut:]
        ceiling = auc(test["label"], prob[cut:])
        rows.append([f"{n:,}", *run_native(train, test, ceiling), peak_gib(), "-"])
        show(rows)
        if n <= args.synapse_max:
            if spark is None:
                from recommenders_kit.spark import SYNAPSEML_PACKAGE, start_or_get_spark

                spark = start_or_get_spark(
                    "bench-lightgbm",
                    master="local[2]",
                    memory=args.spark_memory,
                    packages=[SYNAPSEML_PACKAGE],
                )
                spark.sparkContext.setLogLevel("ERROR")
            with tempfile.TemporaryDirectory() as tmp:
                result = run_synapse(spark, train, test, ceiling, Path(tmp))
            rows.append([f"{n:,}", *result, peak_gib(), peak_gib(jvm_pid(spark))])
            show(rows)


def show(rows: list) -> None:
    """Print the table so far (long runs show each result as soon as it exists)."""
    print_table(
        [
            "rows",
            "engine",
            "encode s",
            "train s",
            "AUC",
            "ceiling",
            "score rows/s",
            "trees",
            "evaluate s",
            "uncached / evaluate",
            "Python peak GiB",
            "JVM peak GiB",
        ],
        rows,
    )
    print(flush=True)


if __name__ == "__main__":
    main()
