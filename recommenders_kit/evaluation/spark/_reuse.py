"""Results computed from two Spark frames, kept for the next call on the same two frames.

The metric functions are called one by one (``precision_at_k(test, top_k)``, then
``recall_at_k(test, top_k)``, ...). Each family computes all its metrics in one job; this
module keeps that job's result so the next call on the same two DataFrame *objects* with the
same arguments runs no Spark job. A result is reused only while the data under both frames is
known unchanged (:func:`recommenders_kit.spark.source_files`: rows Spark holds, or files whose
listing is the same; Spark refreshes a listing when it overwrites the files). A frame over any
other source computes every time. A result goes when either frame is garbage-collected.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from recommenders_kit.spark import source_files

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

Sources = tuple[tuple[str, ...] | None, ...]


def reused(
    rating_true: SparkDataFrame,
    rating_pred: SparkDataFrame,
    args: tuple[Hashable, ...],
    compute: Callable[[], dict[str, Any]],
) -> dict[str, Any]:
    """``compute()``'s result for these two frames and ``args`` (which must name everything
    else the result depends on, the function first): the kept one when it is known to be the
    same, else computed now (outside the lock: Spark jobs of other threads run meanwhile).

    Example::

        sums = reused(test, top_k, ("ranking", k, ...), lambda: run_the_job(test, top_k))
    """
    key = (id(rating_true), id(rating_pred), *args)
    sources = (source_files(rating_true), source_files(rating_pred))
    with _lock:
        for gone in [known for known, kept in _kept.items() if not kept.alive()]:
            del _kept[gone]
        entry = _kept.get(key)
    if entry is not None and entry.serves(rating_true, rating_pred, sources):
        return entry.result
    result = compute()
    if None not in sources:
        with _lock:
            _kept[key] = _Kept(weakref.ref(rating_true), weakref.ref(rating_pred), sources, result)
    return result


@dataclass(frozen=True)
class _Kept:
    """A result, the two frames it came from and what they read then."""

    rating_true: weakref.ref[SparkDataFrame]
    rating_pred: weakref.ref[SparkDataFrame]
    sources: Sources
    result: dict[str, Any]

    def alive(self) -> bool:
        """Whether both frames still exist."""
        return None not in (self.rating_true(), self.rating_pred())

    def serves(
        self, rating_true: SparkDataFrame, rating_pred: SparkDataFrame, sources: Sources
    ) -> bool:
        """Whether the result is of exactly these frames over the same data."""
        same = self.rating_true() is rating_true and self.rating_pred() is rating_pred
        return same and sources == self.sources


#: results by (frame ids, arguments)
_kept: dict[tuple[Hashable, ...], _Kept] = {}
_lock = threading.Lock()
