"""Classification metrics for click (0/1) labels and predicted probabilities.

* :func:`auc`: area under the ROC curve, the probability that a random positive scores above a
  random negative (ties count one half) — the Mann-Whitney statistic, exact.
* :func:`logloss`: mean binary cross-entropy (natural log), probabilities clipped to
  ``[eps, 1 - eps]`` so a confident mistake costs a large but finite amount.

Both take array-likes (numpy, lists, pandas Series); the Spark versions in
:mod:`recommenders_kit.evaluation.spark` take a DataFrame and column names.

Example:
    >>> auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    0.75
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LOGLOSS_EPS = 1e-15


def _labels_and_scores(y_true, y_score) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true)
    s = np.asarray(y_score, dtype=np.float64)
    if y.ndim != 1 or s.ndim != 1 or len(y) != len(s):
        raise ValueError(
            "y_true and y_score must be 1-d and of equal length, "
            f"got shapes {y.shape} and {s.shape}"
        )
    if len(y) == 0:
        raise ValueError("y_true is empty")
    if not np.isin(y, [0, 1]).all():
        raise ValueError(
            f"y_true must hold only 0 and 1, found {sorted(set(np.unique(y)) - {0, 1})[:5]}"
        )
    if np.isnan(s).any():
        raise ValueError(f"y_score has {int(np.isnan(s).sum())} NaN values")
    return y.astype(bool), s


def auc(y_true, y_score) -> float:
    """ROC AUC of scores ``y_score`` for 0/1 labels ``y_true`` (needs both classes)."""
    y, s = _labels_and_scores(y_true, y_score)
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError("auc needs both classes in y_true")
    ranks = pd.Series(s).rank(method="average").to_numpy()
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def logloss(y_true, y_prob, eps: float = LOGLOSS_EPS) -> float:
    """Mean of ``-(y log p + (1 - y) log(1 - p))``, ``p`` clipped to ``[eps, 1 - eps]``."""
    y, p = _labels_and_scores(y_true, y_prob)
    if (p < 0).any() or (p > 1).any():
        raise ValueError("y_prob must hold probabilities in [0, 1]")
    if not 0 < eps < 0.5:
        raise ValueError(f"eps must be in (0, 0.5), got {eps}")
    p = np.clip(p, eps, 1 - eps)
    return float(-np.mean(np.where(y, np.log(p), np.log1p(-p))))
