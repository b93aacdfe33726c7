"""The most popular unseen items per user, on one machine (pandas in and out).

The pandas twin of :mod:`recommenders_kit.models.popularity.spark`: the same scores and lists.

Example:
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"userID": [1, 1, 2, 2, 3], "itemID": [10, 20, 10, 30, 10],
    ...                         "rating": [5.0, 3.0, 4.0, 5.0, 2.0]})
    >>> model = PopularityRecommender().fit(ratings)
    >>> model.recommend_k_items(k=1)["itemID"].tolist()  # 10 is seen by all: next best
    [30, 20, 20]
    >>> model.popular(2)["itemID"].tolist()
    [10, 20]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recommenders_kit.models._item_based import ItemScores, PandasItemRecommender
from recommenders_kit.models.base import require_fitted
from recommenders_kit.models.popularity import (
    RECOMMENDED_TOP_K,
    PopularityParams,
    most_popular,
    popularity_scores,
)

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["RECOMMENDED_TOP_K", "PopularityRecommender"]


class PopularityRecommender(PopularityParams, PandasItemRecommender):
    """The most popular items on one machine, the user's own left out; fit / predict / recommend /
    save / load (parameters: :class:`~recommenders_kit.models.popularity.PopularityParams`)."""

    def _item_scores(self, history: sparse.csr_matrix, item_ids: np.ndarray) -> ItemScores:
        return popularity_scores(item_ids, np.asarray(history.sum(axis=0)).ravel())

    def popular(self, k: int) -> pd.DataFrame:
        """The ``k`` most popular items overall: (item, prediction), best first, ties by
        item id."""
        items, scores = most_popular(require_fitted(self.model, self), k)
        return pd.DataFrame({self.col_item: items, self.col_prediction: scores})
