"""Ranking metrics on Spark DataFrames: the twins of
:mod:`recommenders_kit.evaluation.pandas.ranking`.

Same names, arguments and definitions (see that module's table); values agree with pandas to
1e-9 on the same data. Only one aggregated row reaches the driver.

Inputs made from local data (``spark.createDataFrame(pandas_df)``) are first re-rooted on an
RDD (:func:`recommenders_kit.spark.detach_local_rows`): planning a query over a million rows
held in the plan itself costs Spark seconds.

The plan, one shuffle per input: the predictions are ranked per user with a window
whose ``row_number <= k`` Spark cuts to a top k per partition before the shuffle (so only
about k rows per user and partition move), and collected into one array per user; the truth
is collected into one array of items per user; the two per-user frames, partitioned alike,
are joined without a further shuffle (or the smaller broadcast, as Spark's adaptive plan
finds). Hits, DCG, average precision and the first hit's rank
are array expressions over each user's k entries; one aggregation sums every metric.

Reuse: the first ranking metric asked of two frames computes all of them in that one job; a
later metric on the same two DataFrame *objects* with the same arguments (``k``, columns,
relevancy method, threshold, nDCG's gain) runs no Spark job while the data under both is
known unchanged (:mod:`recommenders_kit.evaluation.spark._reuse`). So calling the metrics one
by one costs one pass over the data, as the reference toolkit's ``SparkRankingEvaluation``
costs one constructor.

Differences that follow from Spark:

* ties: a DataFrame has no inherent row order; ties are broken by
  ``monotonically_increasing_id()``, i.e. by the order in which the rows sit in their
  partitions (the order ``toPandas()`` returns). For a frame built from pandas that is the
  pandas order, so both engines agree exactly;
* duplicate (user, item) pairs in ``rating_true``, duplicate recommendations and NaN
  predictions raise ``ValueError`` as in pandas, detected in the same aggregation.

Example (needs a Spark session)::

    from recommenders_kit.evaluation.spark import ndcg_at_k
    ndcg_at_k(test_sdf, top_k_sdf, k=10)
    # 0.41
"""

from __future__ import annotations

from typing import TYPE_CHECKING, NamedTuple

from recommenders_kit._validate import require_spark_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError
from recommenders_kit.evaluation._common import (
    RANKING_METRICS,
    check_ndcg_args,
    check_ranking_args,
    ideal_dcg,
)
from recommenders_kit.evaluation.spark import _reuse
from recommenders_kit.spark import detach_local_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = [
    "hit_ratio_at_k",
    "map",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "r_precision_at_k",
    "recall_at_k",
]


def ranking_means(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str,
    col_item: str,
    col_prediction: str,
    relevancy_method: str,
    k: int,
    threshold: float,
    gain: str | None = None,
) -> dict[str, float]:
    """Every ranking metric (``RANKING_METRICS``) of the two frames, averaged over the users in
    both; with ``gain`` (a SQL expression of a ``rating_true`` row's gain) nDCG is graded.

    The first call for two frame objects and these arguments computes them all in one job;
    later calls reuse the result (see "Reuse" in the module docstring). Raises
    ``InputError`` for NaN predictions and duplicate pairs."""
    check_ranking_args(k, relevancy_method)
    require_spark_frame(rating_true, [col_user, col_item], "rating_true")
    require_spark_frame(rating_pred, [col_user, col_item, col_prediction], "rating_pred")
    args = _Args(col_user, col_item, col_prediction, relevancy_method, k, threshold, gain)
    row = _reuse.reused(
        rating_true,
        rating_pred,
        ("ranking", *args),
        lambda: _sums(_per_user_frame(rating_true, rating_pred, args), k).collect()[0].asDict(),
    )
    if row["_nan"]:
        raise InputError(
            f"rating_pred has {row['_nan']} NaN (or null) values in column {col_prediction!r}; "
            "drop or fill them before ranking"
        )
    if row["_dup_true"]:
        raise InputError("rating_true has duplicate (user, item) pairs")
    if row["_dup_pred"]:
        raise InputError("rating_pred has duplicate (user, item) pairs among the recommendations")
    n = row["_n"]
    return {m: (float(row[m]) / n if n else 0.0) for m in RANKING_METRICS}


class _Args(NamedTuple):
    """What a ranking result depends on besides the two frames (:func:`ranking_means`)."""

    col_user: str
    col_item: str
    col_prediction: str
    relevancy_method: str
    k: int
    threshold: float
    gain: str | None


