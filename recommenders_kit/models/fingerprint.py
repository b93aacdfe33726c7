"""What a saved recommender remembers of its training data: size and an order-independent
hash (:class:`Fingerprint`), computed by the engine that holds the data.

The hash tells whether two models were trained on the same rows of one engine; the two
engines hash differently (pandas' ``hash_pandas_object``, Spark's ``xxhash64``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame


@dataclass(frozen=True)
class Fingerprint:
    """Size and an order-independent hash of the training data, stored with a model."""

    rows: int
    users: int
    items: int
    hash: int


def pandas_fingerprint(frame: pd.DataFrame) -> Fingerprint:
    """Rows, users (first column), items (second column) and the hash of a pandas frame."""
    hashes = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    return Fingerprint(
        rows=len(frame),
        users=int(frame.iloc[:, 0].nunique()),
        items=int(frame.iloc[:, 1].nunique()),
        hash=int(hashes.sum(dtype=np.uint64) % (1 << 31)),
    )


def spark_fingerprint(data: SparkDataFrame, col_user: str, col_item: str) -> Fingerprint:
    """The same of a Spark frame, in one aggregation."""
    from pyspark.sql import functions as F

    row = data.agg(
        F.count(F.lit(1)).alias("rows"),
        F.countDistinct(col_user).alias("users"),
        F.countDistinct(col_item).alias("items"),
        F.sum(F.xxhash64(*data.columns) % (1 << 31)).alias("hash"),
    ).collect()[0]
    return Fingerprint(**{k: int(row[k] or 0) for k in ("rows", "users", "items", "hash")})
