"""Splitters for Spark DataFrames: the pandas splitters' names, arguments and meaning.

Everything runs in the executors (window functions and filters; nothing is collected). The
random order of ``stratified_split`` is a hash of ``seed`` and each row's values rather than a
random number generator, so a split recomputed after a shuffle (or on another cluster) assigns
every row to the same split: the splits always partition the input. Ties in
``chronological_split`` are broken by item, then by that hash.

Each returned DataFrame is lazy: cache the input (``data.cache()``) when several splits are used.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from recommenders_kit._validate import require_spark_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_SEED,
    DEFAULT_SPLIT_RATIO,
    DEFAULT_TIMESTAMP_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError
from recommenders_kit.split._common import cumulative_shares, group_split_args

__all__ = ["chronological_split", "random_split", "stratified_split"]

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql import DataFrame as SparkDataFrame


def _check_frame(data: SparkDataFrame, columns: Sequence[str]) -> None:
    require_spark_frame(data, columns, "data")
    if data.isEmpty():
        raise InputError("data is empty: nothing to split")


def random_split(
    data: SparkDataFrame,
    ratio: float | Sequence[float] = DEFAULT_SPLIT_RATIO,
    seed: int = DEFAULT_SEED,
) -> list[SparkDataFrame]:
    """Split rows at random with ``seed`` (Spark's ``randomSplit``): shares are expected
    values, not exact counts as in the pandas version."""
    shares = cumulative_shares(ratio)
    _check_frame(data, [])
    weights = [b - a for a, b in zip([0.0, *shares[:-1]], shares, strict=True)]
    return data.randomSplit(weights, seed=seed)


def chronological_split(
    data: SparkDataFrame,
    ratio: float | Sequence[float] = DEFAULT_SPLIT_RATIO,
    min_rating: int = 1,
    filter_by: str = "user",
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_timestamp: str = DEFAULT_TIMESTAMP_COL,
) -> list[SparkDataFrame]:
    """Per user (or item), the earliest ``ratio`` share of interactions to the first split.

    See :func:`recommenders_kit.split.pandas.chronological_split`.
    """
    from pyspark.sql import functions as F

    shares, group = group_split_args(ratio, min_rating, filter_by, col_user, col_item)
    _check_frame(data, [col_user, col_item, col_timestamp])
    order = [F.col(col_timestamp), F.col(col_item), _row_hash(data, DEFAULT_SEED)]
    return _split_by_group(data, group, order, shares, min_rating)


def stratified_split(
    data: SparkDataFrame,
    ratio: float | Sequence[float] = DEFAULT_SPLIT_RATIO,
    min_rating: int = 1,
    filter_by: str = "user",
    seed: int = DEFAULT_SEED,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
) -> list[SparkDataFrame]:
    """Per user (or item), a random ``ratio`` share of interactions to each split.

    See :func:`recommenders_kit.split.pandas.stratified_split`; the per-group counts are
    the same as pandas' for the same data and ratio.
    """
    shares, group = group_split_args(ratio, min_rating, filter_by, col_user, col_item)
    _check_frame(data, [col_user, col_item])
    return _split_by_group(data, group, [_row_hash(data, seed)], shares, min_rating)


def _row_hash(data: SparkDataFrame, seed: int) -> Column:
    from pyspark.sql import functions as F

    return F.xxhash64(F.lit(seed), *[F.col(c) for c in data.columns])


def _split_by_group(
    data: SparkDataFrame,
    group: str,
    order: list[Column],
    shares: list[float],
    min_rating: int,
) -> list[SparkDataFrame]:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    by_group = Window.partitionBy(group)
    ranked = data.withColumn("_n", F.count(F.lit(1)).over(by_group))
    if min_rating > 1:
        ranked = ranked.where(F.col("_n") >= min_rating)
    ranked = ranked.withColumn("_pos", F.row_number().over(by_group.orderBy(*order)) - 1)
    split = F.lit(0)
    for share in shares[:-1]:
        split = split + (F.col("_pos") >= F.floor(F.lit(share) * F.col("_n") + 0.5)).cast("int")
    ranked = ranked.withColumn("_split", split)
    return [
        ranked.where(F.col("_split") == j).drop("_n", "_pos", "_split") for j in range(len(shares))
    ]
