"""EASE (Steck, "Embarrassingly Shallow Autoencoders for Sparse Data", WWW 2019), one module
per engine (the twin rule): :mod:`~recommenders_kit.models.ease.pandas` and
:mod:`~recommenders_kit.models.ease.spark`, each with its ``EASERecommender``.

A closed-form item-item model: with ``X`` the users x items training matrix (1 per
interaction, or the rating) and ``G = X^T X + lambda I``, the weights are
``B = I - P diag(1 / diag(P))`` with ``P = G^-1`` (so ``diag(B) = 0``: no item predicts
itself), and a user's scores are ``x_u B``. One matrix inverse, no iterations: on MovieLens
100k it matches a tuned ALS in under a second. The price is an items x items matrix in
float64: ``8 n^2`` bytes, twice during the solve (20,000 items: 3.2 GB each), hence the
``max_items`` limit; above it, use ALS.
"""

import numpy as np

from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError
from recommenders_kit.models._item_based import ItemBasedParams, check_weighting

#: Items above which fit refuses (two 20,000 x 20,000 float64 matrices: 6.4 GB).
MAX_ITEMS = 20_000


def check_item_count(n_items: int, max_items: int) -> None:
    """``InputError`` naming the item count and the memory EASE would take above the limit."""
    if n_items > max_items:
        gigabytes = 2 * 8 * n_items**2 / 1e9
        raise InputError(
            f"EASE needs an items x items matrix: {n_items:,} items would take {gigabytes:.1f} "
            f"GB in float64 during the solve (max_items={max_items:,}); keep the most frequent "
            "items, raise max_items if the memory is there, or use ALS"
        )


def ease_weights(gram: np.ndarray, lam: float) -> np.ndarray:
    """EASE's float32 weights ``B`` from the float64 Gram matrix ``X^T X`` (items x items).

    >>> B = ease_weights(np.array([[2.0, 1.0], [1.0, 2.0]]), lam=1.0)
    >>> [[round(float(v), 4) for v in row] for row in B]  # each item from the other only
    [[0.0, 0.3333], [0.3333, 0.0]]
    """
    g = np.array(gram, dtype=np.float64)
    g[np.diag_indices_from(g)] += lam
    p = np.linalg.inv(g)
    weights = -p / np.diag(p)
    weights[np.diag_indices_from(weights)] = 0.0
    return weights.astype(np.float32)


def check_params(lam: float, weighting: str) -> None:
    """The checks of the parameters both engines take, each error naming its parameter."""
    if not lam > 0:
        raise InputError(f"lam must be > 0, got {lam}")
    check_weighting(weighting)


#: The configuration for top-k ranking on MovieLens-like ratings, chosen on a validation split
#: carved from the training part of MovieLens 100k (``benchmarks/models.py``); one model, one
#: solve: the same on both engines.
RECOMMENDED_TOP_K = {"lam": 300.0, "weighting": "binary"}


class EASEParams(ItemBasedParams):
    """EASE's parameters, the same on both engines. Only users seen in training get
    recommendations (a user's scores come from their own interactions).

    Args:
        lam: L2 regularisation ``lambda`` added to the Gram matrix's diagonal (> 0).
        weighting: ``"binary"`` (1 per interaction) or ``"rating"`` (the rating).
        max_items: the most items fit accepts (memory: ``16 n^2`` bytes during the solve; on
            Spark ``4 n^2`` bytes more on each executor, where the weights are broadcast).
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
