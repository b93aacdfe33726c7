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

from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.models._item_based import ItemScores
from recommenders_kit.models._item_based_spark import SparkItemRecommender
from recommenders_kit.models.ease import MAX_ITEMS, check_item_count, check_params, ease_weights
from recommenders_kit.spark import small_to_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["RECOMMENDED_TOP_K", "EASERecommender"]

#: The same configuration as the pandas twin's (one model, one solve).
RECOMMENDED_TOP_K = {"lam": 300.0, "weighting": "binary"}


class EASERecommender(SparkItemRecommender):
    """EASE; fit / predict / recommend / save / load. Only users seen in training get
    recommendations (a user's scores come from their own interactions).

    Args:
        lam: L2 regularisation ``lambda`` added to the Gram matrix's diagonal (> 0).
        weighting: ``"binary"`` (1 per interaction) or ``"rating"`` (the rating).
        max_items: the most items fit accepts (driver memory: ``16 n^2`` bytes during the
            solve; executors: ``4 n^2`` bytes to score).
        col_user, col_item, col_rating, col_prediction: column names (integer ids).
    """

    KIND = "ease"

    def __init__(
        self,
        lam: float = 500.0,
        weighting: str = "binary",
        max_items: int = MAX_ITEMS,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
    ):
        check_params(lam, weighting)
        self.lam, self.weighting, self.max_items = lam, weighting, max_items
        self.col_user, self.col_item = col_user, col_item
        self.col_rating, self.col_prediction = col_rating, col_prediction
        self._init_state()

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
