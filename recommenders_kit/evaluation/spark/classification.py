"""Classification metrics on Spark DataFrames: the twins of
:mod:`recommenders_kit.evaluation.pandas.classification`.

Example (needs a Spark session)::

    from recommenders_kit.evaluation.spark import auc
    auc(scored_sdf, col_prediction="probability")
    # 0.79
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recommenders_kit._validate import require_spark_frame
from recommenders_kit.constants import DEFAULT_LABEL_COL, DEFAULT_PREDICTION_COL
from recommenders_kit.errors import InputError
from recommenders_kit.evaluation._common import LOGLOSS_EPS, check_eps

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["auc", "logloss"]


def _checked(data: SparkDataFrame, col_label: str, col_prediction: str) -> SparkDataFrame:
    """``data`` as (label, score) doubles, after the checks that need the data (one job)."""
    from pyspark.sql import functions as F

    require_spark_frame(data, [col_label, col_prediction], "data")
    frame = data.select(
        F.col(col_label).cast("double").alias("label"),
        F.col(col_prediction).cast("double").alias("score"),
    )
    label = F.col("label")
    row = frame.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.when(~label.isin(0.0, 1.0) | label.isNull(), 1).otherwise(0)).alias("bad"),
        F.sum((F.isnan("score") | F.col("score").isNull()).cast("int")).alias("nan"),
        F.sum(label).alias("pos"),
    ).collect()[0]
    if not row["n"]:
        raise InputError("data is empty")
    if row["bad"]:
        raise InputError(f"the label column {col_label!r} must hold only 0 and 1")
    if row["nan"]:
        raise InputError(f"the prediction column has {row['nan']} NaN (or null) values")
    if not 0 < row["pos"] < row["n"]:
        raise InputError("auc needs both classes in the label column")
    return frame


def auc(
    data: SparkDataFrame,
    col_label: str = DEFAULT_LABEL_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Area under the ROC curve on Spark: P(a random positive scores above a random negative).

    Exact (Spark's ``BinaryClassificationEvaluator`` with ``numBins=0``: no down-sampling);
    ties count one half.

    Args:
        data: one row per example.
        col_label: the 0/1 label column.
        col_prediction: the score column (higher means more likely 1).

    Returns:
        A float in [0, 1]. Raises ``ValueError`` unless both classes are present.

    Example::

        auc(scored_sdf, col_prediction="probability")
    """
    from pyspark.ml.evaluation import BinaryClassificationEvaluator

    frame = _checked(data, col_label, col_prediction)
    evaluator = BinaryClassificationEvaluator(
        rawPredictionCol="score", labelCol="label", metricName="areaUnderROC", numBins=0
    )
    return float(evaluator.evaluate(frame))


def logloss(
    data: SparkDataFrame,
    col_label: str = DEFAULT_LABEL_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    eps: float = LOGLOSS_EPS,
) -> float:
    """Mean binary cross-entropy on Spark: ``mean(-(y log p + (1 - y) log(1 - p)))``.

    Natural log; probabilities clipped to ``[eps, 1 - eps]``.

    Args:
        data: one row per example.
        col_label: the 0/1 label column.
        col_prediction: the predicted probability of 1, in [0, 1].
        eps: the clipping bound, in (0, 0.5).

    Returns:
        A float >= 0.

    Example::

        logloss(scored_sdf, col_prediction="probability")
    """
    from pyspark.sql import functions as F

    check_eps(eps)
    require_spark_frame(data, [col_label, col_prediction], "data")
    label = F.col(col_label).cast("double")
    score = F.col(col_prediction).cast("double")
    p = F.least(F.greatest(score, F.lit(eps)), F.lit(1 - eps))
    row = data.agg(
        F.avg(F.when(label == 1, -F.log(p)).otherwise(-F.log1p(-p))).alias("loss"),
        F.sum(F.when(~label.isin(0.0, 1.0) | label.isNull(), 1).otherwise(0)).alias("bad"),
        F.sum(F.when((score < 0) | (score > 1), 1).otherwise(0)).alias("out"),
        F.sum((F.isnan(score) | score.isNull()).cast("int")).alias("nan"),
    ).collect()[0]
    if row["loss"] is None:
        raise InputError("data is empty")
    if row["bad"]:
        raise InputError(f"the label column {col_label!r} must hold only 0 and 1")
    if row["nan"]:
        raise InputError(f"the prediction column has {row['nan']} NaN (or null) values")
    if row["out"]:
        raise InputError("predictions must be probabilities in [0, 1]")
    return float(row["loss"])
