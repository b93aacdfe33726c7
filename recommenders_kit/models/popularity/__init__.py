"""The most popular items a user has not seen, one module per engine (the twin rule):
:mod:`~recommenders_kit.models.popularity.pandas` and
:mod:`~recommenders_kit.models.popularity.spark`, each with its ``PopularityRecommender``.

The baseline every recommender has to beat, and the list the scoring service falls back to
for users without a list of their own. An item's score is its share of the training
interactions (``weighting="binary"``: how many rows name it) or of the rating mass
(``"rating"``: the sum of its ratings, i.e. count x mean rating).
"""

import numpy as np

from recommenders_kit._validate import require_positive_int
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.models._item_based import ItemBasedParams, ItemScores, check_weighting

#: Counting rows did as well as weighting them by rating on MovieLens 100k's validation split.
RECOMMENDED_TOP_K = {"weighting": "binary"}


class PopularityParams(ItemBasedParams):
    """Popularity's parameters, the same on both engines. Users absent from training get the
    most popular items.

    Args:
        weighting: ``"binary"`` (an item's share of the training rows) or ``"rating"`` (its
            share of the summed ratings: count x mean rating).
        col_user, col_item, col_rating, col_prediction: column names (integer ids).
    """

    KIND = "popularity"
    scores_unknown_users = True

    def __init__(
        self,
        weighting: str = "binary",
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
    ):
        check_weighting(weighting)
        self.weighting = weighting
        self.col_user, self.col_item = col_user, col_item
        self.col_rating, self.col_prediction = col_rating, col_prediction
        self._init_state()


def popularity_scores(item_ids: np.ndarray, totals: np.ndarray) -> ItemScores:
    """The model: each item's share of the weighted training rows (``totals`` per item)."""
    totals = np.asarray(totals, dtype=np.float64)
    return ItemScores(item_ids, None, (totals / max(totals.sum(), 1e-300)).astype(np.float32))


def most_popular(model: ItemScores, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(item ids, scores) of the ``k`` most popular items, best first, ties by item id."""
    require_positive_int(k, "k")
    bias = np.asarray(model.bias)
    order = np.lexsort((model.item_ids, -bias))[:k]
    return model.item_ids[order], bias[order]
