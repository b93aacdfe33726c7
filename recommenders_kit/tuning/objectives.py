"""What one trial of a sweep trains and measures.

An objective is called with a parameter dict and an optional ``report(value, step)`` callback
(the sweep's pruning hook: it raises to stop a trial that is doing worse than the median of
earlier trials at the same step). It returns a :class:`TrialResult`: the value to optimize,
all metrics measured, and the fitted model (kept for the best trial only).

* :class:`ALSObjective`: Spark ALS on the training rows minus a validation split carved from
  them (random, seeded), scored by nDCG@k (and precision, recall, MAP) of the top-k unseen
  items on the validation rows. Pruning: a trial with ``max_iter >= 6`` is first trained for
  a third of its iterations and reported; a promising one is then trained in full.
* :class:`LightGBMObjective`: the click model on the first rows, validated on the last
  ``valid_fraction`` (row order = time order); the validation AUC is reported every
  ``report_every`` boosting rounds.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recommenders_kit.constants import DEFAULT_K, DEFAULT_SEED

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame as SparkDataFrame

Report = Callable[[float, int], None]


@dataclass
class TrialResult:
    value: float
    metrics: dict[str, float]
    model: Any = None


class ALSObjective:
    """nDCG@k of Spark ALS on a validation split carved from ``train``.

    Args:
        train: the training ratings (Spark); the test split stays out of the sweep.
        k: list length.
        valid_ratio: share of ``train`` held out for validation (random, ``seed``).
        fixed: ALS parameters every trial uses (e.g. ``{"seed": 42}``) under the swept ones.
        local: score with the collected factors on the driver (fast, for data that fits one
            machine) instead of on the executors; default: local when Spark is local.
    """

    metric = "ndcg_at_k"
    direction = "maximize"
    METRICS = ("ndcg_at_k", "precision_at_k", "recall_at_k", "map_at_k")

    def __init__(
        self,
        train: SparkDataFrame,
        k: int = DEFAULT_K,
        valid_ratio: float = 0.2,
        seed: int = DEFAULT_SEED,
        fixed: dict[str, Any] | None = None,
        local: bool | None = None,
    ):
        from recommenders_kit.spark import is_local
        from recommenders_kit.split.spark import random_split

        self.k, self.fixed = k, {"seed": seed, **(fixed or {})}
        self.local = is_local(train.sparkSession) if local is None else local
        self.train = train
        fit_part, valid = random_split(train, [1 - valid_ratio, valid_ratio], seed=seed)
        self.fit_part, self.valid = fit_part.cache(), valid.cache()
        self.valid_pd = self.valid.toPandas() if self.local else None

    def evaluate(self, model, data: SparkDataFrame) -> dict[str, float]:
        """The objective's metrics of ``model`` on ``data`` (e.g. the test split)."""
        return self._score(model, data, data.toPandas() if self.local else None)

    def refit(self, params: dict[str, Any]):
        """ALS with ``params`` (over the fixed ones) trained on all of ``train``, validation
        rows included: the final model once a sweep has chosen its parameters."""
        from recommenders_kit.models.als import ALSRecommender

        return ALSRecommender(**{**self.fixed, **params}).fit(self.train)

    def _score(self, model, truth=None, truth_pd=None) -> dict[str, float]:
        truth = self.valid if truth is None else truth
        truth_pd = self.valid_pd if truth_pd is None else truth_pd
        if self.local:
            from recommenders_kit.evaluation import evaluate

            recs = model.recommend_k_items_local(k=self.k)
            return evaluate(truth_pd, recs, metrics=list(self.METRICS), k=self.k)
        from recommenders_kit.evaluation.spark import evaluate

        recs = model.recommend_k_items(k=self.k)
        return evaluate(truth, recs, metrics=list(self.METRICS), k=self.k)

    def __call__(self, params: dict[str, Any], report: Report | None = None) -> TrialResult:
        from recommenders_kit.models.als import ALSRecommender

        params = {**self.fixed, **params}
        max_iter = int(params.get("max_iter", 15))
        if report is not None and max_iter >= 6:
            short = ALSRecommender(**{**params, "max_iter": max_iter // 3}).fit(self.fit_part)
            report(self._score(short)[self.metric], max_iter // 3)
        model = ALSRecommender(**params).fit(self.fit_part)
        metrics = self._score(model)
        if report is not None:
            report(metrics[self.metric], max_iter)
        return TrialResult(metrics[self.metric], metrics, model)


class LightGBMObjective:
    """Validation AUC of the LightGBM click model.

    Args:
        train: labelled Criteo-shaped rows in time order (pandas).
        valid_fraction: the last rows held out for validation (and early stopping).
        methods: the encoders' methods; ``min_count`` is swept with the LightGBM parameters.
        fixed: LightGBM parameters every trial uses under the swept ones.
        report_every: boosting rounds between reports to the pruner.
    """

    metric = "auc"
    direction = "maximize"

    def __init__(
        self,
        train: pd.DataFrame,
        valid_fraction: float = 0.2,
        methods: tuple[str, ...] = ("ordinal", "count"),
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 30,
        seed: int = DEFAULT_SEED,
        fixed: dict[str, Any] | None = None,
        report_every: int = 10,
    ):
        cut = int(len(train) * (1 - valid_fraction))
        if not 0 < cut < len(train):
            raise ValueError(f"train has too few rows ({len(train)}) for a validation split")
        self.fit_part, self.valid = train.iloc[:cut], train.iloc[cut:]
        self.methods, self.fixed = tuple(methods), dict(fixed or {})
        self.num_boost_round, self.early_stopping_rounds = num_boost_round, early_stopping_rounds
        self.seed, self.report_every = seed, report_every

    def __call__(self, params: dict[str, Any], report: Report | None = None) -> TrialResult:
        from recommenders_kit.models.lightgbm.features import FeatureEncoder
        from recommenders_kit.models.lightgbm.native import LightGBMClickModel

        params = {**self.fixed, **params}
        min_count = int(params.pop("min_count", 10))
        callbacks = []
        if report is not None:

            def check(env) -> None:
                step = env.iteration + 1
                if step % self.report_every == 0:
                    auc = next(v for d, m, v, _ in env.evaluation_result_list if m == "auc")
                    report(auc, step)

            callbacks.append(check)
        model = LightGBMClickModel(
            FeatureEncoder(methods=self.methods, min_count=min_count),
            params=params,
            num_boost_round=self.num_boost_round,
            early_stopping_rounds=self.early_stopping_rounds,
            seed=self.seed,
            progress=False,
        ).fit(self.fit_part, self.valid, callbacks=callbacks)
        metrics = model.evaluate(self.valid)
        return TrialResult(metrics[self.metric], metrics, model)

    def evaluate(self, model, data: pd.DataFrame) -> dict[str, float]:
        """The objective's metrics of ``model`` on ``data`` (e.g. the test rows)."""
        return model.evaluate(data)


def holdout_als(
    ratings: SparkDataFrame, split_seed: int = 123, test_ratio: float = 0.25, **kwargs: Any
) -> tuple[ALSObjective, SparkDataFrame]:
    """Random train/test split of ``ratings`` (``split_seed``); the ALS objective validates
    inside the train part. Returns the objective and the held-out test rows."""
    from recommenders_kit.split.spark import random_split

    train, test = random_split(ratings, [1 - test_ratio, test_ratio], seed=split_seed)
    return ALSObjective(train.cache(), **kwargs), test.cache()


def movielens_als(
    spark: Any, size: str = "100k", split_seed: int = 123, k: int = DEFAULT_K, **kwargs: Any
) -> tuple[ALSObjective, SparkDataFrame]:
    """:func:`holdout_als` on MovieLens ``size`` with a 75/25 split."""
    from recommenders_kit.datasets import movielens

    return holdout_als(movielens.load_spark_df(spark, size), split_seed, k=k, **kwargs)


def criteo_lightgbm(
    data: str = "sample", rows: int = 100_000, seed: int = 0, **kwargs: Any
) -> tuple[LightGBMObjective, pd.DataFrame]:
    """The LightGBM objective on the Criteo ``sample`` or ``rows`` generated rows: the first
    80% (row order) for the sweep, the last 20% returned as the test rows."""
    if data == "sample":
        from recommenders_kit.datasets import criteo

        frame = criteo.load_pandas_df("sample")
    elif data == "generated":
        from recommenders_kit.datasets.criteo_synthetic import generate

        frame, _ = generate(rows, seed=seed)
    else:
        raise ValueError(f"data must be 'sample' or 'generated', got {data!r}")
    cut = int(len(frame) * 0.8)
    return LightGBMObjective(frame.iloc[:cut], **kwargs), frame.iloc[cut:]
