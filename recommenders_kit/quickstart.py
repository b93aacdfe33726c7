"""The quickstart pipelines as functions: what the notebooks show step by step, in one call.

``als_movielens`` is the collaborative-filtering scenario: MovieLens → random 75/25 split →
Spark ALS → top-k unseen movies per user → ranking and rating metrics. The command
``recommenders-kit quickstart als`` runs it; so can a scheduled job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from recommenders_kit.constants import DEFAULT_K

RANKING_METRICS = ["map", "ndcg_at_k", "precision_at_k", "recall_at_k"]
RATING_METRICS = ["rmse", "mae", "rsquared", "exp_var"]


@dataclass
class QuickstartResult:
    """Metrics of the run and the seconds each step took."""

    metrics: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


def als_movielens(
    size: str = "100k",
    k: int = DEFAULT_K,
    ratio: float = 0.75,
    seed: int = 123,
    als_params: dict[str, Any] | None = None,
    local_cache_path: str | os.PathLike | None = None,
    spark=None,
    on_step: Callable[[str], None] | None = None,
) -> QuickstartResult:
    """Run the ALS quickstart and return its metrics.

    Two models are trained on the same split, as in the notebook: the reference explicit
    configuration (``ALSParams()`` defaults) scores the rating metrics (RMSE, MAE, R², explained
    variance) on the test pairs, and the recommended top-k configuration
    (``als.RECOMMENDED_TOP_K``, or ``als_params``) produces the top-k lists scored by the
    ranking metrics (MAP, nDCG@k, precision@k, recall@k) with all unseen items ranked.

    Args:
        on_step: called with a step name before each step (the CLI shows progress with it).
    """
    from recommenders_kit.datasets import movielens
    from recommenders_kit.evaluation import evaluate
    from recommenders_kit.models.als import RECOMMENDED_TOP_K, ALSRecommender
    from recommenders_kit.spark import start_or_get_spark
    from recommenders_kit.split.spark import random_split

    timings: dict[str, float] = {}
    current: list = [None, 0.0]  # the running step and when it started

    def step(name: str | None) -> None:
        now = time.perf_counter()
        if current[0]:
            timings[current[0]] = now - current[1]
        current[:] = [name, now]
        if name and on_step:
            on_step(name)

    step("load")
    spark = spark or start_or_get_spark("als-quickstart")
    data = movielens.load_spark_df(spark, size, local_cache_path=local_cache_path)
    step("split")
    train, test = random_split(data, [ratio, 1 - ratio], seed=seed)
    train, test = train.cache(), test.cache()
    test_pd = test.toPandas()
    step("train explicit (rating metrics)")
    explicit = ALSRecommender().fit(train)
    predictions = explicit.predict(test).toPandas()
    step("train implicit (top-k)")
    params = dict(RECOMMENDED_TOP_K if als_params is None else als_params)
    model = ALSRecommender(**params).fit(train)
    step("recommend")
    top_k = model.recommend_k_items_local(k=k)
    step("evaluate")
    metrics = evaluate(test_pd, top_k, metrics=RANKING_METRICS, k=k)
    metrics.update(evaluate(test_pd, predictions, metrics=RATING_METRICS))
    step(None)
    train.unpersist(), test.unpersist()
    return QuickstartResult(metrics, timings, {"size": size, "k": k, "seed": seed, **params})
