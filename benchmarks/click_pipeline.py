"""Batch click scoring on Spark: the model as a pipeline of JVM stages
(``models.lightgbm.sql.spark_pipeline``) beside the Spark twin's ``predict_proba`` (encoders in
``mapInArrow``, then SynapseML), on the same saved model and rows.

A click model is trained (pandas, 100k generated Criteo rows) and saved; ``--rows`` generated
rows are written to parquet; each path reads them, scores every row and writes the
probabilities to Spark's ``noop`` sink. Reported: the first call in the session (the plan, the
jars' classes, Python workers for ``mapInArrow``) and the best of three later calls, and the
ratio to ``predict_proba`` in the same run. The probabilities of both are compared (max
difference).

Run:  .venv/bin/python -m benchmarks.click_pipeline [--rows 1000000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks._common import best_time, print_table
from recommenders_kit.datasets.criteo_synthetic import generate, write_parquet
from recommenders_kit.models.lightgbm import spark as spark_models
from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
from recommenders_kit.models.lightgbm.sql import click_probability, spark_pipeline
from recommenders_kit.spark import SYNAPSEML_PACKAGE, start_or_get_spark


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    spark = start_or_get_spark("bench-click-pipeline", packages=[SYNAPSEML_PACKAGE])
    with tempfile.TemporaryDirectory() as tmp:
        frame, _ = generate(100_000, seed=1)
        folder = LightGBMClickModel(progress=False).fit(frame).save(Path(tmp) / "criteo")
        write_parquet(Path(tmp) / "rows", args.rows, seed=2)
        rows = spark.read.parquet(str(Path(tmp) / "rows")).drop("label")
        twin = spark_models.LightGBMClickModel.load(folder)
        start = time.perf_counter()
        pipeline = spark_pipeline(LightGBMClickModel.load(folder), spark)
        built = time.perf_counter() - start
        paths = {
            "Spark predict_proba (mapInArrow + SynapseML)": lambda: twin.predict_proba(rows).select(
                "probability"
            ),
            "spark_pipeline(...).transform (JVM stages only)": lambda: pipeline.transform(
                rows
            ).select(click_probability()),
        }
        table, first_times, warm_times = [], {}, {}
        for name, scored in paths.items():
            start = time.perf_counter()
            scored().write.format("noop").mode("overwrite").save()
            first_times[name] = time.perf_counter() - start
            warm_times[name], _ = best_time(
                lambda s=scored: s().write.format("noop").mode("overwrite").save()
            )
        reference = next(iter(paths))
        for name in paths:
            table.append(
                [
                    name,
                    args.rows,
                    first_times[name],
                    warm_times[name],
                    f"{warm_times[reference] / warm_times[name]:.2f}",
                ]
            )
        sample = rows.limit(20_000)
        a = twin.predict_proba(sample).select("probability").toPandas()["probability"]
        b = pipeline.transform(sample).select(click_probability()).toPandas()["probability"]
        print(f"pipeline built in {built:.1f} s; max |difference| {abs(a - b).max():.2e}")
    print_table(["path", "rows", "first call s", "warm s (best of 3)", "speed-up"], table)


if __name__ == "__main__":
    main()
