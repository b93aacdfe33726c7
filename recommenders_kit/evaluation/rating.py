"""Rating metrics over the (user, item) pairs present in both ``rating_true`` and ``rating_pred``.

===========  ==================================================
rmse         ``sqrt(mean((r - p)^2))``
mae          ``mean(|r - p|)``
rsquared     ``1 - sum((r - p)^2) / sum((r - mean(r))^2)``
exp_var      ``1 - var(r - p) / var(r)``  (explained variance)
===========  ==================================================

Example:
    >>> import pandas as pd
    >>> t = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "rating": [4.0, 2.0]})
    >>> p = pd.DataFrame({"userID": [1, 1], "itemID": [1, 2], "prediction": [3.0, 2.0]})
    >>> rmse(t, p)
    0.7071067811865476
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.evaluation._frames import merged_ratings


def _rmse(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.sqrt(np.mean((y - p) ** 2)))


def _mae(y: np.ndarray, p: np.ndarray) -> float:
    return float(np.mean(np.abs(y - p)))


def _rsquared(y: np.ndarray, p: np.ndarray) -> float:
    return float(1.0 - np.sum((y - p) ** 2) / np.sum((y - y.mean()) ** 2))


def _exp_var(y: np.ndarray, p: np.ndarray) -> float:
    return float(1.0 - np.var(y - p) / np.var(y))


#: Metric name -> function of (true ratings, predictions) arrays.
METRICS: dict[str, Callable[[np.ndarray, np.ndarray], float]] = {
    "rmse": _rmse, "mae": _mae, "rsquared": _rsquared, "exp_var": _exp_var,
}


def _metric(name: str) -> Callable[..., float]:
    compute = METRICS[name]

    def metric(
        rating_true: pd.DataFrame,
        rating_pred: pd.DataFrame,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
    ) -> float:
        return compute(*merged_ratings(rating_true, rating_pred, col_user, col_item,
                                       col_rating, col_prediction))

    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = f"``{name}`` over the (user, item) pairs in both frames (see module docstring)."
    return metric


rmse = _metric("rmse")
mae = _metric("mae")
rsquared = _metric("rsquared")
exp_var = _metric("exp_var")