def _per_user_frame(
    rating_true: SparkDataFrame, rating_pred: SparkDataFrame, args: _Args
) -> SparkDataFrame:
    """One row per user present in both frames with what every ranking metric needs:
    ``n_rel`` (relevant items), ``ranks`` (the ranks of the hits, ascending), and the problem
    counts ``nan`` (NaN or null predictions), ``dup_true`` and ``dup_pred`` (duplicates).
    With ``gain`` also ``dcg`` and ``idcg``, what graded nDCG needs."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    col_user, col_item, col_prediction, relevancy_method, k, threshold, gain = args

    rating_true = detach_local_rows(rating_true)
    rating_pred = detach_local_rows(rating_pred).select(col_user, col_item, col_prediction)
    item = F.col(col_item).cast(_common_type(rating_true, rating_pred, col_item)).alias("_i")
    score = F.col(col_prediction).cast("double")
    # by_threshold: the items under it rank last and are not recommended, so a user with none
    # above it still counts (with no hits); NaN passes any threshold in Spark
    recommended = score >= threshold if relevancy_method == "by_threshold" else F.lit(True)
    scored = rating_pred.select(
        col_user,
        item,
        score.alias("_s"),
        recommended.alias("_rec"),
        F.monotonically_increasing_id().alias("_o"),  # the input order, for ties
    )
    # NaN ranks above every number and nulls go first: a user's bad scores are in the top k.
    # Spark plans "row_number <= k" as a top k per partition before the shuffle.
    by_score = Window.partitionBy(col_user).orderBy(
        F.col("_rec").desc(), F.col("_s").desc_nulls_first(), F.col("_o")
    )
    top = (
        scored.withColumn("_r", F.row_number().over(by_score))
        .where(F.col("_r") <= k)
        .groupBy(col_user)
        .agg(F.expr("array_sort(collect_list(struct(_r, _i, _s, _rec))) AS _top"))
    )
    columns = [
        "size(_truth) AS n_rel",
        "filter(transform(_top, e -> if(e._rec AND array_contains(_truth, e._i), e._r, NULL)),"
        " r -> r IS NOT NULL) AS ranks",
        "size(filter(_top, e -> isnan(e._s) OR e._s IS NULL)) AS nan",
        "size(_truth) - size(array_distinct(_truth)) AS dup_true",
        "size(_top) - size(array_distinct(transform(_top, e -> e._i))) AS dup_pred",
    ]
    if gain is None:
        truth = rating_true.groupBy(col_user).agg(F.collect_list(item).alias("_truth"))
        return top.join(truth, on=col_user).selectExpr(*columns)
    gains = F.collect_list(F.struct(item, F.expr(gain).cast("double").alias("_g")))
    truth = rating_true.groupBy(col_user).agg(gains.alias("_tg"))
    truth = truth.withColumn("_truth", F.expr("transform(_tg, t -> t._i)"))
    hit_gain = "aggregate(filter(_tg, t -> t._i = e._i), 0D, (a, t) -> a + t._g)"
    return top.join(truth, on=col_user).selectExpr(
        *columns,
        f"aggregate(filter(_top, e -> e._rec AND array_contains(_truth, e._i)), 0D,"
        f" (acc, e) -> acc + {hit_gain} / log2(e._r + 1)) AS dcg",
        f"aggregate(transform(slice(sort_array(transform(_tg, t -> t._g), false), 1, {k}),"
        " (g, i) -> g / log2(i + 2)), 0D, (acc, v) -> acc + v) AS idcg",
    )


def _common_type(rating_true: SparkDataFrame, rating_pred: SparkDataFrame, col_item: str) -> str:
    """The type both item columns are compared in: ``bigint`` for integers, else ``string``."""
    integral = {"tinyint", "smallint", "int", "bigint"}
    kinds = {dict(frame.dtypes)[col_item] for frame in (rating_true, rating_pred)}
    return "bigint" if kinds <= integral else "string"


def _per_user(k: int, graded: bool = False) -> dict[str, str]:
    """Each ranking metric's per-user value as a SQL expression over a :func:`_per_user_frame`
    frame (``ranks``: the hits' ranks, ascending; ``n_rel``: relevant items; ``graded``:
    nDCG from its ``dcg`` and ``idcg`` columns)."""
    ideal = ", ".join(f"{v!r}D" for v in ideal_dcg(k))
    idcg = f"element_at(array({ideal}), least({k}, n_rel) + 1)"
    ap_sum = "aggregate(transform(ranks, (r, i) -> (i + 1) / r), 0D, (acc, v) -> acc + v)"
    return {
        "precision_at_k": f"size(ranks) / {k}",
        "recall_at_k": "size(ranks) / n_rel",
        "ndcg_at_k": "if(idcg > 0, dcg / idcg, 0D)"
        if graded
        else f"aggregate(ranks, 0D, (acc, r) -> acc + 1D / log2(r + 1)) / {idcg}",
        "map_at_k": f"{ap_sum} / least({k}, n_rel)",
        "map": f"{ap_sum} / n_rel",
        "r_precision_at_k": "size(filter(ranks, r -> r <= n_rel)) / n_rel",
        "hit_ratio_at_k": "if(size(ranks) > 0, 1D, 0D)",
        "mrr_at_k": "if(size(ranks) > 0, 1D / element_at(ranks, 1), 0D)",
    }


def _sums(per_user: SparkDataFrame, k: int) -> SparkDataFrame:
    """One row: the users (``_n``), the problem counts and each ranking metric's sum over a
    :func:`_per_user_frame`."""
    from pyspark.sql import functions as F

    columns = _per_user(k, graded="dcg" in per_user.columns)
    return per_user.agg(
        F.count(F.lit(1)).alias("_n"),
        F.sum("nan").alias("_nan"),
        F.sum("dup_true").alias("_dup_true"),
        F.sum("dup_pred").alias("_dup_pred"),
        *[F.sum(F.expr(columns[m])).alias(m) for m in RANKING_METRICS],
    )


def precision_at_k(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Precision at k on Spark: ``|hits| / k``, averaged over the users in both frames.

    A user with fewer than k recommendations still divides by k.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example::

        precision_at_k(test_sdf, top_k_sdf, k=10)
    """
    return ranking_means(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )["precision_at_k"]


