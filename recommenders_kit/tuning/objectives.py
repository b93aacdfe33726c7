"""What one trial of a sweep trains and measures.

An objective is called with a parameter dict and an optional ``report(value, step)`` callback
(the sweep's pruning hook: it raises to stop a trial that is doing worse than the median of
earlier trials at the same step). It returns a :class:`TrialResult`: the value to optimize,
all metrics measured, and the fitted model (kept for the best trial only).

* :class:`RecommenderObjective`: a recommender (ALS, EASE or popularity; Spark, or pandas on
  one machine: the engine follows the data's frame type) on the training rows minus a
  validation split carved from them (random, seeded), scored by nDCG@k (and precision,
  recall, MAP) of the top-k unseen items on the validation rows. Pruning: an ALS trial with
  ``max_iter >= 6`` is first trained for a third of its iterations and reported; a promising
  one is then trained in full.
* :class:`LightGBMObjective`: the click model on the first rows, validated on the last
  ``valid_fraction`` (row order = time order); the validation AUC is reported every
  ``report_every`` boosting rounds.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recommenders_kit.constants import (
    DEFAULT_K,
    DEFAULT_SEED,
    DEFAULT_SPLIT_RATIO,
    DEFAULT_SPLIT_SEED,
    DEFAULT_VALID_RATIO,
)
from recommenders_kit.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

Report = Callable[[float, int], None]


@dataclass
class TrialResult:
    value: float
    metrics: dict[str, float]
    model: Any = None


@dataclass(frozen=True)
class _Engine:
    """The splitter, evaluator and recommender class of one engine (the data's frame type)."""

    random_split: Callable[..., list]
    evaluate: Callable[..., dict[str, float]]
    spark: bool

    def recommender(self, model: str) -> type:
        """The class of recommender ``model`` (a key of ``models.RECOMMENDERS``)."""
        from recommenders_kit.models import recommender

        return recommender(model, "spark" if self.spark else "pandas")[0]


def data_engine(data: Any) -> _Engine:
    """The Spark splitter and metrics for a Spark DataFrame; the pandas twins for a pandas
    frame."""
    import pandas as pd

    if isinstance(data, pd.DataFrame):
        from recommenders_kit.evaluation.pandas import evaluate
        from recommenders_kit.split.pandas import random_split

        return _Engine(random_split, evaluate, spark=False)
    from recommenders_kit._validate import require_spark_frame
    from recommenders_kit.evaluation.spark import evaluate as spark_evaluate
    from recommenders_kit.split.spark import random_split as spark_split

    require_spark_frame(data, [], "train")
    return _Engine(spark_split, spark_evaluate, spark=True)


class RecommenderObjective:
    """nDCG@k of a recommender (ALS, EASE, popularity) on a validation split carved from
    ``train``.

    The engine follows the data: a Spark DataFrame trains the model's Spark twin and scores it
    with the Spark metrics (everything on the executors); a pandas frame trains the pandas twin
    (for ALS: ``implicit``) and scores it with the pandas metrics.

    Args:
        train: the training ratings; the test split stays out of the sweep.
        model: the recommender, by the name :data:`recommenders_kit.models.RECOMMENDERS` gives.
        k: list length.
        valid_ratio: share of ``train`` held out for validation (random, ``seed``).
        seed: the validation split's seed, and the model's where it takes one (ALS).
        fixed: model parameters every trial uses (e.g. ``{"num_threads": 1}``) under the swept
            ones.
    """

    metric = "ndcg_at_k"
    direction = "maximize"
    METRICS = ("ndcg_at_k", "precision_at_k", "recall_at_k", "map_at_k")

    def __init__(
        self,
        train: Any,
        model: str = "als",
        k: int = DEFAULT_K,
        valid_ratio: float = DEFAULT_VALID_RATIO,
        seed: int = DEFAULT_SEED,
        fixed: dict[str, Any] | None = None,
    ):
        self.engine = data_engine(train)
        self.recommender = self.engine.recommender(model)
        seeded = "seed" in inspect.signature(self.recommender).parameters
        self.k, self.fixed = k, {**({"seed": seed} if seeded else {}), **(fixed or {})}
        fit_part, valid = self.engine.random_split(train, [1 - valid_ratio, valid_ratio], seed=seed)
        if self.engine.spark:
            fit_part, valid = fit_part.cache(), valid.cache()
        self.train, self.fit_part, self.valid = train, fit_part, valid

    def evaluate(self, model: Any, data: Any) -> dict[str, float]:
        """The objective's metrics of ``model`` on ``data`` (e.g. the test split)."""
        recs = model.recommend_k_items(k=self.k)
        return self.engine.evaluate(data, recs, metrics=list(self.METRICS), k=self.k)

    def refit(self, params: dict[str, Any]) -> Any:
        """The model with ``params`` (over the fixed ones) trained on all of ``train``,
        validation rows included: the final model once a sweep has chosen its parameters."""
        return self.recommender(**{**self.fixed, **params}).fit(self.train)

    def __call__(self, params: dict[str, Any], report: Report | None = None) -> TrialResult:
        """Train on the fit part and score on the validation rows. An iterative model
        (``max_iter >= 6``: ALS) is first trained for a third of its iterations and reported to
        the pruner, so that an unpromising trial stops early; the final value is returned, not
        reported (pruning a finished trial would throw its result away)."""
        params = {**self.fixed, **params}
        max_iter = int(params.get("max_iter", 0))
        if report is not None and max_iter >= 6:
            short = self.recommender(**{**params, "max_iter": max_iter // 3})
            report(self.evaluate(short.fit(self.fit_part), self.valid)[self.metric], max_iter // 3)
        model = self.recommender(**params).fit(self.fit_part)
        metrics = self.evaluate(model, self.valid)
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
        valid_fraction: float = DEFAULT_VALID_RATIO,
        methods: tuple[str, ...] = ("ordinal", "count"),
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 30,
        seed: int = DEFAULT_SEED,
        fixed: dict[str, Any] | None = None,
        report_every: int = 10,
    ):
        cut = int(len(train) * (1 - valid_fraction))
        if not 0 < cut < len(train):
            raise InputError(f"train has too few rows ({len(train)}) for a validation split")
        self.fit_part, self.valid = train.iloc[:cut], train.iloc[cut:]
        self.methods, self.fixed = tuple(methods), dict(fixed or {})
        self.num_boost_round, self.early_stopping_rounds = num_boost_round, early_stopping_rounds
        self.seed, self.report_every = seed, report_every

    def __call__(self, params: dict[str, Any], report: Report | None = None) -> TrialResult:
        from recommenders_kit.models.lightgbm.pandas import FeatureEncoder, LightGBMClickModel

        params = {**self.fixed, **params}
        min_count = int(params.pop("min_count", 10))
        callbacks = []
        if report is not None:

            def check(env: Any) -> None:
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

    def evaluate(self, model: Any, data: pd.DataFrame) -> dict[str, float]:
        """The objective's metrics of ``model`` on ``data`` (e.g. the test rows)."""
        return model.evaluate(data)


def holdout(
    ratings: Any,
    split_seed: int = DEFAULT_SPLIT_SEED,
    test_ratio: float = 1 - DEFAULT_SPLIT_RATIO,
    **kwargs: Any,
) -> tuple[RecommenderObjective, Any]:
    """Random train/test split of ``ratings`` (``split_seed``, the engine of the frame); the
    recommender objective (``kwargs``: its arguments, e.g. ``model="ease"``) validates inside
    the train part. Returns the objective and the test rows."""
    engine = data_engine(ratings)
    train, test = engine.random_split(ratings, [1 - test_ratio, test_ratio], seed=split_seed)
    if engine.spark:
        train, test = train.cache(), test.cache()
    return RecommenderObjective(train, **kwargs), test
