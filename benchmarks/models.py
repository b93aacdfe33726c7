"""The ladder of recommenders: popularity, EASE and ALS on both engines, side by side.

Quality at k = 10 (the library's evaluator) with fit and top-k time, on real MovieLens 100k
(random 75/25 seed 123, stratified 75/25 seed 123) and on real MovieLens latest-small
(stratified 75/25 seed 123; nothing is tuned on it: it shows whether the configurations
chosen on 100k carry over). Each model runs with its ``RECOMMENDED_TOP_K`` (popularity has no
parameters); EASE's lambda is also chosen afresh on a validation split carved from each
100k protocol's training part (stratified 80/20 seed 7) and printed, so the constant can be
checked against this run. "blend" is not a library model: per-user z-scored EASE and
one-machine ALS scores mixed with the weight that is best on the validation split, to show
how far a blend of the two goes.

Run:  .venv/bin/python -m benchmarks.models [--no-spark]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from benchmarks._common import print_table
from benchmarks.als import SHARED, movielens_100k
from recommenders_kit.evaluation.pandas import evaluate
from recommenders_kit.models._topk import top_k_scores
from recommenders_kit.models.als import pandas as als_pandas
from recommenders_kit.models.als import spark as als_spark
from recommenders_kit.models.ease import pandas as ease_pandas
from recommenders_kit.models.ease import spark as ease_spark
from recommenders_kit.models.popularity import pandas as pop_pandas
from recommenders_kit.models.popularity import spark as pop_spark
from recommenders_kit.split.pandas import random_split, stratified_split

METRICS = ["precision_at_k", "ndcg_at_k", "map", "recall_at_k"]
LAMBDAS = [100.0, 200.0, 300.0, 500.0, 800.0, 1200.0]
BLEND_WEIGHTS = [0.0, 0.2, 0.3, 0.4, 0.5, 0.7, 1.0]


def latest_small() -> pd.DataFrame:
    frame = pd.read_csv(SHARED / "movielens" / "ml-latest-small" / "ratings.csv.gz")
    return frame.rename(columns={"userId": "userID", "movieId": "itemID"})


def _quality(test: pd.DataFrame, recs: pd.DataFrame) -> list[float]:
    values = evaluate(test, recs, metrics=METRICS, k=10)
    return [values[m] for m in METRICS]


def _timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def best_lambda(train: pd.DataFrame) -> tuple[float, float]:
    """(lambda, validation nDCG@10) of the best EASE on a validation split of ``train``."""
    fit, valid = stratified_split(train, 0.8, seed=7)
    scores = {
        lam: _quality(valid, ease_pandas.EASERecommender(lam=lam).fit(fit).recommend_k_items())[1]
        for lam in LAMBDAS
    }
    lam = max(scores, key=lambda v: scores[v])
    return lam, scores[lam]


def _z(scores: np.ndarray) -> np.ndarray:
    return (scores - scores.mean(1, keepdims=True)) / (scores.std(1, keepdims=True) + 1e-9)


def _blend_parts(train: pd.DataFrame) -> tuple[Any, np.ndarray, np.ndarray]:
    """The fitted EASE, and both models' per-user z-scored scores of its users x items."""
    ease = ease_pandas.EASERecommender(**ease_pandas.RECOMMENDED_TOP_K).fit(train)
    als = als_pandas.ALSRecommender(**als_pandas.RECOMMENDED_TOP_K, num_threads=1).fit(train)
    users = pd.Index(als.model.user_ids).get_indexer(ease.user_ids)
    items = pd.Index(als.model.item_ids).get_indexer(ease.model.item_ids)
    factors = als.model.user_factors[users] @ als.model.item_factors[items].T
    return ease, _z(ease.model.scores(ease.seen)), _z(factors)


def _blend_recs(ease: Any, mixed: np.ndarray) -> pd.DataFrame:
    rows, items, scores = top_k_scores(mixed.astype(np.float32), ease.seen, 10)
    return pd.DataFrame(
        {"userID": ease.user_ids[rows], "itemID": ease.model.item_ids[items], "prediction": scores}
    )


def blend_row(train: pd.DataFrame, test: pd.DataFrame) -> tuple[float, list[float]]:
    """(weight of EASE chosen on validation, test quality) of the blend."""
    fit, valid = stratified_split(train, 0.8, seed=7)
    ease, e, a = _blend_parts(fit)
    chosen = max(
        BLEND_WEIGHTS, key=lambda w: _quality(valid, _blend_recs(ease, w * e + (1 - w) * a))[1]
    )
    ease, e, a = _blend_parts(train)
    return chosen, _quality(test, _blend_recs(ease, chosen * e + (1 - chosen) * a))


def _models(spark: Any) -> list[tuple[str, str, Callable[[], Any]]]:
    models = [
        ("popularity", "pandas", pop_pandas.PopularityRecommender),
        ("EASE", "pandas", lambda: ease_pandas.EASERecommender(**ease_pandas.RECOMMENDED_TOP_K)),
        (
            "ALS (implicit)",
            "pandas",
            lambda: als_pandas.ALSRecommender(**als_pandas.RECOMMENDED_TOP_K),
        ),
    ]
    if spark is not None:
        models += [
            ("popularity", "spark", pop_spark.PopularityRecommender),
            ("EASE", "spark", lambda: ease_spark.EASERecommender(**ease_spark.RECOMMENDED_TOP_K)),
            ("ALS", "spark", lambda: als_spark.ALSRecommender(**als_spark.RECOMMENDED_TOP_K)),
        ]
    return models


def protocol_rows(name: str, train: pd.DataFrame, test: pd.DataFrame, spark: Any) -> list[list]:
    rows = []
    columns = ["userID", "itemID", "rating"]
    for model_name, engine, make in _models(spark):
        data = train[columns] if engine == "pandas" else spark.createDataFrame(train[columns])
        fit_s, model = _timed(lambda m=make, d=data: m().fit(d))
        top_s, recs = _timed(lambda m=model: m.recommend_k_items(k=10))
        if engine == "spark":
            top_s, recs = _timed(lambda r=recs: r.toPandas())
        rows.append([name, model_name, engine, *_quality(test, recs), fit_s, top_s])
    weight, quality = blend_row(train, test)
    rows.append([name, f"blend, EASE weight {weight}", "pandas", *quality, "", ""])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-spark", action="store_true")
    args = parser.parse_args()
    ml100k, small = movielens_100k(), latest_small()
    protocols = {
        "100k random": random_split(ml100k, 0.75, seed=123),
        "100k stratified": stratified_split(ml100k, 0.75, seed=123),
        "latest-small stratified": stratified_split(small, 0.75, seed=123),
    }
    lambdas = [[name, *best_lambda(protocols[name][0])] for name in list(protocols)[:2]]
    rows: list[list] = []
    if args.no_spark:
        for name, (train, test) in protocols.items():
            rows += protocol_rows(name, train, test, None)
    else:
        from benchmarks._spark import session

        with session("local[2]") as spark:
            for name, (train, test) in protocols.items():
                rows += protocol_rows(name, train, test, spark)
    print("\nEASE lambda chosen on validation (stratified 80/20 of each training part):\n")
    print_table(["protocol", "lambda", "validation nDCG@10"], lambdas)
    print("\nThe ladder, k = 10:\n")
    headers = ["protocol", "model", "engine", "P@10", "nDCG@10", "MAP", "recall@10"]
    print_table([*headers, "fit s", "top-k s"], rows)


if __name__ == "__main__":
    main()
