"""The quickstart pipelines as functions: what the notebooks show step by step, in one call.

``als_movielens`` is the collaborative-filtering scenario: MovieLens → random 75/25 split →
a recommender (ALS by default, or EASE or popularity) → top-k unseen movies per user →
ranking (and, on Spark, ALS's rating) metrics, on Spark or on one machine. The command
``recommenders-kit quickstart als [--model ease]`` runs it; so can a scheduled job.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from recommenders_kit.constants import DEFAULT_K, DEFAULT_SPLIT_RATIO, DEFAULT_SPLIT_SEED
from recommenders_kit.models import recommender
from recommenders_kit.models.als import engine_name
from recommenders_kit.timing import Timings

#: The steps of :func:`als_movielens` per engine, in order (``on_step`` gets each name).
ALS_STEPS = {
    "spark": (
        "load",
        "split",
        "train explicit (rating metrics)",
        "train implicit (top-k)",
        "recommend",
        "evaluate",
    ),
    "pandas": ("load", "split", "train implicit (top-k)", "recommend", "evaluate"),
}

RANKING_METRICS = ["map", "ndcg_at_k", "precision_at_k", "recall_at_k"]
RATING_METRICS = ["rmse", "mae", "rsquared", "exp_var"]


@dataclass
class QuickstartResult:
    """Metrics of the run, the seconds each step took, and the run's settings."""

    metrics: dict[str, float]
    timings: dict[str, float] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)


class _Steps(Timings):
    """Times named steps and tells ``on_step`` when each starts."""

    def __init__(self, on_step: Callable[[str], None] | None):
        super().__init__()
        self.on_step = on_step

    @contextmanager
    def __call__(self, name: str) -> Iterator[None]:
        if self.on_step:
            self.on_step(name)
        with super().__call__(name):
            yield


def als_movielens(
    size: str = "100k",
    k: int = DEFAULT_K,
    ratio: float = DEFAULT_SPLIT_RATIO,
    seed: int = DEFAULT_SPLIT_SEED,
    als_params: dict[str, Any] | None = None,
    engine: str = "spark",
    local_cache_path: str | os.PathLike | None = None,
    spark: Any = None,
    on_step: Callable[[str], None] | None = None,
    model: str = "als",
) -> QuickstartResult:
    """Run the ALS quickstart on ``engine`` and return its metrics.

    Spark: two models are trained on the same split, as in the notebook: the reference explicit
    configuration (the constructor's defaults) scores the rating metrics (RMSE, MAE, R²,
    explained variance) on the test pairs, and the recommended top-k configuration
    (``RECOMMENDED_TOP_K``, or ``als_params``) produces the top-k lists scored by the ranking
    metrics with all unseen items ranked. ``pandas`` (alias ``implicit``): the one-machine
    engine trains the top-k model only (it has no explicit-rating ALS), with its own
    ``RECOMMENDED_TOP_K``. The steps, in order: :data:`ALS_STEPS` of the engine.

    Args:
        als_params: the top-k model's parameters (its module's ``RECOMMENDED_TOP_K`` when
            None).
        on_step: called with a step name before each step (the CLI shows progress with it).
        model: the recommender that makes the top-k lists: ``"als"``, ``"ease"`` or
            ``"popularity"`` (see :data:`recommenders_kit.models.RECOMMENDERS`).
    """
    engine = engine_name(engine)
    steps = _Steps(on_step)
    run = _spark_steps if engine == "spark" else _pandas_steps
    cls, recommended = recommender(model, engine)
    params = recommended if als_params is None else dict(als_params)
    metrics = run(steps, size, k, ratio, seed, cls(**params), local_cache_path, spark)
    settings = {"size": size, "k": k, "seed": seed, "engine": engine, "model": model, **params}
    return QuickstartResult(metrics, dict(steps), settings)


def _spark_steps(steps, size, k, ratio, seed, top_k_model, cache, spark):
    from recommenders_kit.datasets import movielens
    from recommenders_kit.evaluation.spark import evaluate
    from recommenders_kit.models.als.spark import ALSRecommender
    from recommenders_kit.spark import start_or_get_spark
    from recommenders_kit.split.spark import random_split

    with steps("load"):
        movielens.download(size, cache)  # a missing or malformed file fails before Spark starts
        spark = spark or start_or_get_spark("als-quickstart")
        data = movielens.load_spark_df(spark, size, local_cache_path=cache)
    with steps("split"):
        train, test = (part.cache() for part in random_split(data, [ratio, 1 - ratio], seed=seed))
    with steps("train explicit (rating metrics)"):
        predictions = ALSRecommender().fit(train).predict(test)
    with steps("train implicit (top-k)"):
        model = top_k_model.fit(train)
    with steps("recommend"):
        top_k = model.recommend_k_items(k=k).cache()
        top_k.count()
    with steps("evaluate"):
        metrics = evaluate(test, top_k, metrics=RANKING_METRICS, k=k)
        metrics.update(evaluate(test, predictions, metrics=RATING_METRICS))
    for frame in (train, test, top_k):
        frame.unpersist()
    return metrics


def _pandas_steps(steps, size, k, ratio, seed, top_k_model, cache, spark):
    from recommenders_kit.datasets import movielens
    from recommenders_kit.evaluation.pandas import evaluate
    from recommenders_kit.split.pandas import random_split

    with steps("load"):
        data = movielens.load_pandas_df(size, local_cache_path=cache)
    with steps("split"):
        train, test = random_split(data, [ratio, 1 - ratio], seed=seed)
    with steps("train implicit (top-k)"):
        model = top_k_model.fit(train)
    with steps("recommend"):
        top_k = model.recommend_k_items(k=k)
    with steps("evaluate"):
        return evaluate(test, top_k, metrics=RANKING_METRICS, k=k)
