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
After ``fit`` (or ``load``) both twins of a model hold their fitted state under the same
names: :data:`RECOMMENDER_STATE` and :data:`CLICK_MODEL_STATE`. Saving goes through
:mod:`recommenders_kit.models.persistence`, so a failed save never loses the model already
saved there, and ``load(save(model)).get_params() == model.get_params()``.
``tests/unit/models/test_protocol.py`` checks every model class by behaviour.
"""

from __future__ import annotations

import copy
import inspect
import os
from typing import Any, Protocol, TypeVar, runtime_checkable

import pandas as pd

from recommenders_kit.errors import NotFittedError

__all__ = [
    "CLICK_MODEL_STATE",
    "RECOMMENDER_STATE",
    "ClickModel",
    "NotFittedError",
    "Params",
    "PathLike",
    "Recommender",
    "clone",
    "require_fitted",
]

PathLike = str | os.PathLike[str]
#: What ``fit`` (or ``load``) sets on a recommender, the same names on both engines:
#: ``model`` (the engine's fitted model: :class:`~recommenders_kit.models.als._common.Factors`
#: on pandas, ``pyspark.ml.recommendation.ALSModel`` on Spark), ``seen`` (the training pairs
#: that ``remove_seen`` leaves out: a users x items CSR matrix on pandas, a DataFrame of
#: (user, item) on Spark) and ``fingerprint`` (size and hash of the training data).
RECOMMENDER_STATE = ("model", "seen", "fingerprint")
#: What ``fit`` (or ``load``) sets on a click model, the same names on both engines:
#: ``model`` (``lightgbm.Booster`` on pandas, SynapseML's ``LightGBMClassificationModel`` on
#: Spark), ``encoder`` (the fitted feature encoder) and ``meta``
#: (:class:`~recommenders_kit.models.lightgbm._common.ModelMeta`).
CLICK_MODEL_STATE = ("model", "encoder", "meta")
P = TypeVar("P", bound="Params")


class Params:
    """``get_params()`` from the constructor: each keyword is stored under its own name."""

    def get_params(self) -> dict[str, Any]:
        """The constructor keywords and their values, as copies: nested models (a click
        model's encoder) as unfitted clones, so ``type(model)(**model.get_params())`` builds
        an unfitted model that shares nothing with this one (see :func:`clone`)."""
        names = inspect.signature(type(self).__init__).parameters
        return {name: _copy(getattr(self, name)) for name in names if name != "self"}

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"


def clone(model: P) -> P:
    """An unfitted copy of ``model`` with the same parameters and nothing shared: fitting the
    copy (on other rows, in a sweep, in cross-validation) leaves ``model`` as it was.

    >>> from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
    >>> model = LightGBMClickModel(num_boost_round=5)
    >>> copy = clone(model)
    >>> copy.get_params()["num_boost_round"], copy.encoder is model.encoder
    (5, False)
    """
    return type(model)(**model.get_params())


def _copy(value: Any) -> Any:
    return clone(value) if isinstance(value, Params) else copy.deepcopy(value)


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
    model: Any
    seen: Any
    fingerprint: Any

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

    model: Any
    encoder: Any
    meta: Any

    def get_params(self) -> dict[str, Any]: ...

    def fit(self, train: Any, valid: Any = None) -> ClickModel: ...

    def predict_proba(self, data: Any) -> Any: ...

    def evaluate(self, data: Any) -> dict[str, float]: ...

    def feature_importance(self, importance_type: str = "gain") -> pd.Series: ...

    def save(self, path: PathLike, overwrite: bool = False) -> str: ...

    @classmethod
    def load(cls, path: PathLike) -> ClickModel: ...
