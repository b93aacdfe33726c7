"""Merging truth and predictions for the pointwise metrics (internal)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_pandas_frame


def merged_ratings(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    *,
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
        raise ValueError("duplicate (user, item) pairs: each frame must hold one row per pair")
    if merged.empty:
        raise ValueError("rating_true and rating_pred share no (user, item) pair")
    y_true = merged[col_rating].to_numpy(dtype=np.float64)
    y_pred = merged[col_prediction].to_numpy(dtype=np.float64)
    if np.isnan(y_pred).any():
        raise ValueError(
            f"rating_pred has NaN in {col_prediction!r} for {int(np.isnan(y_pred).sum())} "
            "matched pairs; drop them (e.g. ALS cold_start_strategy='drop') or fill them"
        )
    return y_true, y_pred
