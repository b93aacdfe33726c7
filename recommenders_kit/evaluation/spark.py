"""The evaluation metrics over Spark DataFrames, computed by the executors.

Same names, arguments and definitions as the pandas modules (``rating``, ``ranking``,
``classification``, ``beyond``); the values agree to 1e-9 on the same data. Only one
aggregated row per call reaches the driver.

Differences that follow from Spark:

* ranking ties: a DataFrame has no inherent row order; ties are broken by
  ``monotonically_increasing_id()``, i.e. by the order in which the rows sit in their
  partitions (the order ``toPandas()`` returns). For a frame built from pandas that is the
  pandas order, so both engines agree exactly;
* classification metrics take one DataFrame with a label and a prediction column, where the
  pandas versions take two arrays;
* ``rating_true`` must hold one row per (user, item): Spark does not check it (a duplicate
  would count twice), the pandas version raises.

Example:
    >>> from recommenders_kit.evaluation import spark as seval
    >>> seval.evaluate(test_sdf, top_k_sdf, metrics=["ndcg_at_k"])  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommenders_kit._validate import require_choice, require_positive_int, require_spark_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_LABEL_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_COL,
)
from recommenders_kit.evaluation import ranking as _ranking
from recommenders_kit.evaluation import rating as _rating
from recommenders_kit.evaluation._api import evaluator, ranking_metric, rating_metric
from recommenders_kit.evaluation.classification import LOGLOSS_EPS

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql import DataFrame as SparkDataFrame


def _check(name: str, frame, columns: Sequence[str]) -> None:
    require_spark_frame(frame, columns, name)


# ---------------------------------------------------------------- ranking


def rank_hits(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    k: int = DEFAULT_K,
    relevancy_method: str = "top_k",
    threshold: float = DEFAULT_THRESHOLD,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> SparkDataFrame:
    """One row per user present in both frames with what every ranking metric needs.

    Columns: the user, ``n_rel`` (relevant items), ``hits``, ``dcg``, ``ap_sum`` (sum over
    hits of hits so far / rank), ``r_hits`` (hits at ranks <= n_rel), ``first_rank``
    (rank of the first hit, null without one).
    """
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    require_positive_int(k, "k")
    require_choice(relevancy_method, _ranking.RELEVANCY_METHODS, "relevancy_method")
    _check("rating_true", rating_true, [col_user, col_item])
    _check("rating_pred", rating_pred, [col_user, col_item, col_prediction])

    truth = rating_true.select(col_user, col_item)
    relevant = truth.groupBy(col_user).agg(F.count(F.lit(1)).alias("n_rel"))
    pred = (
        rating_pred.select(col_user, col_item, F.col(col_prediction).cast("double").alias("_s"))
        .withColumn("_order", F.monotonically_increasing_id())
        .join(relevant, on=col_user, how="inner")
    )
    users = pred.select(col_user, "n_rel").distinct()
    if relevancy_method == "by_threshold":
        pred = pred.where(F.col("_s") >= threshold)
    by_score = Window.partitionBy(col_user).orderBy(F.col("_s").desc(), F.col("_order"))
    top = pred.withColumn("rank", F.row_number().over(by_score)).where(F.col("rank") <= k)
    hit = F.col("_hit")
    top = top.join(truth.withColumn("_hit", F.lit(1)), on=[col_user, col_item], how="left")
    top = top.withColumn("_hit", F.coalesce(hit, F.lit(0))).withColumn(
        "_so_far",
        F.sum(hit).over(
            Window.partitionBy(col_user)
            .orderBy("rank")
            .rowsBetween(Window.unboundedPreceding, Window.currentRow)
        ),
    )
    per_user = top.groupBy(col_user).agg(
        F.sum(hit).alias("hits"),
        F.sum(hit / F.log2(F.col("rank") + 1)).alias("dcg"),
        F.sum(hit * F.col("_so_far") / F.col("rank")).alias("ap_sum"),
        F.sum(F.when(F.col("rank") <= F.col("n_rel"), hit).otherwise(0)).alias("r_hits"),
        F.min(F.when(hit == 1, F.col("rank"))).alias("first_rank"),
    )
    return users.join(per_user, on=col_user, how="left").fillna(
        0, subset=["hits", "dcg", "ap_sum", "r_hits"]
    )


def _ranking_columns(k: int) -> dict[str, Column]:
    """Per-user value of each ranking metric, over a :func:`rank_hits` frame."""
    from pyspark.sql import functions as F

    ideal = [0.0]
    for rank in range(1, k + 1):
        ideal.append(ideal[-1] + 1.0 / math.log2(rank + 1))
    position = (F.least(F.lit(k), "n_rel") + 1).cast("int")
    idcg = F.element_at(F.array(*[F.lit(v) for v in ideal]), position)
    return {
        "precision_at_k": F.col("hits") / k,
        "recall_at_k": F.col("hits") / F.col("n_rel"),
        "ndcg_at_k": F.col("dcg") / idcg,
        "map_at_k": F.col("ap_sum") / F.least(F.lit(k), "n_rel"),
        "map": F.col("ap_sum") / F.col("n_rel"),
        "r_precision_at_k": F.col("r_hits") / F.col("n_rel"),
        "hit_ratio_at_k": (F.col("hits") > 0).cast("double"),
        "mrr_at_k": F.coalesce(1.0 / F.col("first_rank"), F.lit(0.0)),
    }


def _aggregate_ranking(per_user: SparkDataFrame, names: Sequence[str], k: int) -> dict[str, float]:
    from pyspark.sql import functions as F

    columns = _ranking_columns(k)
    row = per_user.agg(
        F.count(F.lit(1)).alias("_n"), *[F.sum(columns[m]).alias(m) for m in names]
    ).first()
    n = row["_n"]
    return {m: (float(row[m]) / n if n else 0.0) for m in names}


def _ranking_compute(name: str, rating_true, rating_pred, **kw) -> float:
    return _ranking_values(rating_true, rating_pred, [name], **kw)[name]


def _ranking_metric(name: str):
    return ranking_metric(
        name,
        _ranking_compute,
        f"``{name}`` on Spark; see :mod:`recommenders_kit.evaluation.ranking`.",
    )


precision_at_k = _ranking_metric("precision_at_k")
recall_at_k = _ranking_metric("recall_at_k")
ndcg_at_k = _ranking_metric("ndcg_at_k")
map_at_k = _ranking_metric("map_at_k")
map = _ranking_metric("map")  # noqa: A001 - the metric's established name
r_precision_at_k = _ranking_metric("r_precision_at_k")
hit_ratio_at_k = _ranking_metric("hit_ratio_at_k")
mrr_at_k = _ranking_metric("mrr_at_k")


# ---------------------------------------------------------------- rating


def _rating_values(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    names: Sequence[str],
    *,
    col_user: str,
    col_item: str,
    col_rating: str,
    col_prediction: str,
) -> dict[str, float]:
    from pyspark.sql import functions as F

    _check("rating_true", rating_true, [col_user, col_item, col_rating])
    _check("rating_pred", rating_pred, [col_user, col_item, col_prediction])
    y, p = F.col("_y"), F.col("_p")
    pairs = rating_true.select(
        col_user, col_item, F.col(col_rating).cast("double").alias("_y")
    ).join(
        rating_pred.select(col_user, col_item, F.col(col_prediction).cast("double").alias("_p")),
        on=[col_user, col_item],
    )
    row = pairs.agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.isnan(p).cast("int")).alias("nan"),
        F.avg((y - p) ** 2).alias("mse"),
        F.avg(F.abs(y - p)).alias("mae"),
        F.var_pop(y).alias("var_y"),
        F.var_pop(y - p).alias("var_res"),
    ).first()
    if not row["n"]:
        raise ValueError("rating_true and rating_pred share no (user, item) pair")
    if row["nan"]:
        raise ValueError(
            f"rating_pred has NaN in {col_prediction!r} for {row['nan']} matched pairs"
        )
    values = {
        "rmse": math.sqrt(row["mse"]),
        "mae": row["mae"],
        "rsquared": 1.0 - row["mse"] / row["var_y"],
        "exp_var": 1.0 - row["var_res"] / row["var_y"],
    }
    return {m: float(values[m]) for m in names}


def _rating_compute(name: str, rating_true, rating_pred, **cols) -> float:
    return _rating_values(rating_true, rating_pred, [name], **cols)[name]


def _rating_metric(name: str):
    return rating_metric(
        name,
        _rating_compute,
        f"``{name}`` on Spark; see :mod:`recommenders_kit.evaluation.rating`.",
    )


rmse = _rating_metric("rmse")
mae = _rating_metric("mae")
rsquared = _rating_metric("rsquared")
exp_var = _rating_metric("exp_var")


def _ranking_values(rating_true, rating_pred, names, k: int, **kw) -> dict[str, float]:
    return _aggregate_ranking(rank_hits(rating_true, rating_pred, k=k, **kw), names, k)


evaluate = evaluator(
    _ranking.METRICS,
    _rating.METRICS,
    _ranking_values,
    _rating_values,
    """Several metrics in one pass each for ranking and rating; see
    :func:`recommenders_kit.evaluation.evaluate`.""",
)


# ---------------------------------------------------------------- classification


def _labelled(data: SparkDataFrame, col_label: str, col_prediction: str) -> SparkDataFrame:
    from pyspark.sql import functions as F

    _check("data", data, [col_label, col_prediction])
    return data.select(
        F.col(col_label).cast("double").alias("label"),
        F.col(col_prediction).cast("double").alias("score"),
    )


def auc(
    data: SparkDataFrame,
    col_label: str = DEFAULT_LABEL_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> float:
    """Exact ROC AUC (Spark's ``BinaryClassificationEvaluator`` without down-sampling bins)."""
    from pyspark.ml.evaluation import BinaryClassificationEvaluator
    from pyspark.sql import functions as F

    frame = _labelled(data, col_label, col_prediction)
    counts = frame.agg(
        F.sum(F.when(F.col("label") == 1, 1).otherwise(0)).alias("pos"),
        F.sum(F.when(F.col("label") == 0, 1).otherwise(0)).alias("neg"),
        F.count(F.lit(1)).alias("n"),
    ).first()
    if not counts["n"]:
        raise ValueError("data is empty")
    if counts["pos"] + counts["neg"] != counts["n"]:
        raise ValueError(f"{col_label} must hold only 0 and 1")
    if not counts["pos"] or not counts["neg"]:
        raise ValueError("auc needs both classes in the label column")
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
    """Mean binary cross-entropy with probabilities clipped to ``[eps, 1 - eps]``."""
    from pyspark.sql import functions as F

    frame = _labelled(data, col_label, col_prediction)
    p = F.least(F.greatest(F.col("score"), F.lit(eps)), F.lit(1 - eps))
    row = frame.agg(
        F.avg(F.when(F.col("label") == 1, -F.log(p)).otherwise(-F.log1p(-p))).alias("loss"),
        F.sum(F.when(~F.col("label").isin(0, 1), 1).otherwise(0)).alias("bad"),
    ).first()
    if row["bad"]:
        raise ValueError(f"{col_label} must hold only 0 and 1")
    if row["loss"] is None:
        raise ValueError("data is empty")
    return float(row["loss"])


# ---------------------------------------------------------------- coverage


def catalog_coverage(
    train_df: SparkDataFrame, reco_df: SparkDataFrame, col_item: str = DEFAULT_ITEM_COL
) -> float:
    """Distinct recommended items / distinct items in ``train_df``."""
    from pyspark.sql import functions as F

    _check("train_df", train_df, [col_item])
    _check("reco_df", reco_df, [col_item])
    n_reco = reco_df.agg(F.countDistinct(col_item)).first()[0]
    n_train = train_df.agg(F.countDistinct(col_item)).first()[0]
    if not n_train:
        raise ValueError("train_df is empty")
    return float(n_reco / n_train)


def distributional_coverage(reco_df: SparkDataFrame, col_item: str = DEFAULT_ITEM_COL) -> float:
    """Entropy in bits of how often each item is recommended."""
    from pyspark.sql import functions as F

    _check("reco_df", reco_df, [col_item])
    counts = reco_df.groupBy(col_item).count()
    row = counts.agg(
        F.sum("count").alias("n"), F.sum(F.col("count") * F.log2("count")).alias("s")
    ).first()
    if not row["n"]:
        raise ValueError("reco_df is empty")
    # H = -sum p log2 p with p = c / n  =  log2 n - sum(c log2 c) / n
    return float(math.log2(row["n"]) - row["s"] / row["n"])
