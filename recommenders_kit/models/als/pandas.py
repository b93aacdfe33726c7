"""Collaborative filtering on one machine: implicit-feedback ALS on the ``implicit`` package.

:class:`ALSRecommender` is the pandas twin of
:class:`recommenders_kit.models.als.spark.ALSRecommender`: the same methods and output
frames, pandas in and out, trained by
``implicit``'s conjugate-gradient ALS (C++): for data that fits one machine (how much faster
than Spark it is: ``benchmarks/als.py`` and the README).

The confidence model is Spark's: an observed pair with rating ``r`` gets confidence
``1 + alpha * r`` (``implicit`` is handed that matrix; its own ``alpha`` stays 1), unobserved
pairs confidence 1, so ``alpha`` means the same on both engines. Where the engines still
differ:

* **regularisation**: Spark scales ``reg_param`` by each user's (item's) number of ratings
  (ALS-WR), ``implicit`` does not; the same number is a much weaker penalty here (on
  MovieLens 100k the best values are about 0.1 on Spark and 20-50 here), hence each engine's
  own ``RECOMMENDED_TOP_K``;
* **solver**: ``implicit`` runs a few conjugate-gradient steps per user instead of Spark's
  exact least squares, and initialises the factors differently: the same seed gives other
  factors, and the lists agree in quality, not item for item;
* **explicit ratings** (``implicit_prefs=False``) are Spark's only.

Example:
    >>> import pandas as pd
    >>> ratings = pd.DataFrame({"userID": [1, 1, 2, 2, 3], "itemID": [10, 20, 10, 30, 20],
    ...                         "rating": [5.0, 3.0, 4.0, 5.0, 2.0]})
    >>> model = ALSRecommender(rank=4, max_iter=5, num_threads=1).fit(ratings)
    >>> model.recommend_k_items(k=1)["itemID"].tolist()  # one unseen item per user
    [30, 20, 10]
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommenders_kit._progress import quiet_third_party_bars
from recommenders_kit._validate import (
    checked_ratings,
    require_pandas_frame,
    require_positive_int,
)
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_SEED,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError, ModelFormatError
from recommenders_kit.models.als._common import Factors, check_params, require_seen
from recommenders_kit.models.base import Params, require_fitted
from recommenders_kit.models.fingerprint import Fingerprint, pandas_fingerprint
from recommenders_kit.models.persistence import read_arrays, replacing_folder

if TYPE_CHECKING:
    from scipy import sparse

__all__ = ["RECOMMENDED_TOP_K", "ALSRecommender"]

#: This engine's configuration for top-k ranking on MovieLens-like ratings, chosen by a grid
#: on a validation split carved from the training part of MovieLens 100k (never the test
#: part): rank 32-128 did about as well; regularisation mattered most.
RECOMMENDED_TOP_K: dict[str, Any] = {
    "rank": 64,
    "max_iter": 15,
    "reg_param": 40.0,
    "implicit_prefs": True,
    "alpha": 1.0,
}
_FORMAT = 1
_FACTORS, _META = "factors.npz", "meta.json"


class ALSRecommender(Params):
    """Implicit-feedback ALS on one machine; fit / predict / recommend / save / load.

    Args:
        rank: latent factors.
        max_iter: alternations.
        reg_param: L2 regularisation (not scaled by the number of ratings: see the module
            docstring).
        implicit_prefs: must be True to train (explicit ratings: train on the Spark engine);
            a model converted from Spark by :func:`~recommenders_kit.models.als.to_pandas`
            keeps the Spark model's value.
        alpha: confidence ``1 + alpha * rating`` of an observed pair.
        seed: seeds the factors' initialisation.
        cold_start_strategy: ``"drop"`` or ``"nan"``: what :meth:`predict` does with a pair
            whose user or item was not in training.
        col_user, col_item, col_rating, col_prediction: column names (integer ids).
        num_threads: solver threads (0: all cores). With 1 thread a fixed seed gives the same
            factors on every run.
        progress: show a progress bar over the iterations.
    """

    def __init__(
        self,
        rank: int = 10,
        max_iter: int = 15,
        reg_param: float = 0.05,
        implicit_prefs: bool = True,
        alpha: float = 1.0,
        seed: int = DEFAULT_SEED,
        cold_start_strategy: str = "drop",
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
        num_threads: int = 0,
        progress: bool = False,
    ):
        check_params(rank, max_iter, reg_param, alpha, cold_start_strategy)
        if isinstance(num_threads, bool) or not isinstance(num_threads, int) or num_threads < 0:
            raise InputError(f"num_threads must be an int >= 0, got {num_threads!r}")
        self.rank, self.max_iter, self.reg_param = rank, max_iter, reg_param
        self.implicit_prefs, self.alpha, self.seed = implicit_prefs, alpha, seed
        self.cold_start_strategy = cold_start_strategy
        self.col_user, self.col_item = col_user, col_item
        self.col_rating, self.col_prediction = col_rating, col_prediction
        self.num_threads, self.progress = num_threads, progress
        self.model: Factors | None = None
        self.seen: sparse.csr_matrix | None = None
        self.fingerprint: Fingerprint | None = None

    # ------------------------------------------------------------ training

    def fit(self, train: pd.DataFrame) -> ALSRecommender:
        """Train on ``train`` (user, item, rating); returns ``self``."""
        quiet_third_party_bars()
        from implicit.cpu.als import AlternatingLeastSquares
        from threadpoolctl import threadpool_limits

        if not self.implicit_prefs:
            raise InputError(
                "implicit_prefs=False: the one-machine engine trains on implicit feedback "
                "only; for explicit ratings use recommenders_kit.models.als.spark (a model "
                "trained there can still be scored here: recommenders_kit.models.als.to_pandas)"
            )
        users, items, checked = self._checked(train, with_rating=True)
        ratings = np.asarray(checked)
        user_ids, user_rows = np.unique(users, return_inverse=True)
        item_ids, item_cols = np.unique(items, return_inverse=True)
        # Spark's confidence: 1 + alpha |r| (a negative rating: disliked, with that confidence)
        confidence = np.sign(ratings) * (1 + self.alpha * np.abs(ratings))
        shape = (len(user_ids), len(item_ids))
        matrix = _csr(confidence.astype(np.float32), user_rows, item_cols, shape)
        matrix.eliminate_zeros()  # rating 0: no preference, as unobserved (Spark's p = 0, c = 1)
        # implicit's solver runs its own threads: BLAS threads inside them only compete
        with threadpool_limits(1, "blas"):
            solver = AlternatingLeastSquares(
                factors=self.rank,
                regularization=self.reg_param,
                alpha=1.0,
                iterations=self.max_iter,
                random_state=self.seed,
                num_threads=self.num_threads,
            )
            solver.fit(matrix, show_progress=self.progress)
        self.model = Factors(user_ids, item_ids, solver.user_factors, solver.item_factors)
        self.seen = _csr(np.ones(len(users), bool), user_rows, item_cols, shape).astype(bool)
        self.fingerprint = pandas_fingerprint(
            train[[self.col_user, self.col_item, self.col_rating]]
        )
        return self

    def set_seen(self, train: pd.DataFrame) -> ALSRecommender:
        """Replace the training pairs that ``remove_seen`` leaves out."""
        factors = require_fitted(self.model, self)
        users, items, _ = self._checked(train, with_rating=False)
        rows = np.searchsorted(factors.user_ids, users).clip(max=len(factors.user_ids) - 1)
        cols = np.searchsorted(factors.item_ids, items).clip(max=len(factors.item_ids) - 1)
        known = (factors.user_ids[rows] == users) & (factors.item_ids[cols] == items)
        shape = (len(factors.user_ids), len(factors.item_ids))
        self.seen = _csr(np.ones(known.sum(), bool), rows[known], cols[known], shape)
        return self

    # ------------------------------------------------------------ scoring

    def predict(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Scores for (user, item) ``pairs``: columns user, item, prediction.

        Pairs with a user or item unseen in training are dropped (``cold_start_strategy
        "drop"``) or scored NaN (``"nan"``).
        """
        factors = require_fitted(self.model, self)
        users, items, _ = self._checked(pairs, with_rating=False)
        rows = pd.Index(factors.user_ids).get_indexer(users)
        cols = pd.Index(factors.item_ids).get_indexer(items)
        known = (rows >= 0) & (cols >= 0)
        scores = np.full(len(users), np.nan, dtype=np.float32)
        scores[known] = np.einsum(
            "ij,ij->i", factors.user_factors[rows[known]], factors.item_factors[cols[known]]
        )
        out = pd.DataFrame(
            {self.col_user: users, self.col_item: items, self.col_prediction: scores}
        )
        return out[known].reset_index(drop=True) if self.cold_start_strategy == "drop" else out

    def recommend_k_items(
        self, users: Any = None, k: int = DEFAULT_K, remove_seen: bool = True
    ) -> pd.DataFrame:
        """The k best items per user.

        Args:
            users: a DataFrame with the user column (other columns ignored), or ids; None for
                every user seen in training.
            k: list length.
            remove_seen: leave out items the user rated in the training data.

        Returns:
            DataFrame (user, item, prediction), up to k rows per known user, per user best
            first, ties by item id; users in the order asked.
        """
        factors = require_fitted(self.model, self)
        require_positive_int(k, "k")
        require_seen(self.seen, remove_seen)
        if isinstance(users, pd.DataFrame):
            require_pandas_frame(users, [self.col_user], "users")
            users = users[self.col_user]
        seen = self.seen if remove_seen else None
        user_ids, item_ids, scores = factors.top_k(factors.user_rows(users), k, seen)
        return pd.DataFrame(
            {self.col_user: user_ids, self.col_item: item_ids, self.col_prediction: scores}
        )

    # ------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> str:
        """Write the folder ``path``: ``factors.npz`` (user and item ids, factor matrices,
        the training pairs as CSR arrays; numpy's format, no pickle) and ``meta.json``
        (format, parameters, training-data fingerprint). An existing folder is replaced only
        with ``overwrite``, and kept if the save fails
        (:func:`~recommenders_kit.models.persistence.replacing_folder`). Returns the folder."""
        factors = require_fitted(self.model, self)
        with replacing_folder(path, overwrite) as staging:
            arrays = {
                "user_ids": factors.user_ids,
                "item_ids": factors.item_ids,
                "user_factors": factors.user_factors,
                "item_factors": factors.item_factors,
            }
            if self.seen is not None:
                arrays.update(seen_indptr=self.seen.indptr, seen_indices=self.seen.indices)
            np.savez(staging / _FACTORS, **arrays)
            meta = {
                "format": _FORMAT,
                "engine": "implicit",
                "params": self.get_params(),
                "fingerprint": asdict(require_fitted(self.fingerprint, self)),
            }
            (staging / _META).write_text(json.dumps(meta, indent=2))
        return str(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> ALSRecommender:
        """Load a folder written by :meth:`save`; refuses a newer format or a damaged file
        (:class:`~recommenders_kit.errors.ModelFormatError`)."""
        folder = Path(path)
        try:
            meta = json.loads((folder / _META).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ModelFormatError(f"{folder / _META}: not a saved ALS model ({e})") from None
        if meta.get("format", 0) > _FORMAT or meta.get("engine") != "implicit":
            raise ModelFormatError(
                f"{folder} holds format {meta.get('format')} ({meta.get('engine')}); this "
                f"recommenders_kit reads format {_FORMAT} (implicit): upgrade it"
            )
        obj = cls(**meta["params"])
        obj.model, obj.seen = _load_factors(folder / _FACTORS)
        obj.fingerprint = Fingerprint(**meta["fingerprint"])
        return obj

    # ------------------------------------------------------------ helpers

    def _checked(
        self, frame: pd.DataFrame, with_rating: bool
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """(user ids, item ids[, ratings]) after the checks a bad frame fails with."""
        rating = self.col_rating if with_rating else None
        return checked_ratings(frame, self.col_user, self.col_item, rating, "ALS", with_rating)


def _csr(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Any:
    """A (users x items) CSR matrix; duplicate pairs add up (as Spark ALS sums them)."""
    from scipy import sparse

    return sparse.csr_matrix((values, (rows, cols)), shape=shape)


def _load_factors(path: Path) -> tuple[Factors, sparse.csr_matrix | None]:
    """The factors and the training pairs (None if not saved) of a ``factors.npz``."""
    from scipy import sparse

    arrays = read_arrays(path)
    seen = None
    if "seen_indptr" in arrays:
        shape = (len(arrays["user_ids"]), len(arrays["item_ids"]))
        indices = arrays["seen_indices"]
        seen = sparse.csr_matrix(
            (np.ones(len(indices), bool), indices, arrays["seen_indptr"]), shape=shape
        )
    factors = Factors(
        arrays["user_ids"], arrays["item_ids"], arrays["user_factors"], arrays["item_factors"]
    )
    return factors, seen
