"""Per-user top-k lists as documents: the one format every top-k store reads and writes.

A list is stored as the document ::

    {"id": "<user>|<model_version>", "userId": "<user>", "model_version": "<version>",
     "items": [{"itemId": 50, "score": 0.93, "rank": 1}, ...], "updated_at": "<ISO 8601>"}

``userId`` is always a string (the partition key in Cosmos DB: one type whatever the source
frame held); ``itemId`` keeps the item's JSON type (integer ids stay integers).

:func:`topk_documents` builds them from a pandas frame of (user, item, score) rows.
:class:`TopKStore` is what a store offers readers (``get``, ``get_many``):
:class:`LocalTopKStore` serves documents from a JSON-lines file (no database needed) and
:class:`recommenders_kit.storage.cosmos.RecommendationStore` from Cosmos DB; the scoring
service takes either.

Example:
    >>> recs = pd.DataFrame({"userID": [1, 1], "itemID": [10, 20], "prediction": [0.9, 0.5]})
    >>> topk_documents(recs, "v1", updated_at="2026-01-01T00:00:00+00:00")[0]["items"]
    [{'itemId': 10, 'score': 0.9, 'rank': 1}, {'itemId': 20, 'score': 0.5, 'rank': 2}]
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_pandas_frame, require_positive_int
from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError

_VERSION = re.compile(r"^[A-Za-z0-9._-]{1,100}$")


def check_model_version(model_version: str) -> str:
    """A model version is 1-100 characters of letters, digits, ``.``, ``_`` and ``-``."""
    if not isinstance(model_version, str) or not _VERSION.match(model_version):
        raise InputError(
            f"model_version must be 1-100 letters, digits, '.', '_' or '-'; got {model_version!r}"
        )
    return model_version


def document_id(user: Any, model_version: str) -> str:
    """The document id of ``user``'s list for ``model_version``."""
    return f"{user}|{model_version}"


def now_iso() -> str:
    """The current UTC time in ISO 8601 (seconds)."""
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _json_scalar(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def make_document(
    user: Any, items: Iterable[tuple[Any, float]], model_version: str, updated_at: str
) -> dict[str, Any]:
    """One user's document from ``(item, score)`` pairs already in rank order."""
    return {
        "id": document_id(user, model_version),
        "userId": str(user),
        "model_version": model_version,
        "items": [
            {"itemId": _json_scalar(item), "score": float(score), "rank": rank}
            for rank, (item, score) in enumerate(items, start=1)
        ],
        "updated_at": updated_at,
    }


def topk_documents(
    recommendations: pd.DataFrame,
    model_version: str,
    *,
    k: int | None = None,
    updated_at: str | None = None,
    col_user: str = DEFAULT_USER_COL,
    col_item: str = DEFAULT_ITEM_COL,
    col_prediction: str = DEFAULT_PREDICTION_COL,
) -> list[dict[str, Any]]:
    """One document per user, items by descending score (ties by item), at most ``k`` each."""
    require_pandas_frame(recommendations, [col_user, col_item, col_prediction], "recommendations")
    check_model_version(model_version)
    if k is not None:
        require_positive_int(k, "k")
    updated_at = updated_at or now_iso()
    ordered = recommendations.sort_values(
        [col_user, col_prediction, col_item], ascending=[True, False, True], kind="stable"
    )
    users = ordered[col_user].to_numpy()
    items = ordered[col_item].to_numpy()
    scores = ordered[col_prediction].to_numpy(dtype=np.float64)
    if np.isnan(scores).any():
        raise InputError(f"column {col_prediction!r} holds missing scores")
    starts = (
        np.flatnonzero(np.r_[True, users[1:] != users[:-1]]) if len(users) else np.array([], int)
    )
    ends = np.r_[starts[1:], len(users)]
    docs = []
    for s, e in zip(starts, ends, strict=True):
        e = e if k is None else min(e, s + k)
        docs.append(
            make_document(
                users[s], zip(items[s:e], scores[s:e], strict=True), model_version, updated_at
            )
        )
    return docs


def popular_items(model: Any, k: int) -> list[dict[str, Any]]:
    """The ``k`` most popular items of a fitted
    :class:`~recommenders_kit.models.popularity.pandas.PopularityRecommender` (either engine)
    as list entries: what the serving bundle answers users without a list of their own.

    >>> from recommenders_kit.models.popularity.pandas import PopularityRecommender
    >>> ratings = pd.DataFrame({"userID": [1, 2, 3, 1], "itemID": [5, 5, 5, 3]})
    >>> popular_items(PopularityRecommender().fit(ratings), 2)
    [{'itemId': 5, 'score': 0.75, 'rank': 1}, {'itemId': 3, 'score': 0.25, 'rank': 2}]
    """
    popular = model.popular(k)
    if not isinstance(popular, pd.DataFrame):  # the Spark twin's
        popular = popular.toPandas()
    items, scores = popular[model.col_item], popular[model.col_prediction]
    return [
        {"itemId": _json_scalar(item), "score": float(score), "rank": rank}
        for rank, (item, score) in enumerate(zip(items, scores, strict=True), start=1)
    ]


@runtime_checkable
class TopKStore(Protocol):
    """What the scoring service reads top-k documents from. A store that cannot answer
    raises :class:`StoreUnavailableError` (never hangs: it bounds its own wait)."""

    def get(self, user: Any, model_version: str) -> dict[str, Any] | None:
        """``user``'s document for ``model_version``, or None."""

    def get_many(self, users: Iterable[Any], model_version: str) -> dict[str, dict[str, Any]]:
        """Documents of the users that have one, keyed by ``userId`` (a string)."""


class LocalTopKStore:
    """A :class:`TopKStore` of documents held in memory, loaded from / saved to a JSON-lines
    file."""

    def __init__(self, documents: Iterable[dict[str, Any]] = ()):
        self._docs = {doc["id"]: doc for doc in documents}

    @classmethod
    def load(cls, path: str | Path) -> LocalTopKStore:
        path = Path(path)
        docs = []
        with path.open(encoding="utf-8") as f:
            for line_no, line in enumerate(f, start=1):
                if line.strip():
                    try:
                        docs.append(json.loads(line))
                    except json.JSONDecodeError as e:
                        raise InputError(
                            f"{path}, line {line_no}: not a JSON document ({e})"
                        ) from None
        return cls(docs)

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        with tmp.open("w", encoding="utf-8") as f:
            for doc in self._docs.values():
                f.write(json.dumps(doc, separators=(",", ":")) + "\n")
        tmp.replace(path)
        return path

    def __len__(self) -> int:
        return len(self._docs)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self._docs.values())

    def get(self, user: Any, model_version: str) -> dict[str, Any] | None:
        """``user``'s document for ``model_version``, or None."""
        return self._docs.get(document_id(user, model_version))

    def get_many(self, users: Iterable[Any], model_version: str) -> dict[str, dict[str, Any]]:
        """Documents of the users that have one, keyed by ``userId`` (a string)."""
        found = (self.get(u, model_version) for u in users)
        return {doc["userId"]: doc for doc in found if doc is not None}
