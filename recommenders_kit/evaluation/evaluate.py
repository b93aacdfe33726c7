"""Several metrics in one call, sharing the merge they have in common."""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_COL,
)
from recommenders_kit.evaluation import ranking, rating
from recommenders_kit.evaluation._api import check_metric_names
from recommenders_kit.evaluation._frames import merged_ratings

DEFAULT_METRICS = ("map", "ndcg_at_k", "precision_at_k", "recall_at_k")


def evaluate(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    metrics: Sequence[str] = DEFAULT_METRICS,
    k: int = DEFAULT_K,
    relevancy_method: str = "top_k",
    threshold: float = DEFAULT_THRESHOLD,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> dict[str, float]:
    """Compute ``metrics`` (names from ``ranking.METRICS`` and ``rating.METRICS``).

    The ranking metrics share one :func:`ranking.rank_hits` and the rating metrics one merge,
    so asking for five ranking metrics costs little more than asking for one.

    Returns:
        ``{metric name: value}`` in the order asked, e.g. ready for ``pd.Series(result)``.

    Example:
        >>> evaluate(test, predictions, metrics=["ndcg_at_k", "rmse"], k=10)  # doctest: +SKIP
        {'ndcg_at_k': 0.41, 'rmse': 0.93}
    """
    metrics = check_metric_names(metrics, ranking.METRICS, rating.METRICS)
    result: dict[str, float] = {}
    if any(m in ranking.METRICS for m in metrics):
        hits = ranking.rank_hits(
            rating_true,
            rating_pred,
            k,
            relevancy_method,
            threshold,
            col_user,
            col_item,
            col_prediction,
        )
        result.update({m: ranking.METRICS[m](hits) for m in metrics if m in ranking.METRICS})
    if any(m in rating.METRICS for m in metrics):
        pairs = merged_ratings(
            rating_true,
            rating_pred,
            col_user=col_user,
            col_item=col_item,
            col_rating=col_rating,
            col_prediction=col_prediction,
        )
        result.update({m: rating.METRICS[m](*pairs) for m in metrics if m in rating.METRICS})
    return {m: result[m] for m in metrics}
