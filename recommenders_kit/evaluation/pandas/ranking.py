"""Ranking metrics on pandas frames: precision@k, recall@k, nDCG@k, MAP@k, MAP and more.

Inputs: ``rating_true`` (user, item[, rating ...]): the relevant items of each user;
``rating_pred`` (user, item, prediction): scores, higher is better. Only users present in both
frames count, and every metric is the average over those users (a user without hits
contributes 0); with no user in both frames (an empty frame, say) every metric is 0.0.

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

The work shared by all metrics (matching users, top-k selection, hit lookup) is done once per
call; :func:`recommenders_kit.evaluation.pandas.evaluate` does it once for several metrics.
It is vectorised numpy: no per-user Python loop. The Spark twins of these functions are in
:mod:`recommenders_kit.evaluation.spark.ranking`.

The examples use two frames: user 1 likes items 1 and 2 and is recommended 2 (a hit), then
9; user 2 likes item 3 and is recommended 8, then 3 (a hit at rank 2).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_pandas_frame
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError
from recommenders_kit.evaluation._common import check_ndcg_args, check_ranking_args

__all__ = [
    "hit_ratio_at_k",
    "map",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "r_precision_at_k",
    "recall_at_k",
]

# Above this many (user, item) cells a sorted key array replaces the dense hit bitmap.
_DENSE_LIMIT = 64_000_000


@dataclass(frozen=True)
class _Hits:
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
    # graded nDCG: (each recommended row's gain, 0 unless a hit; each user's ideal DCG)
    graded: tuple[np.ndarray, np.ndarray] | None = None

    def per_user(
        self, values: np.ndarray | None = None, mask: np.ndarray | None = None
    ) -> np.ndarray:
        """Per-user sum of ``values`` (or count) over rows where ``mask`` (default: hits)."""
        mask = self.hit if mask is None else mask
        weights = None if values is None else values[mask]
        return np.bincount(self.user[mask], weights=weights, minlength=self.n_users)


def rank_hits(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str,
    col_item: str,
    col_prediction: str,
    relevancy_method: str,
    k: int,
    threshold: float,
    gains: np.ndarray | None = None,
) -> _Hits:
    """Select each common user's recommended items and mark the hits (see module docstring);
    with ``gains`` (one per ``rating_true`` row) also what graded nDCG needs.

    Raises:
        ValueError: missing columns, k < 1, unknown ``relevancy_method``, NaN predictions,
            or duplicate (user, item) pairs in ``rating_true`` or among the recommendations.
    """
    check_ranking_args(k, relevancy_method)
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
        raise InputError(
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
        raise InputError("rating_pred has duplicate (user, item) pairs among the recommendations")
    hit = _lookup(true_keys, pred_keys, n_true_users * n_items)
    n_relevant = np.bincount(true_users, minlength=n_true_users)[common_ids]
    graded = None
    if gains is not None:
        position = pd.Index(true_keys).get_indexer(np.where(hit, pred_keys, -1))
        ideal = _ideal_dcg(index[true_users], gains, k, len(common_ids))
        graded = (np.where(hit, gains[position], 0.0), ideal)
    return _Hits(k, len(common_ids), user, rank, hit, n_relevant, graded)


def _ideal_dcg(user: np.ndarray, gains: np.ndarray, k: int, n_users: int) -> np.ndarray:
    """Per common user (``user`` >= 0): the DCG of their k largest gains, best first."""
    inside = user >= 0
    user, gains = user[inside], gains[inside]
    order = np.lexsort((-gains, user))
    user, gains = user[order], gains[order]
    rank = np.arange(len(user)) - np.searchsorted(user, user) + 1
    top = rank <= k
    return np.bincount(user[top], weights=gains[top] / np.log2(rank[top] + 1), minlength=n_users)


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
            raise InputError("rating_true has duplicate (user, item) pairs")
        return valid & cells[np.where(valid, query, 0)]
    keys = np.sort(true_keys)
    if len(keys) > 1 and (keys[1:] == keys[:-1]).any():
        raise InputError("rating_true has duplicate (user, item) pairs")
    at = np.searchsorted(keys, query).clip(max=len(keys) - 1)
    return valid & (keys[at] == query)


def _mean(per_user: np.ndarray, n_users: int) -> float:
    return float(per_user.sum() / n_users) if n_users else 0.0


def _precision(h: _Hits) -> float:
    return _mean(h.per_user() / h.k, h.n_users)


def _recall(h: _Hits) -> float:
    return _mean(h.per_user() / h.n_relevant, h.n_users)


def _ndcg(h: _Hits) -> float:
    discount = 1.0 / np.log2(np.arange(2, h.k + 2))
    if h.graded is None:
        ideal = np.concatenate(([0.0], np.cumsum(discount)))[np.minimum(h.k, h.n_relevant)]
        return _mean(h.per_user(discount[h.rank - 1]) / ideal, h.n_users)
    gain, ideal = h.graded
    dcg = h.per_user(gain * discount[h.rank - 1])
    with np.errstate(invalid="ignore", divide="ignore"):  # all gains 0: nDCG 0
        return _mean(np.where(ideal > 0, dcg / ideal, 0.0), h.n_users)


def _gains(rating_true: pd.DataFrame, col_rating: str, score_type: str) -> np.ndarray | None:
    """Each relevant row's gain for graded nDCG (None: binary, the fast path)."""
    if score_type == "binary":
        return None
    require_pandas_frame(rating_true, [col_rating], "rating_true")
    rating = rating_true[col_rating].to_numpy(dtype=np.float64)
    return rating if score_type == "raw" else 2.0**rating - 1


