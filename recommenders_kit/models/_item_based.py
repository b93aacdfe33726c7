"""What the item-based recommenders share (internal): popularity and EASE score a user's
items from the user's own training interactions,

    scores(user) = history(user) @ weights + bias

with ``history`` the user's weighted interaction row over the model's items, ``weights`` an
items x items matrix (EASE; none for popularity) and ``bias`` one score per item (popularity;
none for EASE). :class:`ItemScores` holds that fitted model as numpy, the same object on both
engines (the Spark twins aggregate it in the executors and keep it on the driver), and scores
users in blocks through :func:`~recommenders_kit.models._topk.top_k_scores`, the kernel ALS
ends in too. :class:`PandasItemRecommender` is the pandas twins' shared body; a model adds its
constructor and ``_item_scores``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommenders_kit._validate import (
    checked_ratings,
    require_choice,
    require_pandas_frame,
    require_positive_int,
)
from recommenders_kit.constants import DEFAULT_K
from recommenders_kit.errors import ModelFormatError
from recommenders_kit.models._topk import top_k_in_blocks
from recommenders_kit.models.base import Params, require_fitted
from recommenders_kit.models.fingerprint import Fingerprint, pandas_fingerprint
from recommenders_kit.models.persistence import read_arrays, replacing_folder

if TYPE_CHECKING:
    from scipy import sparse

#: How a training row counts: ``"binary"`` 1 for every (user, item) pair, ``"rating"`` its
#: rating (repeated pairs add up on both).
WEIGHTINGS = ("binary", "rating")
#: Users scored per block (a block's scores are a float32 users x items matrix).
USER_BLOCK = 2048
_FORMAT = 1
_ARRAYS, _META = "arrays.npz", "meta.json"


@dataclass(frozen=True)
class ItemScores:
    """A fitted item-based model as numpy: ``item_ids`` (sorted int64), ``weights`` (items x
    items float32, or None) and ``bias`` (one float32 per item, or None)."""

    item_ids: np.ndarray
    weights: np.ndarray | None
    bias: np.ndarray | None

    def scores(self, history: sparse.csr_matrix) -> np.ndarray:
        """The users x items float32 scores of users with these interaction rows."""
        if self.weights is None:
            out = np.zeros((history.shape[0], len(self.item_ids)), np.float32)
        else:
            out = np.asarray(history @ self.weights, dtype=np.float32)
        if self.bias is not None:
            out += self.bias
        return out

    def top_k(
        self, history: sparse.csr_matrix, seen: sparse.csr_matrix | None, k: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(user rows, item positions, scores) of the k best items of each row of
        ``history``, per user best first, ties by item id, the items marked in ``seen`` (rows
        aligned with ``history``) left out."""

        def block(at: slice) -> tuple[np.ndarray, sparse.csr_matrix | None]:
            return self.scores(history[at]), None if seen is None else seen[at]

        return top_k_in_blocks(history.shape[0], k, block, USER_BLOCK)

    def pair_scores(self, history: sparse.csr_matrix, items: np.ndarray) -> np.ndarray:
        """The score of item position ``items[i]`` for the user of ``history`` row ``i``."""
        out = np.zeros(len(items), np.float32)
        if self.weights is not None:
            for start in range(0, len(items), USER_BLOCK):
                rows = history[start : start + USER_BLOCK]
                cols = self.weights[:, items[start : start + USER_BLOCK]].T
                out[start : start + USER_BLOCK] = np.asarray(
                    rows.multiply(cols).sum(axis=1)
                ).ravel()
        if self.bias is not None:
            out += self.bias[items]
        return out


def check_weighting(weighting: str) -> None:
    require_choice(weighting, WEIGHTINGS, "weighting")


def csr(values: np.ndarray, rows: np.ndarray, cols: np.ndarray, shape: tuple[int, int]) -> Any:
    """A float32 CSR matrix; repeated (row, col) pairs add up."""
    from scipy import sparse

    return sparse.csr_matrix((values.astype(np.float32), (rows, cols)), shape=shape)


