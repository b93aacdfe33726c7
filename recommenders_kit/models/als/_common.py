"""What the two ALS engines share: parameter checks, the factor model, its top-k kernel
(internal).

:class:`Factors` is a fitted ALS model as plain numpy: the user and item ids and their factor
matrices. Its :meth:`Factors.top_k` scores a block of users against all items by matrix
multiplication, masks the items each user has seen and keeps the k best with
``argpartition``. The pandas twin uses it for all users at once; the Spark twin runs it in
the executors on one (user block, item block) pair at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_choice, require_positive_int
from recommenders_kit.errors import InputError
from recommenders_kit.models._topk import top_k_in_blocks, top_k_scores

if TYPE_CHECKING:
    from scipy import sparse

COLD_START_STRATEGIES = ("drop", "nan")


def require_seen(seen: object, remove_seen: bool) -> None:
    """With ``remove_seen``, the training pairs must be known (a loaded model may lack them)."""
    if remove_seen and seen is None:
        raise InputError(
            "the training pairs are unknown (model loaded without them): use "
            "remove_seen=False or call set_seen(train)"
        )


def check_params(
    rank: int, max_iter: int, reg_param: float, alpha: float, cold_start_strategy: str
) -> None:
    """The checks of the parameters both engines take, each error naming its parameter."""
    require_positive_int(rank, "rank")
    require_positive_int(max_iter, "max_iter")
    if not reg_param >= 0:
        raise InputError(f"reg_param must be >= 0, got {reg_param}")
    if not alpha >= 0:
        raise InputError(f"alpha must be >= 0, got {alpha}")
    require_choice(cold_start_strategy, COLD_START_STRATEGIES, "cold_start_strategy")


@dataclass(frozen=True)
class Factors:
    """A fitted factor model as numpy arrays.

    ``user_ids`` / ``item_ids``: the ids of the factor rows (sorted); ``user_factors`` /
    ``item_factors``: float32 matrices with one row per id.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    user_factors: np.ndarray
    item_factors: np.ndarray

    def user_rows(self, users: object = None) -> np.ndarray:
        """Factor rows of ``users`` (all when None): distinct, in order of first appearance,
        users without factors left out."""
        if users is None:
            return np.arange(len(self.user_ids))
        rows = pd.Index(self.user_ids).get_indexer(pd.unique(np.asarray(users)))
        return rows[rows >= 0]

    def top_k(
        self,
        rows: np.ndarray,
        k: int,
        seen: sparse.csr_matrix | None = None,
        block_size: int = 2048,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(user ids, item ids, scores) of the k best items of the users at factor ``rows``:
        per user, best first, ties by item id; the items marked in ``seen`` (a boolean users
        x items CSR matrix over all factor rows) left out."""
        require_positive_int(k, "k")

        def block(at: slice) -> tuple[np.ndarray, sparse.csr_matrix | None]:
            scores = self.user_factors[rows[at]] @ self.item_factors.T
            return scores, None if seen is None else seen[rows[at]]

        users, items, scores = top_k_in_blocks(len(rows), k, block, block_size)
        return self.user_ids[rows[users]], self.item_ids[items], scores


def top_k_block(
    user_factors: np.ndarray,
    item_factors: np.ndarray,
    seen: sparse.spmatrix | None,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The k best items of each user of a block: (user positions, item positions, scores).

    Scores are ``user_factors @ item_factors.T`` (float32); ``seen`` (a users x items sparse
    matrix) marks items to leave out (see :func:`~recommenders_kit.models._topk.top_k_scores`).
    """
    return top_k_scores(user_factors @ item_factors.T, seen, k)
