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

from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.models._item_based import ItemScores, PandasItemRecommender
from recommenders_kit.models.ease import MAX_ITEMS, check_item_count, check_params, ease_weights

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["RECOMMENDED_TOP_K", "EASERecommender"]

#: The configuration for top-k ranking on MovieLens-like ratings, chosen on a validation
#: split carved from the training part of MovieLens 100k (``benchmarks/models.py``).
RECOMMENDED_TOP_K = {"lam": 300.0, "weighting": "binary"}


class EASERecommender(PandasItemRecommender):
    """EASE; fit / predict / recommend / save / load. Only users seen in training get
    recommendations (a user's scores come from their own interactions).

    Args:
        lam: L2 regularisation ``lambda`` added to the Gram matrix's diagonal (> 0).
        weighting: ``"binary"`` (1 per interaction) or ``"rating"`` (the rating).
        max_items: the most items fit accepts (memory: ``16 n^2`` bytes during the solve).
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

    def _item_scores(self, history: sparse.csr_matrix, item_ids: np.ndarray) -> ItemScores:
        check_item_count(len(item_ids), self.max_items)
        x = history.astype(np.float64)
        return ItemScores(item_ids, ease_weights((x.T @ x).toarray(), self.lam), None)
