"""Several metrics in one call, sharing the merge they have in common."""

from __future__ import annotations

import pandas as pd

from recommenders_kit.evaluation import ranking, rating
from recommenders_kit.evaluation._api import DEFAULT_METRICS, evaluator
from recommenders_kit.evaluation._frames import merged_ratings

__all__ = ["DEFAULT_METRICS", "evaluate"]


def _ranking_values(rating_true: pd.DataFrame, rating_pred: pd.DataFrame, names, **kw):
    hits = ranking.rank_hits(rating_true, rating_pred, **kw)
    return {m: ranking.METRICS[m](hits) for m in names}


def _rating_values(rating_true: pd.DataFrame, rating_pred: pd.DataFrame, names, **cols):
    pairs = merged_ratings(rating_true, rating_pred, **cols)
    return {m: rating.METRICS[m](*pairs) for m in names}


evaluate = evaluator(
    ranking.METRICS,
    rating.METRICS,
    _ranking_values,
    _rating_values,
    """Compute ``metrics`` (names from ``ranking.METRICS`` and ``rating.METRICS``).

    The ranking metrics share one :func:`ranking.rank_hits` and the rating metrics one merge,
    so asking for five ranking metrics costs little more than asking for one.

    Returns:
        ``{metric name: value}`` in the order asked, e.g. ready for ``pd.Series(result)``.

    Example:
        >>> evaluate(test, predictions, metrics=["ndcg_at_k", "rmse"], k=10)  # doctest: +SKIP
        {'ndcg_at_k': 0.41, 'rmse': 0.93}
    """,
)
