"""EASE on Spark: the executors aggregate the Gram matrix (each partition of users' ``X^T X``
as one sparse product in scipy, the partitions' products added band of rows by band of rows),
the driver solves the inverse (the one place an items x items matrix is built), the
executors score blocks of users.

The Spark twin of :mod:`recommenders_kit.models.ease.pandas`: the same weights and lists up
to float ties. The model and its memory limit: :mod:`recommenders_kit.models.ease`; the
weights are broadcast to the executors (``4 n^2`` bytes).

Example::

    from recommenders_kit.models.ease.spark import EASERecommender
    top10 = EASERecommender(lam=500.0).fit(train_sdf).recommend_k_items(test_sdf, k=10)
"""

from __future__ import annotations

import functools
import itertools
import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from recommenders_kit.models._item_based import ItemScores, history_matrix
from recommenders_kit.models._item_based_spark import SparkItemRecommender
from recommenders_kit.models.ease import (
    RECOMMENDED_TOP_K,
    EASEParams,
    check_item_count,
    ease_weights,
)
from recommenders_kit.spark import small_to_pandas

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

__all__ = ["RECOMMENDED_TOP_K", "EASERecommender"]

#: Values in a dense band of the Gram matrix (16 MB of float64): the unit the executors add.
_BAND_VALUES = 1 << 21
_BAND_SCHEMA = "band int, indptr array<int>, indices array<int>, data array<double>"


class EASERecommender(EASEParams, SparkItemRecommender):
    """EASE on Spark; fit / predict / recommend / save / load (parameters:
    :class:`~recommenders_kit.models.ease.EASEParams`)."""

    def _item_scores(self, data: SparkDataFrame, item_ids: np.ndarray) -> ItemScores:
        check_item_count(len(item_ids), self.max_items)
        n = len(item_ids)
        rows = _band_rows(n)
        # each user's rows in one partition, whose users' X^T X is one sparse product; its
        # bands of rows are added up band by band in the executors
        partial = data.repartition("u").mapInArrow(
            functools.partial(_partial_bands, item_ids, rows), _BAND_SCHEMA
        )
        summed = partial.repartition("band").sortWithinPartitions("band")
        bands = small_to_pandas(summed.mapInArrow(functools.partial(_sum_bands, n), _BAND_SCHEMA))
        dense = np.zeros((n, n))
        for band in bands.itertuples(index=False):
            start = band.band * rows
            dense[start : start + len(band.indptr) - 1] = _band(band, n).toarray()
        return ItemScores(item_ids, ease_weights(dense, self.lam), None)


def _band_rows(n_items: int) -> int:
    """Rows of the Gram matrix per band: about :data:`_BAND_VALUES` values when dense."""
    return max(1, _BAND_VALUES // n_items)


def _band(row: Any, n_items: int) -> Any:
    """The float64 CSR band of a (band, indptr, indices, data) row."""
    from scipy import sparse

    arrays = (np.asarray(row.data), np.asarray(row.indices), np.asarray(row.indptr))
    return sparse.csr_matrix(arrays, shape=(len(arrays[2]) - 1, n_items))


def _band_batch(band: int, matrix: Any) -> Any:
    """One (band, indptr, indices, data) row of a CSR band."""
    import pyarrow as pa

    columns = [
        pa.array([band], pa.int32()),
        pa.array([matrix.indptr], pa.list_(pa.int32())),
        pa.array([matrix.indices], pa.list_(pa.int32())),
        pa.array([matrix.data], pa.list_(pa.float64())),
    ]
    return pa.RecordBatch.from_arrays(columns, names=["band", "indptr", "indices", "data"])


def _partial_bands(item_ids: np.ndarray, rows: int, batches: Any) -> Any:
    """mapInArrow: ``X^T X`` of one partition's users (all their rows are in it), as its
    nonzero bands of ``rows`` rows (float64 CSR), computed one band at a time; the history
    matrix as the pandas twin builds it (a user's repeated pairs summed)."""
    import pyarrow as pa

    batches = [batch for batch in batches if batch.num_rows]
    if not batches:
        return
    table = pa.Table.from_batches(batches)
    users, items, weights = (table.column(name).to_numpy() for name in ("u", "i", "w"))
    _, history = history_matrix(users, items, weights, item_ids)
    x = history.astype(np.float64)
    columns = x.tocsc()
    for band, start in enumerate(range(0, len(item_ids), rows)):
        part = (columns[:, start : start + rows].T @ x).tocsr()
        if part.nnz:
            yield _band_batch(band, part)


def _sum_bands(n_items: int, batches: Any) -> Any:
    """mapInArrow over rows sorted by band: each band's sum, one band in memory at a time."""
    rows = (row for batch in batches for row in batch.to_pandas().itertuples(index=False))
    for band, group in itertools.groupby(rows, key=operator.attrgetter("band")):
        total = functools.reduce(operator.add, (_band(row, n_items) for row in group))
        yield _band_batch(band, total.tocsr())
