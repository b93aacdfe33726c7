"""Rating metrics on pandas frames, over the (user, item) pairs present in both frames.

``rating_true`` holds the observed ratings (user, item, rating), ``rating_pred`` the
predictions (user, item, prediction), each with one row per pair. Pairs in only one frame
are left out; when the frames share no pair, or a matched prediction is NaN, the metrics
raise ``ValueError`` (a silent NaN would hide a cold-start problem). The Spark twins are in
:mod:`recommenders_kit.evaluation.spark.rating`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_pandas_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError

__all__ = ["exp_var", "mae", "rmse", "rsquared"]


def merged_ratings(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str,
    col_item: str,
    col_rating: str,
    col_prediction: str,
) -> tuple[np.ndarray, np.ndarray]:
    """(true ratings, predictions) of the (user, item) pairs present in both frames."""
    for name, frame, cols in [
        ("rating_true", rating_true, [col_user, col_item, col_rating]),
        ("rating_pred", rating_pred, [col_user, col_item, col_prediction]),
    ]:
        require_pandas_frame(frame, cols, name)
    left = rating_true[[col_user, col_item, col_rating]]
    right = rating_pred[[col_user, col_item, col_prediction]]
    if col_rating == col_prediction:
        right = right.rename(columns={col_prediction: "__prediction"})
        col_prediction = "__prediction"
    merged = left.merge(right, on=[col_user, col_item], how="inner")
    if len(merged) > min(len(left), len(right)):
        raise InputError("duplicate (user, item) pairs: each frame must hold one row per pair")
    if merged.empty:
        raise InputError("rating_true and rating_pred share no (user, item) pair")
    y_true = merged[col_rating].to_numpy(dtype=np.float64)
    y_pred = merged[col_prediction].to_numpy(dtype=np.float64)
    if np.isnan(y_pred).any():
        raise InputError(
            f"rating_pred has NaN in {col_prediction!r} for {int(np.isnan(y_pred).sum())} "
            "matched pairs; drop them (e.g. ALS cold_start_strategy='drop') or fill them"
        )
    return y_true, y_pred


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def _rsquared(y: np.ndarray, p: np.ndarray) -> float:
    return float(1.0 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))


def _exp_var(y: np.ndarray, p: np.ndarray) -> float:
    return float(1.0 - np.var(y - p) / np.var(y))


#: Metric name -> its value from the matched (ratings, predictions) arrays.
FROM_PAIRS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": _rmse,
    "mae": _mae,
    "rsquared": _rsquared,
    "exp_var": _exp_var,
}


def rmse(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Root mean squared error: ``sqrt(mean((r - p)^2))`` over the pairs in both frames.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float >= 0, in rating units. Raises ``ValueError`` when the frames share no pair.

    Example:
        >>> import pandas as pd  # user 1 rated items 1 and 2 with 4 and 2; predicted: 3 and 2
        >>> true = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "rating": [4.0, 2.0]})
        >>> pred = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "prediction": [3.0, 2.0]})
        >>> round(rmse(true, pred), 4)  # sqrt((1^2 + 0^2) / 2)
        0.7071
    """
    pairs = merged_ratings(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return _rmse(*pairs)


def mae(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Mean absolute error: ``mean(|r - p|)`` over the pairs in both frames.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float >= 0, in rating units. Raises ``ValueError`` when the frames share no pair.

    Example:
        >>> import pandas as pd  # user 1 rated items 1 and 2 with 4 and 2; predicted: 3 and 2
        >>> true = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "rating": [4.0, 2.0]})
        >>> pred = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "prediction": [3.0, 2.0]})
        >>> mae(true, pred)  # (1 + 0) / 2
        0.5
    """
    pairs = merged_ratings(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return _mae(*pairs)


def rsquared(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Coefficient of determination: ``1 - sum((r - p)^2) / sum((r - mean(r))^2)``.

    Over the pairs in both frames; 1 is perfect, 0 is no better than predicting the mean
    rating, and it is negative for worse predictions.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float <= 1. Raises ``ValueError`` when the frames share no pair.

    Example:
        >>> import pandas as pd  # user 1 rated items 1 and 2 with 4 and 2; predicted: 3 and 2
        >>> true = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "rating": [4.0, 2.0]})
        >>> pred = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "prediction": [3.0, 2.0]})
        >>> rsquared(true, pred)  # 1 - 1 / (1^2 + 1^2)
        0.5
    """
    pairs = merged_ratings(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return _rsquared(*pairs)


def exp_var(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Explained variance: ``1 - var(r - p) / var(r)`` over the pairs in both frames.

    Unlike :func:`rsquared` it ignores a constant offset of the predictions.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float <= 1. Raises ``ValueError`` when the frames share no pair.

    Example:
        >>> import pandas as pd  # user 1 rated items 1 and 2 with 4 and 2; predicted: 3 and 2
        >>> true = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "rating": [4.0, 2.0]})
        >>> pred = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "prediction": [3.0, 2.0]})
        >>> exp_var(true, pred)  # residuals 1 and 0: var 0.25; ratings 4 and 2: var 1
        0.75
    """
    pairs = merged_ratings(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return _exp_var(*pairs)
