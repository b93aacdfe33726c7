"""One sweep trial from the command line: the entry point of Azure ML sweep jobs::

    python -m recommenders_kit.tuning.trial als --size 100k --param rank=20 --param alpha=1.5
    python -m recommenders_kit.tuning.trial ease --size 1m --param lam=400
    python -m recommenders_kit.tuning.trial lightgbm --data generated --rows 200000 \\
        --param num_leaves=63 --param learning_rate=0.05

Trains once with the given parameters (read by the kind's search space; the same objective a
local sweep calls), logs the parameters, the intermediate values of the primary metric (the
history Azure ML's early termination policies read) and the final metrics to the active MLflow
run (Azure ML sets one up for each trial), and prints the metrics as JSON.
"""

from __future__ import annotations

import argparse
import json

from recommenders_kit.datasets.movielens import DEFAULT_SIZE
from recommenders_kit.tuning.problems import GENERATED_ROWS
from recommenders_kit.tuning.space import SPACES, parse


def main(argv: list[str] | None = None) -> dict[str, float]:
    from recommenders_kit.tuning import objectives, problems

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=sorted(SPACES))
    parser.add_argument(
        "--size", default=DEFAULT_SIZE, help="MovieLens size (als, ease, popularity)"
    )
    parser.add_argument("--data", default="sample", help="sample or generated (lightgbm)")
    parser.add_argument(
        "--rows", type=int, default=GENERATED_ROWS, help="generated rows (lightgbm)"
    )
    parser.add_argument("--param", action="append", default=[], help="name=value, repeatable")
    args = parser.parse_args(argv)
    try:
        params = parse(SPACES[args.kind], args.param)
    except ValueError as e:
        parser.error(str(e))
    objective: objectives.RecommenderObjective | objectives.LightGBMObjective
    if args.kind == "lightgbm":
        objective, _ = problems.criteo_lightgbm(args.data, args.rows)
    else:
        from recommenders_kit.spark import start_or_get_spark

        spark = start_or_get_spark("sweep-trial")
        objective, _ = problems.movielens(args.size, model=args.kind, spark=spark)
    import mlflow

    mlflow.log_params(params)

    steps = [0]

    def report(value: float, step: int) -> None:
        # the primary metric's history: what Azure ML's early termination policies read
        mlflow.log_metric(objective.metric, value, step=step)
        steps.append(step)

    result = objective(params, report)
    mlflow.log_metrics(result.metrics, step=max(steps) + 1)  # the final value is the latest
    print(json.dumps(result.metrics))
    return result.metrics


if __name__ == "__main__":
    main()
