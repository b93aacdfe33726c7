"""Several ranking and rating metrics in one call on Spark DataFrames, sharing their work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommenders_kit._validate import require_spark_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_COL,
)
from recommenders_kit.evaluation._common import (
    DEFAULT_METRICS,
    RANKING_METRICS,
    check_metric_names,
)
from recommenders_kit.evaluation.spark import ranking, rating

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["evaluate"]


def evaluate(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    metrics: Sequence[str] = DEFAULT_METRICS,
    k: int = DEFAULT_K,
    relevancy_method: str = "top_k",
    threshold: float = DEFAULT_THRESHOLD,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> dict[str, float]:
    """Compute ``metrics`` on Spark: the twin of
    :func:`recommenders_kit.evaluation.pandas.evaluate`.

    All the ranking metrics asked for come from one grouping of each input and one
    aggregation (one job), the rating metrics from one join and one aggregation. The ranking
    metrics' result is the one the single-metric functions keep and reuse for the same two
    frames (:mod:`recommenders_kit.evaluation.spark.ranking`, "Reuse").

    Args:
        metrics: ranking and rating metric names, e.g. ``["ndcg_at_k", "rmse"]``.
        k, relevancy_method, threshold: as the ranking metrics take them.
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        ``{metric name: value}`` in the order asked.

    Example::

        evaluate(test_sdf, top_k_sdf, metrics=["ndcg_at_k", "map"], k=10)
        # {'ndcg_at_k': 0.41, 'map': 0.12}
    """
    names = check_metric_names(metrics)
    require_spark_frame(rating_true, [col_user, col_item], "rating_true")
    require_spark_frame(rating_pred, [col_user, col_item, col_prediction], "rating_pred")
    values: dict[str, float] = {}
    wanted = [m for m in names if m in RANKING_METRICS]
    if wanted:
        means = ranking.ranking_means(
            rating_true,
            rating_pred,
            col_user,
            col_item,
            col_prediction,
            relevancy_method,
            k,
            threshold,
        )
        values.update({m: means[m] for m in wanted})
    if len(wanted) < len(names):
        values.update(
            rating.rating_values(
                rating_true, rating_pred, col_user, col_item, col_rating, col_prediction
            )
        )
    return {m: values[m] for m in names}