def _precision_at_hits(h: _Hits) -> np.ndarray:
    """Per user: the sum over hits of (hits so far / rank)."""
    if not len(h.user):
        return np.zeros(h.n_users)
    running = np.cumsum(h.hit)
    first_row = np.r_[True, h.user[1:] != h.user[:-1]]
    # hits before each user's first row; running totals never decrease, so the latest
    # group start carries forward with a running maximum
    before = np.maximum.accumulate(np.where(first_row, running - h.hit, 0))
    return h.per_user((running - before) / h.rank)


def _map_at_k(h: _Hits) -> float:
    return _mean(_precision_at_hits(h) / np.minimum(h.n_relevant, h.k), h.n_users)


def _map(h: _Hits) -> float:
    return _mean(_precision_at_hits(h) / h.n_relevant, h.n_users)


def _r_precision(h: _Hits) -> float:
    within = h.hit & (h.rank <= h.n_relevant[h.user])
    return _mean(h.per_user(mask=within) / h.n_relevant, h.n_users)


def _hit_ratio(h: _Hits) -> float:
    return _mean(h.per_user() > 0, h.n_users)


def _mrr(h: _Hits) -> float:
    first_rank = np.full(h.n_users, np.inf)
    np.minimum.at(first_rank, h.user[h.hit], h.rank[h.hit])
    return _mean(1.0 / first_rank, h.n_users)


#: Metric name -> its value from the shared per-call work (used by ``evaluate``).
FROM_HITS: dict[str, Callable[[_Hits], float]] = {
    "precision_at_k": _precision,
    "recall_at_k": _recall,
    "ndcg_at_k": _ndcg,
    "map_at_k": _map_at_k,
    "map": _map,
    "r_precision_at_k": _r_precision,
    "hit_ratio_at_k": _hit_ratio,
    "mrr_at_k": _mrr,
}


