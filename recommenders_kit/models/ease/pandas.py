"""EASE on one machine (pandas in and out): a sparse Gram matrix, one float64 inverse.

The pandas twin of :mod:`recommenders_kit.models.ease.spark`: the same weights and lists up
to float ties. The model and its memory limit: :mod:`recommenders_kit.models.ease`.

Example:
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"userID": [1, 1, 2, 2, 3], "itemID": [10, 20, 10, 30, 10],
    ...                         "rating": [5.0, 3.0, 4.0, 5.0, 2.0]})
    >>> model = EASERecommender(lam=1.0).fit(ratings)
    >>> model.recommend_k_items(k=1)["itemID"].tolist()
    [30, 20, 20]
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from recommenders_kit.models._item_based import ItemScores, PandasItemRecommender
from recommenders_kit.models.ease import (
    RECOMMENDED_TOP_K,
    EASEParams,
    check_item_count,
    ease_weights,
)

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["RECOMMENDED_TOP_K", "EASERecommender"]


class EASERecommender(EASEParams, PandasItemRecommender):
    """EASE on one machine; fit / predict / recommend / save / load (parameters:
    :class:`~recommenders_kit.models.ease.EASEParams`)."""

    def _item_scores(self, history: sparse.csr_matrix, item_ids: np.ndarray) -> ItemScores:
        check_item_count(len(item_ids), self.max_items)
        x = history.astype(np.float64)
        return ItemScores(item_ids, ease_weights((x.T @ x).toarray(), self.lam), None)
