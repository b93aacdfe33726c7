"""Ranking metrics on pandas frames: precision@k, recall@k, nDCG@k, MAP@k, MAP and more.

Inputs: ``rating_true`` (user, item[, rating ...]): the relevant items of each user;
``rating_pred`` (user, item, prediction): scores, higher is better. Only users present in both
frames count, and every metric is the average over those users (a user without hits
contributes 0).

The k recommended items of a user are (``relevancy_method``):

* ``"top_k"``: the k highest predictions; ties keep the order of ``rating_pred``;
* ``"by_threshold"``: the predictions ``>= threshold``, highest first, at most k of them.

With ``hits`` the recommended items found in ``rating_true``, ``rank`` their 1-based
positions and ``R`` the user's number of relevant items:

==================  ============================================================
precision_at_k      ``|hits| / k``
recall_at_k         ``|hits| / R``
ndcg_at_k           ``DCG / IDCG``, ``DCG = sum over hits of 1 / log2(1 + rank)``,
                    IDCG the same for ``min(k, R)`` hits at ranks 1, 2, ...
map_at_k            ``sum over hits of (hits so far / rank) / min(k, R)``
map                 the same sum ``/ R``
r_precision_at_k    hits at ranks ``<= R``, ``/ R``
hit_ratio_at_k      1 if any hit else 0
mrr_at_k            ``1 / rank`` of the first hit, 0 without a hit
==================  ============================================================

The work shared by all metrics (matching users, top-k selection, hit lookup) is done once by
:func:`rank_hits`; :func:`recommenders_kit.evaluation.evaluate` reuses it for several metrics.
It is vectorised numpy: no per-user Python loop.

Example:
    >>> import pandas as pd
    >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
    >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
    ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
    >>> precision_at_k(true, pred, k=2)   # user 1: 1/2, user 2: 1/2
    0.5
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_choice, require_pandas_frame, require_positive_int
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_COL,
)
from recommenders_kit.evaluation._api import ranking_metric

RELEVANCY_METHODS = ("top_k", "by_threshold")
# Above this many (user, item) cells a sorted key array replaces the dense hit bitmap.
_DENSE_LIMIT = 64_000_000


@dataclass(frozen=True)
class RankingHits:
    """The recommended lists of the users common to both frames, and which items are hits.

    Arrays ``user``, ``rank`` and ``hit`` have one entry per recommended (user, item), sorted
    by user then rank; ``user`` indexes ``n_relevant`` (0 .. n_users - 1).
    """

    k: int
    n_users: int
    user: np.ndarray
    rank: np.ndarray
    hit: np.ndarray
    n_relevant: np.ndarray

    def per_user(self, values: np.ndarray | None = None, mask: np.ndarray | None = None):
        """Per-user sum of ``values`` (or count) over rows where ``mask`` (default: hits)."""
        mask = self.hit if mask is None else mask
        weights = None if values is None else values[mask]
        return np.bincount(self.user[mask], weights=weights, minlength=self.n_users)


def rank_hits(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    k: int = DEFAULT_K,
    relevancy_method: str = "top_k",
    threshold: float = DEFAULT_THRESHOLD,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> RankingHits:
    """Select each common user's recommended items and mark the hits (see module docstring).

    Raises:
        ValueError: missing columns, k < 1, unknown ``relevancy_method``, NaN predictions,
            or duplicate (user, item) pairs in ``rating_true`` or among the recommendations.
    """
    require_positive_int(k, "k")
    require_choice(relevancy_method, RELEVANCY_METHODS, "relevancy_method")
    for name, frame, cols in [
        ("rating_true", rating_true, [col_user, col_item]),
        ("rating_pred", rating_pred, [col_user, col_item, col_prediction]),
    ]:
        require_pandas_frame(frame, cols, name)

    true_users, n_true_users, pred_users = _encode(
        rating_true[col_user].to_numpy(), rating_pred[col_user].to_numpy()
    )
    score = rating_pred[col_prediction].to_numpy(dtype=np.float64)
    if np.isnan(score).any():
        raise ValueError(
            f"rating_pred has {int(np.isnan(score).sum())} NaN values in column "
            f"{col_prediction!r}; drop or fill them before ranking"
        )
    # users in both frames, numbered 0 .. n_users - 1 (before any threshold: a common user
    # with no prediction above it still counts, with no hits)
    common = np.zeros(n_true_users, dtype=bool)
    common[pred_users[pred_users >= 0]] = True
    common_ids = np.flatnonzero(common)
    index = np.full(n_true_users, -1, dtype=np.int64)
    index[common_ids] = np.arange(len(common_ids))

    keep = pred_users >= 0
    if relevancy_method == "by_threshold":
        keep &= score >= threshold
    rows = np.flatnonzero(keep)
    rows, user, rank = _top_k(index[pred_users[rows]], score[rows], rows, len(common_ids), k)

    true_items, n_items, pred_items = _encode(
        rating_true[col_item].to_numpy(), rating_pred[col_item].to_numpy()[rows]
    )
    true_keys = true_users * n_items + true_items
    pred_keys = np.where(pred_items >= 0, common_ids[user] * n_items + pred_items, -1)
    known = np.sort(pred_keys[pred_keys >= 0])
    if len(known) > 1 and (known[1:] == known[:-1]).any():
        raise ValueError("rating_pred has duplicate (user, item) pairs among the recommendations")
    hit = _lookup(true_keys, pred_keys, n_true_users * n_items)
    n_relevant = np.bincount(true_users, minlength=n_true_users)[common_ids]
    return RankingHits(k, len(common_ids), user, rank, hit, n_relevant)


def _encode(truth: np.ndarray, other: np.ndarray) -> tuple[np.ndarray, int, np.ndarray]:
    """Integer codes for ``truth`` (0 .. n-1) and the same codes for ``other`` (-1: absent).

    Small non-negative integer ids are their own codes (no hashing); anything else is
    factorized.
    """
    if truth.dtype.kind in "iu" and other.dtype.kind in "iu" and len(truth):
        low, high = truth.min(), truth.max()
        if low >= 0 and high < max(4 * len(truth), 1 << 20):
            n = int(high) + 1
            present = np.bincount(truth, minlength=n) > 0
            other = other.astype(np.int64)
            inside = (other >= 0) & (other < n)
            inside[inside] = present[other[inside]]  # ids in range but absent from truth
            return truth.astype(np.int64), n, np.where(inside, other, -1)
    codes, uniques = pd.factorize(truth, sort=False)
    return codes.astype(np.int64), len(uniques), pd.Index(uniques).get_indexer(other)


def _top_k(
    user: np.ndarray, score: np.ndarray, rows: np.ndarray, n_users: int, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each user's k best rows, highest score first, ties in input order.

    Returns (rows, user, 1-based rank), sorted by user then rank. Rows are grouped by user with
    a stable sort; each user's k-th best score is found with ``np.partition`` over a padded
    (users x longest list) matrix, and only the rows at or above it are sorted.
    """
    by_user = np.argsort(user.astype(np.uint16) if n_users <= 1 << 16 else user, kind="stable")
    user, score, rows = user[by_user], score[by_user], rows[by_user]
    sizes = np.bincount(user, minlength=n_users)
    longest = int(sizes.max()) if len(sizes) else 0
    if longest > k and n_users * longest <= 4 * len(user) + (1 << 20):
        position = np.arange(len(user)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        padded = np.full((n_users, longest), np.inf)
        padded[user, position] = -score
        kth = -np.partition(padded, k - 1, axis=1)[:, k - 1]
        candidate = score >= kth[user]
        user, score, rows = user[candidate], score[candidate], rows[candidate]
    order = np.lexsort((-score, user))  # stable: equal scores keep their (input) order
    user, rows = user[order], rows[order]
    first = np.ones(len(user), dtype=bool)
    first[1:] = user[1:] != user[:-1]
    starts = np.flatnonzero(first)
    rank = np.arange(len(user)) - starts[np.cumsum(first) - 1] + 1
    top = rank <= k
    return rows[top], user[top], rank[top]


def _lookup(true_keys: np.ndarray, query: np.ndarray, n_cells: int) -> np.ndarray:
    """Which ``query`` keys (>= 0) are in ``true_keys``; duplicates in ``true_keys`` raise."""
    valid = query >= 0
    if n_cells <= _DENSE_LIMIT:
        cells = np.zeros(n_cells, dtype=bool)
        cells[true_keys] = True
        if np.count_nonzero(cells) != len(true_keys):
            raise ValueError("rating_true has duplicate (user, item) pairs")
        return valid & cells[np.where(valid, query, 0)]
    keys = np.sort(true_keys)
    if len(keys) > 1 and (keys[1:] == keys[:-1]).any():
        raise ValueError("rating_true has duplicate (user, item) pairs")
    at = np.searchsorted(keys, query).clip(max=len(keys) - 1)
    return valid & (keys[at] == query)


def _mean(per_user: np.ndarray, n_users: int) -> float:
    return float(per_user.sum() / n_users) if n_users else 0.0


def _precision(h: RankingHits) -> float:
    return _mean(h.per_user() / h.k, h.n_users)


def _recall(h: RankingHits) -> float:
    return _mean(h.per_user() / h.n_relevant, h.n_users)


def _ndcg(h: RankingHits) -> float:
    discount = 1.0 / np.log2(np.arange(2, h.k + 2))
    ideal = np.concatenate(([0.0], np.cumsum(discount)))[np.minimum(h.k, h.n_relevant)]
    return _mean(h.per_user(discount[h.rank - 1]) / ideal, h.n_users)


def _precision_at_hits(h: RankingHits) -> np.ndarray:
    """Per user: the sum over hits of (hits so far / rank)."""
    if not len(h.user):
        return np.zeros(h.n_users)
    running = np.cumsum(h.hit)
    first_row = np.r_[True, h.user[1:] != h.user[:-1]]
    # hits before each user's first row; running totals never decrease, so the latest
    # group start carries forward with a running maximum
    before = np.maximum.accumulate(np.where(first_row, running - h.hit, 0))
    return h.per_user((running - before) / h.rank)


def _map_at_k(h: RankingHits) -> float:
    return _mean(_precision_at_hits(h) / np.minimum(h.n_relevant, h.k), h.n_users)


def _map(h: RankingHits) -> float:
    return _mean(_precision_at_hits(h) / h.n_relevant, h.n_users)


def _r_precision(h: RankingHits) -> float:
    within = h.hit & (h.rank <= h.n_relevant[h.user])
    return _mean(h.per_user(mask=within) / h.n_relevant, h.n_users)


def _hit_ratio(h: RankingHits) -> float:
    return _mean(h.per_user() > 0, h.n_users)


def _mrr(h: RankingHits) -> float:
    first_rank = np.full(h.n_users, np.inf)
    np.minimum.at(first_rank, h.user[h.hit], h.rank[h.hit])
    return _mean(1.0 / first_rank, h.n_users)


#: Metric name -> function of :class:`RankingHits`.
METRICS: dict[str, Callable[[RankingHits], float]] = {
    "precision_at_k": _precision,
    "recall_at_k": _recall,
    "ndcg_at_k": _ndcg,
    "map_at_k": _map_at_k,
    "map": _map,
    "r_precision_at_k": _r_precision,
    "hit_ratio_at_k": _hit_ratio,
    "mrr_at_k": _mrr,
}


def _compute(name: str, rating_true: pd.DataFrame, rating_pred: pd.DataFrame, **kw) -> float:
    return METRICS[name](rank_hits(rating_true, rating_pred, **kw))


def _metric(name: str) -> Callable[..., float]:
    return ranking_metric(
        name,
        _compute,
        (
            f"``{name}`` averaged over the users present in both frames (definition in the "
            "module docstring).\n\n    Returns:\n        a float in [0, 1]."
        ),
    )


precision_at_k = _metric("precision_at_k")
recall_at_k = _metric("recall_at_k")
ndcg_at_k = _metric("ndcg_at_k")
map_at_k = _metric("map_at_k")
map = _metric("map")  # noqa: A001 - the metric's established name
r_precision_at_k = _metric("r_precision_at_k")
hit_ratio_at_k = _metric("hit_ratio_at_k")
mrr_at_k = _metric("mrr_at_k")
