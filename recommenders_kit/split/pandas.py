"""Splitters for pandas DataFrames (see :mod:`recommenders_kit.split`).

Every splitter returns a list of DataFrames that partition the rows it kept (after the
``min_rating`` filter): no row lost, none duplicated, each split in the input's row order and
with the input's index.

Example:
    >>> import pandas as pd
    >>> from recommenders_kit.split.pandas import stratified_split
    >>> df = pd.DataFrame({"userID": [1] * 4 + [2] * 4, "itemID": range(8),
    ...                    "rating": 5.0, "timestamp": range(8)})
    >>> train, test = stratified_split(df, ratio=0.75)
    >>> train.groupby("userID").size().tolist(), test.groupby("userID").size().tolist()
    ([3, 3], [1, 1])
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_columns, require_pandas_frame
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


def _check_frame(data: pd.DataFrame, columns: Sequence[str]) -> None:
    require_pandas_frame(data, [], "data")
    if data.empty:
        raise InputError("data is empty: nothing to split")
    require_columns(data.columns, columns, "data")


def random_split(
    data: pd.DataFrame,
    ratio: float | Sequence[float] = DEFAULT_SPLIT_RATIO,
    seed: int = DEFAULT_SEED,
) -> list[pd.DataFrame]:
    """Shuffle the rows with ``seed`` and cut them by ``ratio``.

    Args:
        ratio: the first split's share in (0, 1) (two splits), or a list of weights (one split
            per weight, normalised to sum to 1).
        seed: random seed; the same seed gives the same split.

    Returns:
        ``len(weights)`` DataFrames; split ``j`` has ``floor(c_j n + 0.5) - floor(c_{j-1} n
        + 0.5)`` rows for cumulative shares ``c``.
    """
    shares = cumulative_shares(ratio)
    _check_frame(data, [])
    n = len(data)
    position = np.empty(n, dtype=np.int64)
    position[np.random.default_rng(seed).permutation(n)] = np.arange(n)
    return _cut(data, position, np.full(n, n), shares)


def chronological_split(
    data: pd.DataFrame,
    ratio: float | Sequence[float] = DEFAULT_SPLIT_RATIO,
    min_rating: int = 1,
    filter_by: str = "user",
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_timestamp: str = DEFAULT_TIMESTAMP_COL,
) -> list[pd.DataFrame]:
    """Per user (or item), the earliest ``ratio`` share of interactions to the first split.

    Within a group, rows are ordered by ``col_timestamp`` (ties keep the input order), so no
    interaction in a later split is earlier than any of the group's interactions in an
    earlier one.

    Args:
        min_rating: drop users (items) with fewer interactions first.
        filter_by: ``"user"`` or ``"item"``: the grouping.
    """
    shares, group = group_split_args(ratio, min_rating, filter_by, col_user, col_item)
    _check_frame(data, [col_user, col_item, col_timestamp])
    data = _filter_min(data, group, min_rating)
    return _split_by_group(data, group, data[col_timestamp].to_numpy(), shares)


def stratified_split(
    data: pd.DataFrame,
    ratio: float | Sequence[float] = DEFAULT_SPLIT_RATIO,
    min_rating: int = 1,
    filter_by: str = "user",
    seed: int = DEFAULT_SEED,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
) -> list[pd.DataFrame]:
    """Per user (or item), a random ``ratio`` share of interactions to each split.

    Every group of ``n`` rows contributes ``floor(c_j n + 0.5) - floor(c_{j-1} n + 0.5)`` rows
    to split ``j``: within one row of its share, so every user with enough ratings appears in
    every split.
    """
    shares, group = group_split_args(ratio, min_rating, filter_by, col_user, col_item)
    _check_frame(data, [col_user, col_item])
    data = _filter_min(data, group, min_rating)
    return _split_by_group(data, group, np.random.default_rng(seed).random(len(data)), shares)


def _filter_min(data: pd.DataFrame, group: str, min_rating: int) -> pd.DataFrame:
    if min_rating == 1:
        return data
    counts = data.groupby(group, sort=False)[group].transform("size").to_numpy()
    kept = data[counts >= min_rating]
    if kept.empty:
        raise InputError(f"no {group} has at least min_rating={min_rating} interactions")
    return kept


def _split_by_group(
    data: pd.DataFrame, group: str, order_key: np.ndarray, shares: list[float]
) -> list[pd.DataFrame]:
    codes = pd.factorize(data[group], sort=False)[0]
    order = np.lexsort((np.arange(len(data)), order_key, codes))
    sizes = np.bincount(codes)
    starts = np.concatenate(([0], np.cumsum(sizes)[:-1]))
    sorted_codes = codes[order]
    position = np.empty(len(data), dtype=np.int64)
    position[order] = np.arange(len(data)) - starts[sorted_codes]
    return _cut(data, position, sizes[codes], shares)


def _cut(
    data: pd.DataFrame, position: np.ndarray, size: np.ndarray, shares: list[float]
) -> list[pd.DataFrame]:
    """Row with 0-based ``position`` in a group of ``size`` goes to the first split ``j``
    with ``position < floor(c_j * size + 0.5)``."""
    split = np.zeros(len(data), dtype=np.int64)
    for share in shares[:-1]:
        split += position >= np.floor(share * size + 0.5)
    return [data[split == j] for j in range(len(shares))]
