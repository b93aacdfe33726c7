"""Several ranking and rating metrics in one call on pandas frames, sharing their work."""

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
from recommenders_kit.evaluation._common import (
    DEFAULT_METRICS,
    RANKING_METRICS,
    check_metric_names,
)
from recommenders_kit.evaluation.pandas import ranking, rating

__all__ = ["evaluate"]


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
    """Compute ``metrics``: any of the ranking and rating metrics, by name.

    The ranking metrics share one top-k selection and hit lookup, the rating metrics one
    merge, so asking for five ranking metrics costs little more than asking for one. Each
    value equals the one its own function returns.

    Args:
        metrics: names from :mod:`~recommenders_kit.evaluation.pandas.ranking` (e.g.
            ``"ndcg_at_k"``) and :mod:`~recommenders_kit.evaluation.pandas.rating` (e.g.
            ``"rmse"``).
        k, relevancy_method, threshold: as the ranking metrics take them.
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        ``{metric name: value}`` in the order asked, e.g. ready for ``pd.Series(result)``.

    Example:
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3], "rating": 5.0})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> evaluate(true, pred, metrics=["precision_at_k", "mrr_at_k"], k=2)
        {'precision_at_k': 0.5, 'mrr_at_k': 0.75}
    """
    names = check_metric_names(metrics)
    values: dict[str, float] = {}
    if any(m in RANKING_METRICS for m in names):
        hits = ranking.rank_hits(
            rating_true,
            rating_pred,
            col_user,
            col_item,
            col_prediction,
            relevancy_method,
            k,
            threshold,
        )
        values.update({m: f(hits) for m, f in ranking.FROM_HITS.items() if m in names})
    if any(m not in RANKING_METRICS for m in names):
        pairs = rating.merged_ratings(
            rating_true, rating_pred, col_user, col_item, col_rating, col_prediction
        )
        values.update({m: f(*pairs) for m, f in rating.FROM_PAIRS.items() if m in names})
    return {m: values[m] for m in names}
