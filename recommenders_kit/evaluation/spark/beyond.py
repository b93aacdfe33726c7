"""Beyond-accuracy metrics on Spark DataFrames: the twins of
:mod:`recommenders_kit.evaluation.pandas.beyond`.

Every metric is a few aggregations computed by the executors; only their totals reach the
driver. Diversity by co-occurrence joins each recommended item pair with the training users of
its first item, so its cost grows with (recommended pairs) x (users per item).

Example (needs a Spark session)::

    from recommenders_kit.evaluation.spark import novelty
    novelty(train_sdf, top_k_sdf)
    # 9.1
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from recommenders_kit._validate import require_spark_frame
from recommenders_kit.constants import DEFAULT_ITEM_COL, DEFAULT_USER_COL
from recommenders_kit.errors import InputError

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["catalog_coverage", "distributional_coverage", "diversity", "novelty"]


def _check(name: str, frame: SparkDataFrame, cols: list[str]) -> None:
    require_spark_frame(frame, cols, name)
    if frame.isEmpty():
        raise InputError(f"{name} is empty")


def catalog_coverage(
    train_df: SparkDataFrame, reco_df: SparkDataFrame, col_item: str = DEFAULT_ITEM_COL
) -> float:
    """Catalogue coverage on Spark: distinct recommended items / distinct items in ``train_df``.

    Args:
        train_df: the training interactions (the catalogue is their items).
        reco_df: the recommendations, one row per (user, item).
        col_item: the item column of both frames.

    Returns:
        A float >= 0 (above 1 only if items outside the training data are recommended).

    Example::

        catalog_coverage(train_sdf, top_k_sdf)
    """
    from pyspark.sql import functions as F

    _check("train_df", train_df, [col_item])
    _check("reco_df", reco_df, [col_item])
    n_reco = reco_df.agg(F.countDistinct(col_item)).collect()[0][0]
    n_train = train_df.agg(F.countDistinct(col_item)).collect()[0][0]
    return float(n_reco / n_train)


def distributional_coverage(reco_df: SparkDataFrame, col_item: str = DEFAULT_ITEM_COL) -> float:
    """Distributional coverage on Spark: ``-sum p_i log2 p_i`` (bits), ``p_i`` item i's share
    of the rows of ``reco_df``.

    Args:
        reco_df: the recommendations, one row per (user, item).
        col_item: the item column.

    Returns:
        A float >= 0, in bits.

    Example::

        distributional_coverage(top_k_sdf)
    """
    from pyspark.sql import functions as F

    _check("reco_df", reco_df, [col_item])
    counts = reco_df.groupBy(col_item).count()
    row = counts.agg(
        F.sum("count").alias("n"), F.sum(F.col("count") * F.log2("count")).alias("s")
    ).collect()[0]
    # H = -sum p log2 p with p = c / n  =  log2 n - sum(c log2 c) / n
    return float(math.log2(row["n"]) - row["s"] / row["n"])


def novelty(
    train_df: SparkDataFrame, reco_df: SparkDataFrame, col_item: str = DEFAULT_ITEM_COL
) -> float:
    """Novelty on Spark: ``mean over recommendations of -log2(n_i / N)``, in bits.

    ``n_i``: rows of ``train_df`` with the recommended item, ``N``: rows of ``train_df``.
    Recommended items absent from ``train_df`` are left out.

    Args:
        train_df: the training interactions.
        reco_df: the recommendations, one row per (user, item).
        col_item: the item column of both frames.

    Returns:
        A float >= 0. Raises ``ValueError`` when no recommended item is in ``train_df``.

    Example::

        novelty(train_sdf, top_k_sdf)
    """
    from pyspark.sql import functions as F

    _check("train_df", train_df, [col_item])
    _check("reco_df", reco_df, [col_item])
    counts = train_df.groupBy(col_item).agg(F.count(F.lit(1)).alias("_n"))
    total = counts.agg(F.sum("_n")).collect()[0][0]
    row = (
        reco_df.select(col_item)
        .join(counts, on=col_item)
        .agg(F.count(F.lit(1)).alias("rows"), F.avg(-F.log2(F.col("_n") / total)).alias("v"))
        .collect()[0]
    )
    if not row["rows"]:
        raise InputError("no recommended item appears in train_df")
    return float(row["v"])


def diversity(
    train_df: SparkDataFrame,
    reco_df: SparkDataFrame,
    item_feature_df: SparkDataFrame | None = None,
    col_item_features: str = "features",
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
) -> float:
    """Diversity on Spark: ``1 - mean over users of the mean similarity of their recommended
    pairs``.

    Item similarity: the cosine of the items' ``train_df`` user sets, or, given
    ``item_feature_df``, of their feature vectors (an array column). Users with fewer than 2
    recommended items are left out.

    Args:
        train_df: the training interactions (for co-occurrence similarity).
        reco_df: the recommendations, one row per (user, item).
        item_feature_df: optional (item, features) frame, ``col_item_features`` an array of
            numbers per item.
        col_item_features, col_user, col_item: column names.

    Returns:
        A float, 1 for lists of unrelated items. Raises ``ValueError`` when no user has 2
        recommended items.

    Example::

        diversity(train_sdf, top_k_sdf)
    """
    from pyspark.sql import functions as F

    _check("train_df", train_df, [col_user, col_item])
    _check("reco_df", reco_df, [col_user, col_item])
    reco = reco_df.select(
        F.col(col_user).alias("u"),
        F.col(col_item).alias("i"),
        F.monotonically_increasing_id().alias("r"),
    )
    a, b = reco.alias("a"), reco.alias("b")
    pairs = a.join(b, (F.col("a.u") == F.col("b.u")) & (F.col("a.r") != F.col("b.r"))).select(
        F.col("a.u").alias("u"), F.col("a.i").alias("i"), F.col("b.i").alias("j")
    )
    if item_feature_df is not None:
        _check("item_feature_df", item_feature_df, [col_item, col_item_features])
        similarity = _feature_similarity(item_feature_df, pairs, col_item, col_item_features)
    else:
        similarity = _co_occurrence_similarity(train_df, pairs, col_user, col_item)
    per_user = (
        pairs.join(similarity, on=["i", "j"], how="left")
        .groupBy("u")
        .agg(F.avg(F.coalesce("sim", F.lit(0.0))).alias("sim"))
    )
    row = per_user.agg(F.count(F.lit(1)).alias("n"), F.avg("sim").alias("sim")).collect()[0]
    if not row["n"]:
        raise InputError("diversity needs users with at least 2 recommended items")
    return float(1.0 - row["sim"])


def _co_occurrence_similarity(
    train_df: SparkDataFrame, pairs: SparkDataFrame, col_user: str, col_item: str
) -> SparkDataFrame:
    """(i, j, sim) for the distinct item pairs of ``pairs``: users in common / sqrt of the
    product of the items' user counts (items absent from training: no row, similarity 0)."""
    from pyspark.sql import functions as F

    seen = train_df.select(F.col(col_user).alias("v"), F.col(col_item).alias("x")).distinct()
    degree = seen.groupBy("x").agg(F.count(F.lit(1)).alias("d"))
    wanted = pairs.select("i", "j").distinct()
    common = (
        wanted.join(seen.withColumnRenamed("x", "i"), on="i")
        .join(seen.withColumnRenamed("x", "j"), on=["v", "j"])
        .groupBy("i", "j")
        .agg(F.count(F.lit(1)).alias("co"))
    )
    di = degree.select(F.col("x").alias("i"), F.col("d").alias("di"))
    dj = degree.select(F.col("x").alias("j"), F.col("d").alias("dj"))
    return (
        common.join(di, on="i")
        .join(dj, on="j")
        .select("i", "j", (F.col("co") / F.sqrt(F.col("di") * F.col("dj"))).alias("sim"))
    )


