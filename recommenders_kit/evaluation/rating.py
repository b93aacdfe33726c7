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

from recommenders_kit.evaluation._api import rating_metric
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
    "rmse": _rmse,
    "mae": _mae,
    "rsquared": _rsquared,
    "exp_var": _exp_var,
}


def _compute(name: str, rating_true: pd.DataFrame, rating_pred: pd.DataFrame, **cols) -> float:
    return METRICS[name](*merged_ratings(rating_true, rating_pred, **cols))


def _metric(name: str) -> Callable[..., float]:
    return rating_metric(
        name,
        _compute,
        f"``{name}`` over the (user, item) pairs in both frames (see module docstring).",
    )


rmse = _metric("rmse")
mae = _metric("mae")
rsquared = _metric("rsquared")
exp_var = _metric("exp_var")
