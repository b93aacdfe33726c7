"""The most popular unseen items per user, on Spark: the executors count, the driver keeps one
score per item, the executors rank each user's unseen items.

The Spark twin of :mod:`recommenders_kit.models.popularity.pandas`: the same scores and lists.

Example::

    from recommenders_kit.models.popularity.spark import PopularityRecommender
    top10 = PopularityRecommender().fit(train_sdf).recommend_k_items(test_sdf, k=10)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommenders_kit.models._item_based import ItemScores
from recommenders_kit.models._item_based_spark import SparkItemRecommender
from recommenders_kit.models.base import require_fitted
from recommenders_kit.models.popularity import (
    RECOMMENDED_TOP_K,
    PopularityParams,
    most_popular,
    popularity_scores,
)
from recommenders_kit.spark import active_spark, small_to_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["RECOMMENDED_TOP_K", "PopularityRecommender"]


class PopularityRecommender(PopularityParams, SparkItemRecommender):
    """The most popular items on Spark, the user's own left out; fit / predict / recommend /
    save / load (parameters: :class:`~recommenders_kit.models.popularity.PopularityParams`)."""

    def _item_scores(self, data: SparkDataFrame, item_ids: np.ndarray) -> ItemScores:
        from pyspark.sql import functions as F

        totals = small_to_pandas(data.groupBy("i").agg(F.sum("w").alias("t")).orderBy("i"))
        return popularity_scores(item_ids, totals["t"].to_numpy())

    def popular(self, k: int) -> SparkDataFrame:
        """The ``k`` most popular items overall: (item, prediction), best first, ties by
        item id."""
        items, scores = most_popular(require_fitted(self.model, self), k)
        rows = [(int(i), float(s)) for i, s in zip(items, scores, strict=True)]
        schema = f"{self.col_item} bigint, {self.col_prediction} float"
        return active_spark().createDataFrame(rows, schema)
