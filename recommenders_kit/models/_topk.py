"""The top-k kernel every recommender of the library ends in (internal): from a block of
users x items scores to each user's k best items, seen items left out, ties by item.

ALS scores a block as ``user_factors @ item_factors.T``; the item-based models
(:mod:`~recommenders_kit.models._item_based`: popularity, EASE) from the users' own
interactions. Both engines run this same function (Spark in its executors), so the twins'
lists agree up to float ties.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse


def top_k_scores(
    scores: np.ndarray, seen: sparse.spmatrix | None, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k best items of each row of ``scores`` (users x items, float32; overwritten where
    ``seen``, a users x items sparse matrix, marks items to leave out): (user positions, item
    positions, scores), per user best first, ties by item position (item positions follow
    sorted item ids, so ties go by item id).

    >>> top_k_scores(np.array([[0.5, 0.9, 0.9], [1.0, 0.0, 2.0]], np.float32), None, 2)
    (array([0, 0, 1, 1]), array([1, 2, 2, 0]), array([0.9, 0.9, 2. , 1. ], dtype=float32))
    """
    if seen is not None:
        r, c = seen.nonzero()
        scores[r, c] = -np.inf
    k = min(k, scores.shape[1])
    if k == 0:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float32)
    # k candidates per user, then the users where an item left out ties the k-th score: for
    # those every tied item competes, so that ties go by item id
    candidates = np.argpartition(scores, scores.shape[1] - k, axis=1)[:, -k:]
    values = np.take_along_axis(scores, candidates, axis=1)
    kth = values.min(axis=1)
    tied = np.flatnonzero(np.count_nonzero(scores >= kth[:, None], axis=1) > k)
    users = np.repeat(np.arange(len(scores)), k)
    items, values = candidates.ravel(), values.ravel()
    if len(tied):
        rest = ~np.isin(users, tied)
        tied_users, tied_items = np.nonzero(scores[tied] >= kth[tied, None])
        tied_users = tied[tied_users]
        users = np.concatenate([users[rest], tied_users])
        items = np.concatenate([items[rest], tied_items])
        values = np.concatenate([values[rest], scores[tied_users, tied_items]])
    finite = np.isfinite(values)  # seen items are -inf
    users, items, values = users[finite], items[finite], values[finite]
    order = np.lexsort((items, -values, users))
    users, items, values = users[order], items[order], values[order]
    first = np.searchsorted(users, users)  # each row's first position in its user's run
    keep = np.arange(len(users)) - first < k
    return users[keep], items[keep], values[keep]


def top_k_in_blocks(
    n_users: int,
    k: int,
    block: Callable[[slice], tuple[np.ndarray, Any]],
    block_size: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`top_k_scores` over ``n_users`` users, ``block_size`` at a time: ``block(rows)``
    gives the (scores, seen) of the users at positions ``rows``; returns (user positions,
    item positions, scores) as :func:`top_k_scores` does for all of them at once."""
    parts: tuple[list, list, list] = ([], [], [])
    for start in range(0, n_users, block_size):
        users, items, scores = top_k_scores(*block(slice(start, start + block_size)), k)
        parts[0].append(users + start)
        parts[1].append(items)
        parts[2].append(scores)
    if not parts[0]:
        empty = np.array([], dtype=np.int64)
        return empty, empty, np.array([], dtype=np.float32)
    return np.concatenate(parts[0]), np.concatenate(parts[1]), np.concatenate(parts[2])