def _feature_similarity(
    item_feature_df: SparkDataFrame, pairs: SparkDataFrame, col_item: str, col_item_features: str
) -> SparkDataFrame:
    """(i, j, sim) for the distinct item pairs of ``pairs``: cosine of the feature vectors
    (0 when one of them is all zeros)."""
    from pyspark.sql import functions as F

    feats = item_feature_df.select(
        F.col(col_item).alias("x"), F.col(col_item_features).cast("array<double>").alias("f")
    )
    items = pairs.select(F.col("i").alias("x")).distinct()
    missing = items.join(feats, on="x", how="left_anti").count()
    if missing:
        raise InputError(f"item_feature_df lacks features for {missing} items")

    def dot(a: str, b: str) -> Column:
        return F.aggregate(F.zip_with(a, b, lambda x, y: x * y), F.lit(0.0), lambda s, v: s + v)

    fi = feats.select(F.col("x").alias("i"), F.col("f").alias("fi"))
    fj = feats.select(F.col("x").alias("j"), F.col("f").alias("fj"))
    norms = F.sqrt(dot("fi", "fi")) * F.sqrt(dot("fj", "fj"))
    return (
        pairs.select("i", "j")
        .distinct()
        .join(fi, on="i")
        .join(fj, on="j")
        .select("i", "j", F.when(norms > 0, dot("fi", "fj") / norms).otherwise(0.0).alias("sim"))
    )