def recall_at_k(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Recall at k on Spark: ``|hits| / R``, averaged over the users in both frames.

    The share of each user's relevant items found among the k recommendations.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example::

        recall_at_k(test_sdf, top_k_sdf, k=10)
    """
    return ranking_means(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )["recall_at_k"]


def ndcg_at_k(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
    score_type: str = "binary",
    discfun_type: str = "loge",
) -> float:
    """Normalised discounted cumulative gain at k on Spark: ``DCG / IDCG``, averaged over users.

    ``DCG = sum over hits of gain / log(1 + rank)``; ``IDCG`` is the DCG of the user's k
    largest gains at ranks 1, 2, ...: a list with the best relevant items on top scores 1.
    Binary gains (1 per relevant item) make ``IDCG`` the DCG of ``min(k, R)`` hits.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.
        score_type: the gain of a relevant item: ``"binary"`` (1), ``"raw"`` (its
            ``col_rating``) or ``"exp"`` (``2 ** rating - 1``), as in the reference toolkit.
        discfun_type: ``"loge"`` or ``"log2"``, accepted as the reference toolkit does; the
            value does not depend on it (the logarithm's base cancels out in DCG / IDCG).

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames (and for a user whose gains
        are all 0).

    Example::

        ndcg_at_k(test_sdf, top_k_sdf, k=10)
    """
    check_ndcg_args(score_type, discfun_type)
    gain = None
    if score_type != "binary":
        require_spark_frame(rating_true, [col_rating], "rating_true")
        rating = f"CAST(`{col_rating}` AS DOUBLE)"
        gain = rating if score_type == "raw" else f"pow(2D, {rating}) - 1D"
    return ranking_means(
        rating_true,
        rating_pred,
        col_user,
        col_item,
        col_prediction,
        relevancy_method,
        k,
        threshold,
        gain,
    )["ndcg_at_k"]


def map_at_k(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Mean average precision at k on Spark: ``sum over hits of (hits so far / rank) / min(k, R)``.

    Averaged over the users in both frames; ``min(k, R)`` makes a perfect list score 1 even
    when a user has more than k relevant items. See :func:`map` for the division by ``R``.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example::

        map_at_k(test_sdf, top_k_sdf, k=10)
    """
    return ranking_means(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )["map_at_k"]


def map(  # noqa: A001 - the metric's established name
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Mean average precision on Spark: ``sum over hits of (hits so far / rank) / R``.

    Averaged over the users in both frames. It divides by all ``R`` relevant items, so a user
    with more than k of them cannot score 1 (:func:`map_at_k` divides by ``min(k, R)``).

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example::

        map(test_sdf, top_k_sdf, k=10)
    """
    return ranking_means(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )["map"]


def r_precision_at_k(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """R-precision at k on Spark: hits at ranks ``<= R``, divided by ``R``, averaged over users.

    Precision at each user's own number of relevant items ``R`` (counted within the top k).

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example::

        r_precision_at_k(test_sdf, top_k_sdf, k=10)
    """
    return ranking_means(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )["r_precision_at_k"]


def hit_ratio_at_k(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Hit ratio at k on Spark: the share of users with at least one hit in their k recommendations.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example::

        hit_ratio_at_k(test_sdf, top_k_sdf, k=10)
    """
    return ranking_means(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )["hit_ratio_at_k"]


def mrr_at_k(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Mean reciprocal rank at k on Spark: ``1 / rank`` of each user's first hit (0 without one).

    Averaged over the users in both frames.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example::

        mrr_at_k(test_sdf, top_k_sdf, k=10)
    """
    return ranking_means(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )["mrr_at_k"]
