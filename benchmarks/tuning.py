"""ALS sweep quality: does a 30-trial sweep beat the library's recommended configuration?

MovieLens 100k (real, from ../shared/data), random 75/25 split with seed 123. The sweep
(Optuna TPE, seed 42, median pruning) only sees the 75%: it trains on 80% of it and scores
nDCG@10 on the other 20%. The chosen parameters are then retrained on the whole 75% and
scored on the 25% test split, next to ``RECOMMENDED_TOP_K`` trained and scored the same way
(the baseline, measured in the same run). Every trial goes to an MLflow store in a temporary
folder.

Run:  .venv/bin/python -m benchmarks.tuning [--trials 30]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from benchmarks._common import print_table
from benchmarks.als import movielens_100k

METRICS = ("ndcg_at_k", "precision_at_k", "map_at_k", "recall_at_k")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args()

    from recommenders_kit.models.als import RECOMMENDED_TOP_K
    from recommenders_kit.spark import start_or_get_spark
    from recommenders_kit.tuning.objectives import holdout
    from recommenders_kit.tuning.space import ALS_SPACE
    from recommenders_kit.tuning.sweep import run_sweep

    spark = start_or_get_spark("benchmark-tuning", master="local[2]", memory="4g")
    spark.sparkContext.setLogLevel("ERROR")
    objective, test = holdout(spark.createDataFrame(movielens_100k()), split_seed=123, k=10)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = run_sweep(
            objective,
            ALS_SPACE,
            n_trials=args.trials,
            seed=args.seed,
            tracking_uri=f"sqlite:///{Path(tmp) / 'mlflow.db'}",
            tags={"dataset": "movielens-100k", "split": "random 75/25 seed 123"},
            progress=False,
        )
        sweep_s = time.perf_counter() - start
    trials = result.trials
    states = trials.state.value_counts().to_dict()
    print(f"\n{len(trials)} trials in {sweep_s:.0f} s {states}; best 10 by validation nDCG@10:\n")
    top = result.top(10)
    names = list(ALS_SPACE)
    print_table(
        ["trial", "valid nDCG@10", "seconds", *names],
        top[["trial", "value", "seconds", *names]].values.tolist(),
    )

    rows = []
    for name, params in [
        ("recommended (baseline)", RECOMMENDED_TOP_K),
        ("sweep's best, retrained", result.best_params),
    ]:
        start = time.perf_counter()
        model = objective.refit(params)
        fit_s = time.perf_counter() - start
        rows.append([name, *(objective.evaluate(model, test)[m] for m in METRICS), fit_s])
    trial_metrics = objective.evaluate(result.best_model, test)
    rows.append(["sweep's best trial model (80%)", *(trial_metrics[m] for m in METRICS), None])
    base = rows[0][1]
    for r in rows:
        r.append(r[1] / base)
    print("\nTest split (25%), k = 10:\n")
    print_table(
        ["configuration", "nDCG@10", "P@10", "MAP@10", "recall@10", "fit s", "nDCG / baseline"],
        rows,
    )
    print(f"\nbest parameters: {result.best_params}")


if __name__ == "__main__":
    main()
