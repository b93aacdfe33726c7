"""Classification metrics on pandas frames: click (0/1) labels and predicted probabilities.

Both metrics take one frame with a label column and a prediction column, like their Spark
twins in :mod:`recommenders_kit.evaluation.spark.classification`. A label other than 0 or 1,
a NaN prediction or an empty frame raises ``ValueError``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_pandas_frame
from recommenders_kit.constants import DEFAULT_LABEL_COL, DEFAULT_PREDICTION_COL
from recommenders_kit.errors import InputError
from recommenders_kit.evaluation._common import LOGLOSS_EPS, check_eps

__all__ = ["auc", "logloss"]


def auc(
    data: pd.DataFrame,
    col_label: str = DEFAULT_LABEL_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Area under the ROC curve: P(a random positive scores above a random negative).

    Ties between a positive and a negative count one half (the Mann-Whitney statistic, exact:
    no binning).

    Args:
        data: one row per example.
        col_label: the 0/1 label column.
        col_prediction: the score column (any real numbers; higher means more likely 1).

    Returns:
        A float in [0, 1]. Raises ``ValueError`` unless both classes are present.

    Example:
        >>> import pandas as pd  # positives scored .35 and .8, negatives .1 and .4
        >>> data = pd.DataFrame({"label": [0, 0, 1, 1], "prediction": [0.1, 0.4, 0.35, 0.8]})
        >>> auc(data)  # of the 4 (positive, negative) pairs, 3 are ordered right
        0.75
    """
    y, s = _labels_and_scores(data, col_label, col_prediction)
    return roc_auc(y, s)


def logloss(
    data: pd.DataFrame,
    col_label: str = DEFAULT_LABEL_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    eps: float = LOGLOSS_EPS,
) -> float:
    """Mean binary cross-entropy: ``mean(-(y log p + (1 - y) log(1 - p)))``, natural log.

    Probabilities are clipped to ``[eps, 1 - eps]``, so a confident mistake costs a large but
    finite amount.

    Args:
        data: one row per example.
        col_label: the 0/1 label column.
        col_prediction: the predicted probability of 1, in [0, 1].
        eps: the clipping bound, in (0, 0.5).

    Returns:
        A float >= 0.

    Example:
        >>> import pandas as pd  # positives scored .35 and .8, negatives .1 and .4
        >>> data = pd.DataFrame({"label": [0, 0, 1, 1], "prediction": [0.1, 0.4, 0.35, 0.8]})
        >>> round(logloss(data), 4)  # -(log .9 + log .6 + log .35 + log .8) / 4
        0.4723
    """
    check_eps(eps)
    y, p = _labels_and_scores(data, col_label, col_prediction)
    return binary_logloss(y, p, eps)


def roc_auc(y: np.ndarray, s: np.ndarray) -> float:
    """:func:`auc` of checked arrays: boolean labels ``y``, float scores ``s``."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise InputError("auc needs both classes in the label column")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def binary_logloss(y: np.ndarray, p: np.ndarray, eps: float = LOGLOSS_EPS) -> float:
    """:func:`logloss` of checked arrays: boolean labels ``y``, probabilities ``p``."""
    if (p < 0).any() or (p > 1).any():
        raise InputError("predictions must be probabilities in [0, 1]")
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(np.where(y, np.log(p), np.log1p(-p))))


def _labels_and_scores(
    data: pd.DataFrame, col_label: str, col_prediction: str
) -> tuple[np.ndarray, np.ndarray]:
    require_pandas_frame(data, [col_label, col_prediction], "data")
    return checked_arrays(data[col_label].to_numpy(), data[col_prediction].to_numpy())


def checked_arrays(y_true: object, y_score: object) -> tuple[np.ndarray, np.ndarray]:
    """(boolean labels, float64 scores) of two 1-d array-likes, or ``ValueError``."""
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s):
        raise InputError(
            f"labels and scores must be 1-d and of equal length, got shapes {y.shape} and {s.shape}"
        )
    if len(y) == 0:
        raise InputError("data is empty")
    if not np.isin(y, [0, 1]).all():
        found = sorted(set(np.unique(y)) - {0, 1})[:5]
        raise InputError(f"the label column must hold only 0 and 1, found {found}")
    if np.isnan(s).any():
        raise InputError(f"the prediction column has {int(np.isnan(s).sum())} NaN values")
    return y.astype(bool), s
