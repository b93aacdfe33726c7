"""EASE on Spark: the executors aggregate the Gram matrix, the driver solves the inverse (the
one place an items x items matrix is built), the executors score blocks of users.

The Spark twin of :mod:`recommenders_kit.models.ease.pandas`: the same weights and lists up
to float ties. The model and its memory limit: :mod:`recommenders_kit.models.ease`; the
weights are broadcast to the executors (``4 n^2`` bytes).

Example::

    from recommenders_kit.models.ease.spark import EASERecommender
    top10 = EASERecommender(lam=500.0).fit(train_sdf).recommend_k_items(test_sdf, k=10)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommenders_kit.models._item_based import ItemScores
from recommenders_kit.models._item_based_spark import SparkItemRecommender
from recommenders_kit.models.ease import (
    RECOMMENDED_TOP_K,
    EASEParams,
    check_item_count,
    ease_weights,
)
from recommenders_kit.spark import small_to_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["RECOMMENDED_TOP_K", "EASERecommender"]


class EASERecommender(EASEParams, SparkItemRecommender):
    """EASE on Spark; fit / predict / recommend / save / load (parameters:
    :class:`~recommenders_kit.models.ease.EASEParams`)."""

    def _item_scores(self, data: SparkDataFrame, item_ids: np.ndarray) -> ItemScores:
        from pyspark.sql import functions as F

        check_item_count(len(item_ids), self.max_items)
        # a user's (unique) pairs summed first, as the pandas twin's CSR adds repeated pairs
        rows = data.groupBy("u", "i").agg(F.sum("w").alias("w"))
        left = rows.select("u", F.col("i").alias("a"), F.col("w").alias("wa"))
        right = rows.select("u", F.col("i").alias("b"), F.col("w").alias("wb"))
        pairs = left.join(right, on="u").groupBy("a", "b")
        gram = small_to_pandas(pairs.agg(F.sum(F.col("wa") * F.col("wb")).alias("g")))
        dense = np.zeros((len(item_ids), len(item_ids)))
        rows_at, cols_at = (
            np.searchsorted(item_ids, gram["a"]),
            np.searchsorted(item_ids, gram["b"]),
        )
        dense[rows_at, cols_at] = gram["g"]
        return ItemScores(item_ids, ease_weights(dense, self.lam), None)