def precision_at_k(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Precision at k: ``|hits| / k``, averaged over the users in both frames.

    A user with fewer than k recommendations still divides by k.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> precision_at_k(true, pred, k=2)  # user 1: 1/2, user 2: 1/2
        0.5
    """
    hits = rank_hits(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )
    return _precision(hits)


def recall_at_k(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Recall at k: ``|hits| / R``, averaged over the users in both frames.

    The share of each user's relevant items found among the k recommendations.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> recall_at_k(true, pred, k=2)  # user 1: 1/2, user 2: 1/1
        0.75
    """
    hits = rank_hits(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )
    return _recall(hits)


def ndcg_at_k(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
    score_type: str = "binary",
    discfun_type: str = "loge",
) -> float:
    """Normalised discounted cumulative gain at k: ``DCG / IDCG``, averaged over users.

    ``DCG = sum over hits of gain / log(1 + rank)``; ``IDCG`` is the DCG of the user's k
    largest gains at ranks 1, 2, ...: a list with the best relevant items on top scores 1.
    Binary gains (1 per relevant item) make ``IDCG`` the DCG of ``min(k, R)`` hits.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.
        score_type: the gain of a relevant item: ``"binary"`` (1), ``"raw"`` (its
            ``col_rating``) or ``"exp"`` (``2 ** rating - 1``), as in the reference toolkit.
        discfun_type: ``"loge"`` or ``"log2"``, accepted as the reference toolkit does; the
            value does not depend on it (the logarithm's base cancels out in DCG / IDCG).

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames (and for a user whose gains
        are all 0).

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> round(ndcg_at_k(true, pred, k=2), 4)  # user 1: 1/(1 + 0.6309), user 2: 0.6309/1
        0.622
        >>> true["rating"] = [1.0, 3.0, 5.0]  # graded: item 2 is worth 3, item 1 only 1
        >>> round(ndcg_at_k(true, pred, k=2, score_type="raw"), 4)  # 3/(3 + 1 * 0.6309), 0.6309
        0.7286
    """
    check_ndcg_args(score_type, discfun_type)
    gains = _gains(rating_true, col_rating, score_type)
    hits = rank_hits(
        rating_true,
        rating_pred,
        col_user,
        col_item,
        col_prediction,
        relevancy_method,
        k,
        threshold,
        gains,
    )
    return _ndcg(hits)


def map_at_k(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Mean average precision at k: ``sum over hits of (hits so far / rank) / min(k, R)``.

    Averaged over the users in both frames; ``min(k, R)`` makes a perfect list score 1 even
    when a user has more than k relevant items. See :func:`map` for the division by ``R``.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> map_at_k(true, pred, k=2)  # user 1: (1/1) / 2, user 2: (1/2) / 1
        0.5
    """
    hits = rank_hits(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )
    return _map_at_k(hits)


def map(  # noqa: A001 - the metric's established name
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Mean average precision: ``sum over hits of (hits so far / rank) / R``.

    Averaged over the users in both frames. It divides by all ``R`` relevant items, so a user
    with more than k of them cannot score 1 (:func:`map_at_k` divides by ``min(k, R)``).

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> map(true, pred, k=2)  # user 1: (1/1) / 2, user 2: (1/2) / 1
        0.5
    """
    hits = rank_hits(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )
    return _map(hits)


def r_precision_at_k(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """R-precision at k: hits at ranks ``<= R``, divided by ``R``, averaged over users.

    Precision at each user's own number of relevant items ``R`` (counted within the top k).

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> r_precision_at_k(true, pred, k=2)  # user 1: 1/2, user 2: 0/1
        0.25
    """
    hits = rank_hits(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )
    return _r_precision(hits)


def hit_ratio_at_k(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Hit ratio at k: the share of users with at least one hit in their k recommendations.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> hit_ratio_at_k(true, pred, k=1)  # user 1 hits at rank 1, user 2 does not
        0.5
    """
    hits = rank_hits(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )
    return _hit_ratio(hits)


def mrr_at_k(
    rating_true: pd.DataFrame,
    rating_pred: pd.DataFrame,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_rating: str = DEFAULT_RATING_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
    relevancy_method: str = "top_k",
    k: int = DEFAULT_K,
    threshold: float = DEFAULT_THRESHOLD,
) -> float:
    """Mean reciprocal rank at k: ``1 / rank`` of each user's first hit (0 without one).

    Averaged over the users in both frames.

    Args:
        rating_true: the relevant (user, item) pairs, one row per pair.
        rating_pred: scored (user, item) pairs, higher is better.
        col_user, col_item, col_prediction: column names; ``col_rating`` (``rating_true``'s
            rating) is read only by graded nDCG and accepted by every ranking metric, as the
            reference toolkit's signatures have it.
        relevancy_method: ``"top_k"`` or ``"by_threshold"`` (see the module docstring).
        k: how many recommendations count.
        threshold: the lowest prediction recommended with ``"by_threshold"``.

    Returns:
        A float in [0, 1]; 0.0 when no user is in both frames.

    Example:
        >>> import pandas as pd  # user 1 likes 1, 2 and gets 2, 9; user 2 likes 3, gets 8, 3
        >>> true = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3]})
        >>> pred = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [2, 9, 8, 3],
        ...                      "prediction": [0.9, 0.8, 0.7, 0.6]})
        >>> mrr_at_k(true, pred, k=2)  # user 1: 1/1, user 2: 1/2
        0.75
    """
    hits = rank_hits(
        rating_true, rating_pred, col_user, col_item, col_prediction, relevancy_method, k, threshold
    )
    return _mrr(hits)