def positions(ids: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The position of each of ``values`` in the sorted ``ids``; -1 for a value not there."""
    at = np.searchsorted(ids, values).clip(max=len(ids) - 1)
    return np.where(ids[at] == values, at, -1)


def history_matrix(
    users: np.ndarray, items: np.ndarray, values: np.ndarray, item_ids: np.ndarray
) -> tuple[np.ndarray, Any]:
    """(user ids, users x ``item_ids`` float32 CSR of the weights): rows of items not in
    ``item_ids`` left out."""
    user_ids, rows = np.unique(users, return_inverse=True)
    cols = positions(item_ids, items)
    known = cols >= 0
    return user_ids, csr(values[known], rows[known], cols[known], (len(user_ids), len(item_ids)))


class ItemBasedParams(Params):
    """What an item-based recommender is on both engines: ``KIND`` (the name its saved
    folders carry), its weighting and columns (set by the model's constructor, which ends by
    calling :meth:`_init_state`), and whether users absent from training get recommendations
    (from the bias alone)."""

    KIND = ""
    weighting: str
    col_user: str
    col_item: str
    col_rating: str
    col_prediction: str
    scores_unknown_users = False

    def _init_state(self) -> None:
        """Set the fitted state to None (each engine's body)."""
        raise NotImplementedError


class PandasItemRecommender(ItemBasedParams):
    """The pandas body of an item-based recommender: fit / predict / recommend / save /
    load; a model adds its parameters (:class:`ItemBasedParams`) and :meth:`_item_scores`."""

    def _init_state(self) -> None:
        self.model: ItemScores | None = None
        self.seen: sparse.csr_matrix | None = None  # users x items: the weighted history
        self.user_ids: np.ndarray | None = None
        self.fingerprint: Fingerprint | None = None

    def _item_scores(self, history: sparse.csr_matrix, item_ids: np.ndarray) -> ItemScores:
        """The fitted model from the users x items weighted training matrix."""
        raise NotImplementedError

    # ------------------------------------------------------------ training

    def fit(self, train: pd.DataFrame) -> Any:
        """Train on ``train``: (user, item) rows, and the rating with ``weighting="rating"``;
        returns ``self``."""
        rated = self.weighting == "rating"
        users, items, ratings = checked_frame(self, train, with_rating=rated, training=True)
        item_ids = np.unique(items)
        values = np.ones(len(users)) if ratings is None else ratings
        self.user_ids, self.seen = history_matrix(users, items, values, item_ids)
        self.model = self._item_scores(self.seen, item_ids)
        columns = [self.col_user, self.col_item] + ([self.col_rating] if rated else [])
        self.fingerprint = pandas_fingerprint(train[columns])
        return self

    def set_seen(self, train: pd.DataFrame) -> Any:
        """Replace the training rows users are scored from (and that ``remove_seen`` leaves
        out); items the model does not know are ignored."""
        model = require_fitted(self.model, self)
        users, items, ratings = checked_frame(self, train, with_rating=self.weighting == "rating")
        values = np.ones(len(users)) if ratings is None else ratings
        self.user_ids, self.seen = history_matrix(users, items, values, model.item_ids)
        return self

    # ------------------------------------------------------------ scoring

    def _history(self, users: np.ndarray) -> tuple[np.ndarray, sparse.csr_matrix]:
        """(known, history rows) of ``users``: which have a training history, and their rows
        (empty rows for the others)."""
        from scipy import sparse

        user_ids = require_fitted(self.user_ids, self)
        seen = require_fitted(self.seen, self)
        rows = pd.Index(user_ids).get_indexer(users)
        known = rows >= 0
        history = sparse.vstack([seen, sparse.csr_matrix((1, seen.shape[1]), dtype=np.float32)])
        return known, history.tocsr()[np.where(known, rows, seen.shape[0])]

    def predict(self, pairs: pd.DataFrame) -> pd.DataFrame:
        """Scores for (user, item) ``pairs``: columns user, item, prediction; pairs whose
        item (or, for a model that needs a history, user) was not in training are dropped."""
        model = require_fitted(self.model, self)
        users, items, _ = checked_frame(self, pairs, with_rating=False)
        known_users, history = self._history(users)
        cols = pd.Index(model.item_ids).get_indexer(items)
        keep = (cols >= 0) & (known_users | self.scores_unknown_users)
        scores = model.pair_scores(history[keep], cols[keep])
        return pd.DataFrame(
            {self.col_user: users[keep], self.col_item: items[keep], self.col_prediction: scores}
        )

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
            DataFrame (user, item, prediction), up to k rows per user, per user best first,
            ties by item id; users in the order asked (each once).
        """
        model = require_fitted(self.model, self)
        require_positive_int(k, "k")
        if users is None:
            wanted = require_fitted(self.user_ids, self)
        else:
            if isinstance(users, pd.DataFrame):
                require_pandas_frame(users, [self.col_user], "users")
                users = users[self.col_user]
            wanted = pd.unique(np.asarray(users, dtype=np.int64))
        known, history = self._history(wanted)
        if not self.scores_unknown_users:
            wanted, history = wanted[known], history[known]
        rows, items, scores = model.top_k(history, history if remove_seen else None, k)
        return pd.DataFrame(
            {
                self.col_user: wanted[rows],
                self.col_item: model.item_ids[items],
                self.col_prediction: scores,
            }
        )

    # ------------------------------------------------------------ persistence

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> str:
        """Write the folder ``path``: ``arrays.npz`` (the model's arrays and the weighted
        training matrix; numpy's format, no pickle) and ``meta.json`` (format, kind,
        parameters, fingerprint). An existing folder is replaced only with ``overwrite``, and
        kept if the save fails. Returns the folder."""
        model = require_fitted(self.model, self)
        seen = require_fitted(self.seen, self)
        with replacing_folder(path, overwrite) as staging:
            arrays: dict[str, Any] = dict(_arrays(model, seen, self.user_ids))
            np.savez(staging / _ARRAYS, **arrays)
            meta = {
                "format": _FORMAT,
                "kind": self.KIND,
                "params": self.get_params(),
                "fingerprint": asdict(require_fitted(self.fingerprint, self)),
            }
            (staging / _META).write_text(json.dumps(meta, indent=2))
        return str(path)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Any:
        """Load a folder written by :meth:`save`; refuses another kind, a newer format or a
        damaged file (:class:`~recommenders_kit.errors.ModelFormatError`)."""
        folder = Path(path)
        try:
            meta = json.loads((folder / _META).read_text())
        except (OSError, json.JSONDecodeError) as e:
            raise ModelFormatError(
                f"{folder / _META}: not a saved {cls.KIND} model ({e})"
            ) from None
        if meta.get("format", 0) > _FORMAT or meta.get("kind") != cls.KIND:
            raise ModelFormatError(
                f"{folder} holds a {meta.get('kind')} model of format {meta.get('format')}; "
                f"this recommenders_kit reads {cls.KIND} format {_FORMAT}"
            )
        obj = cls(**meta["params"])
        obj.model, obj.seen, obj.user_ids = _load_arrays(folder / _ARRAYS)
        obj.fingerprint = Fingerprint(**meta["fingerprint"])
        return obj


def checked_frame(
    model: Any, frame: pd.DataFrame, with_rating: bool, training: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(user ids, item ids[, ratings]) of ``frame`` after the checks a bad frame fails with
    (:func:`~recommenders_kit._validate.checked_ratings`)."""
    rating = model.col_rating if with_rating else None
    name = type(model).__name__
    return checked_ratings(frame, model.col_user, model.col_item, rating, name, training)


def _arrays(
    model: ItemScores, seen: sparse.csr_matrix, user_ids: np.ndarray | None
) -> Iterator[tuple[str, np.ndarray]]:
    yield "item_ids", model.item_ids
    if model.weights is not None:
        yield "weights", model.weights
    if model.bias is not None:
        yield "bias", model.bias
    yield "user_ids", np.asarray(user_ids)
    yield from (("seen_" + name, getattr(seen, name)) for name in ("indptr", "indices", "data"))


def _load_arrays(path: Path) -> tuple[ItemScores, sparse.csr_matrix, np.ndarray]:
    from scipy import sparse

    arrays = read_arrays(path)
    model = ItemScores(arrays["item_ids"], arrays.get("weights"), arrays.get("bias"))
    shape = (len(arrays["user_ids"]), len(arrays["item_ids"]))
    seen = sparse.csr_matrix(
        (arrays["seen_data"], arrays["seen_indices"], arrays["seen_indptr"]), shape=shape
    )
    return model, seen, arrays["user_ids"]
