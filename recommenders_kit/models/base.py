"""The shape every model of the library has: two protocols, parameters and one fitted-check.

A model is a class with its constructor keywords spelled out (``help()`` and IDEs show them),
``get_params()`` returning them, ``fit`` returning ``self``, ``save(path, overwrite=False)``
returning where it wrote (an existing destination is replaced only when asked), and
``load(path)`` as a class method. Two kinds:

* :class:`Recommender` (collaborative filtering): ``fit(train)`` on (user, item, rating) rows,
  ``predict(pairs)`` scores (user, item) pairs, ``recommend_k_items(users, k, remove_seen)``
  returns the frame ``(col_user, col_item, col_prediction)`` with up to k rows per user, best
  first;
* :class:`ClickModel` (content-based): ``fit(train, valid)`` on labelled feature rows,
  ``predict_proba(data)`` click probabilities, ``evaluate(data)`` AUC and logloss,
  ``feature_importance()``.

The pandas and Spark twins of a model take and return the DataFrames of their engine; the rest
is the same. The pandas click model also takes parquet files bigger than memory wherever it
takes a frame (``fit``, ``predict_proba``, ``evaluate``), read a row group at a time.
``tests/unit/models/test_protocol.py`` checks every model class by behaviour.
"""

from __future__ import annotations

import inspect
import os
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import pandas as pd

PathLike = str | os.PathLike[str]


class NotFittedError(RuntimeError):
    """A model was used before ``fit`` or ``load``."""


class Params:
    """``get_params()`` from the constructor: each keyword is stored under its own name."""

    def get_params(self) -> dict[str, Any]:
        """The constructor keywords and their values (``type(model)(**model.get_params())``
        builds an unfitted copy)."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: getattr(self, name) for name in names if name != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def refuse_existing(folder: Path, overwrite: bool) -> None:
    """``FileExistsError`` if ``folder`` exists and ``overwrite`` is off (every ``save``)."""
    if folder.exists() and not overwrite:
        raise FileExistsError(f"{folder} already exists: pass overwrite=True to replace it")


def require_fitted(state: Any, model: object) -> Any:
    """``state`` (what ``fit`` or ``load`` set), or :class:`NotFittedError` naming the model."""
    if state is None:
        raise NotFittedError(
            f"the {type(model).__name__} is not fitted: call fit(train) or load(path) first"
        )
    return state


@runtime_checkable
class Recommender(Protocol):
    """A collaborative-filtering model (see the module docstring)."""

    col_user: str
    col_item: str
    col_rating: str
    col_prediction: str

    def get_params(self) -> dict[str, Any]: ...

    def fit(self, train: Any) -> Recommender: ...

    def predict(self, pairs: Any) -> Any: ...

    def recommend_k_items(
        self, users: Any = None, k: int = 10, remove_seen: bool = True
    ) -> Any: ...

    def save(self, path: PathLike, overwrite: bool = False) -> str: ...

    @classmethod
    def load(cls, path: PathLike) -> Recommender: ...


@runtime_checkable
class ClickModel(Protocol):
    """A click-probability model (see the module docstring)."""

    def get_params(self) -> dict[str, Any]: ...

    def fit(self, train: Any, valid: Any = None) -> ClickModel: ...

    def predict_proba(self, data: Any) -> Any: ...

    def evaluate(self, data: Any) -> dict[str, float]: ...

    def feature_importance(self, importance_type: str = "gain") -> pd.Series: ...

    def save(self, path: PathLike, overwrite: bool = False) -> str: ...

    @classmethod
    def load(cls, path: PathLike) -> ClickModel: ...
