"""Rating metrics on Spark DataFrames: the twins of
:mod:`recommenders_kit.evaluation.pandas.rating`.

One join of the two frames on (user, item) and one aggregation gives all four; the next call
on the same two frames reuses them (as the ranking metrics do); only the aggregated row
reaches the driver. ``rating_true`` and ``rating_pred`` must hold one row per (user,
item): Spark does not check it (a duplicate would count twice), the pandas twins raise.

Example (needs a Spark session)::

    from recommenders_kit.evaluation.spark import rmse
    rmse(test_sdf, predictions_sdf)
    # 0.93
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from recommenders_kit._validate import require_spark_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError
from recommenders_kit.evaluation.spark import _reuse
from recommenders_kit.spark import detach_local_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["exp_var", "mae", "rmse", "rsquared"]


def rating_values(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str,
    col_item: str,
    col_rating: str,
    col_prediction: str,
) -> dict[str, float]:
    """All four rating metrics from one join and one aggregation; the next call on the same two
    frames reuses them (:mod:`recommenders_kit.evaluation.spark._reuse`)."""
    require_spark_frame(rating_true, [col_user, col_item, col_rating], "rating_true")
    require_spark_frame(rating_pred, [col_user, col_item, col_prediction], "rating_pred")
    from pyspark.sql import functions as F

    def sums() -> dict[str, Any]:
        """The joined pairs' count, NaN count, mean squared and absolute errors, variances."""
        y, p = F.col("_y"), F.col("_p")
        truth = detach_local_rows(rating_true).select(
            col_user, col_item, F.col(col_rating).cast("double").alias("_y")
        )
        scores = detach_local_rows(rating_pred).select(
            col_user, col_item, F.col(col_prediction).cast("double").alias("_p")
        )
        return (
            truth.join(scores, on=[col_user, col_item])
            .agg(
                F.count(F.lit(1)).alias("n"),
                F.sum(F.isnan(p).cast("int")).alias("nan"),
                F.avg((y - p) ** 2).alias("mse"),
                F.avg(F.abs(y - p)).alias("mae"),
                F.var_pop(y).alias("var_y"),
                F.var_pop(y - p).alias("var_res"),
            )
            .collect()[0]
            .asDict()
        )

    key = ("rating", col_user, col_item, col_rating, col_prediction)
    row = _reuse.reused(rating_true, rating_pred, key, sums)
    if not row["n"]:
        raise InputError("rating_true and rating_pred share no (user, item) pair")
    if row["nan"]:
        raise InputError(
            f"rating_pred has NaN in {col_prediction!r} for {row['nan']} matched pairs; drop "
            "them (e.g. ALS cold_start_strategy='drop') or fill them"
        )
    return {
        "rmse": math.sqrt(row["mse"]),
        "mae": float(row["mae"]),
        "rsquared": 1.0 - row["mse"] / row["var_y"],
        "exp_var": 1.0 - row["var_res"] / row["var_y"],
    }


def rmse(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Root mean squared error on Spark: ``sqrt(mean((r - p)^2))`` over the pairs in both frames.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float >= 0, in rating units. Raises ``ValueError`` when the frames share no pair.

    Example::

        rmse(test_sdf, predictions_sdf)
    """
    values = rating_values(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return values["rmse"]


def mae(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Mean absolute error on Spark: ``mean(|r - p|)`` over the pairs in both frames.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float >= 0, in rating units. Raises ``ValueError`` when the frames share no pair.

    Example::

        mae(test_sdf, predictions_sdf)
    """
    values = rating_values(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return values["mae"]


def rsquared(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Coefficient of determination on Spark: ``1 - sum((r - p)^2) / sum((r - mean(r))^2)``.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float <= 1. Raises ``ValueError`` when the frames share no pair.

    Example::

        rsquared(test_sdf, predictions_sdf)
    """
    values = rating_values(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return values["rsquared"]


def exp_var(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Explained variance on Spark: ``1 - var(r - p) / var(r)`` over the pairs in both frames.

    Args:
        rating_true: observed ratings, one row per (user, item).
        rating_pred: predicted ratings, one row per (user, item).
        col_user, col_item, col_rating, col_prediction: column names.

    Returns:
        A float <= 1. Raises ``ValueError`` when the frames share no pair.

    Example::

        exp_var(test_sdf, predictions_sdf)
    """
    values = rating_values(rating_true, rating_pred, col_user, col_item, col_rating, col_prediction)
    return values["exp_var"]
