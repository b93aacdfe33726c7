"""What the Spark feature encoder runs inside the executors: ``mapInArrow`` functions over Arrow
batches, and the Arrow lookups they use (internal).

* :func:`summarize`: a partition's training statistics (:func:`~._encoder.partial_stats`
  rows, one per (column, value) with the folds side by side), summed by Spark afterwards;
* :func:`encode_batches`: the batches with their encoded features, by the engine-free kernel
  :func:`~._encoder.encode_positions`, so both engines write the same numbers. Categorical
  values are never turned into Python strings: they are looked up among the kept values by
  Arrow's own hash table (:func:`arrow_positions`).

Each Python worker rebuilds the fitted statistics once from their JSON (:func:`worker_stats`)
and reuses them for every batch and task it runs.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from recommenders_kit.models.lightgbm._encoder import (
    EncoderBase,
    EncoderStats,
    encode_positions,
    partial_stats,
    stats_fields,
)

#: The column holding each row's fold (fit, and encoding of training rows).
FOLD = "_fold"
#: Rows encoded at a time: Arrow hashes the kept values on every lookup, whatever the number
#: of rows, so batches are gathered into runs of at least this many rows.
LOOKUP_ROWS = 200_000


def arrow_codes(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`~._encoder.value_codes` of a pyarrow string array: dictionary-encoded in Arrow,
    so each distinct value becomes a Python string once."""
    encoded = column.dictionary_encode()
    if hasattr(encoded, "combine_chunks"):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    labels = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    return codes, labels


def arrow_positions(column: Any, kept: Any) -> tuple[np.ndarray, np.ndarray]:
    """:data:`~._encoder.Positions` of a pyarrow string array, ``kept`` the column's kept
    values as a pyarrow array: looked up by Arrow's own hash table."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if kept.type != column.type:
        kept = kept.cast(column.type)
    index = pc.index_in(column, value_set=kept).fill_null(-1).to_numpy(zero_copy_only=False)
    missing = column.is_null().to_numpy(zero_copy_only=False)
    return index.astype(np.int64), missing


def summarize(cats: list[str], label: str, width: int, batches: Iterator[Any]) -> Iterator[Any]:
    """mapInArrow: a partition's :func:`~._encoder.partial_stats` rows (``width`` folds side
    by side) of the categorical columns ``cats`` (strings), the 0/1 ``label`` and the
    :data:`FOLD` column, whose values the fit has already checked."""
    import pyarrow as pa

    partition = list(batches)  # the whole partition: one summary row per value, not per batch
    if not partition:
        return
    table = pa.Table.from_batches(partition)
    y = table.column(label).to_numpy().astype(np.float64)
    folds = table.column(FOLD).to_numpy().astype(np.int64)
    columns = {c: arrow_codes(table.column(c)) for c in cats}
    stats = partial_stats(columns, y, folds, width)
    arrow = {"string": pa.string(), "long": pa.int64(), "double": pa.float64()}
    schema = pa.schema([(name, arrow[kind]) for name, kind in stats_fields(width)])
    yield pa.RecordBatch.from_pandas(stats, schema=schema, preserve_index=False)


@functools.lru_cache(maxsize=4)
def worker_stats(text: str) -> tuple[EncoderStats, dict[str, Any]]:
    """The fitted statistics of an encoder's JSON, rebuilt once per Python worker, with each
    column's kept values as an Arrow array (reused by every batch and task it runs)."""
    import pyarrow as pa

    stats = EncoderBase.from_json(text).stats
    assert stats is not None  # from_json always sets it
    kept = {c: pa.array(st.values, pa.string()) for c, st in stats.columns.items()}
    return stats, kept


def encode_batches(
    text: str,
    folds: Mapping[str, tuple[np.ndarray, np.ndarray]] | None,
    names: list[str],
    batches: Iterator[Any],
) -> Iterator[Any]:
    """mapInArrow: the batches (columns ``names``, the encoded ones added) with their
    features encoded by the statistics of the encoder JSON ``text``, as many and as long as
    they came; ``folds`` (the fit's statistics per fold) asks for the out-of-fold target
    encoding of training rows by their :data:`FOLD` column."""
    import pyarrow as pa

    stats, kept = worker_stats(text)
    if folds is not None:
        stats = dataclasses.replace(stats, folds=folds)
    for sizes, batch in _gathered(batches, LOOKUP_ROWS):
        row_folds = None if folds is None else batch.column(FOLD).to_numpy().astype(np.int64)
        numeric = {c: batch.column(c).to_numpy(zero_copy_only=False) for c in stats.numeric_cols}
        positions = {c: arrow_positions(batch.column(c), kept[c]) for c in kept}
        features = encode_positions(stats, numeric, positions, row_folds)
        arrays = [pa.array(features[n]) if n in features else batch.column(n) for n in names]
        out = pa.RecordBatch.from_arrays(arrays, names=names)
        for start, size in zip(np.cumsum([0, *sizes[:-1]]), sizes, strict=True):
            yield out.slice(int(start), size)


def _gathered(batches: Iterator[Any], rows: int) -> Iterator[tuple[list[int], Any]]:
    """:func:`_joined` runs of consecutive batches of at least ``rows`` rows (the last run
    may be shorter; empty batches are dropped)."""
    run: list[Any] = []
    count = 0
    for batch in batches:
        if batch.num_rows:
            run.append(batch)
            count += batch.num_rows
        if count >= rows:
            yield _joined(run)
            run, count = [], 0
    if run:
        yield _joined(run)


def _joined(run: list[Any]) -> tuple[list[int], Any]:
    """(the batches' sizes, one batch of all their rows)."""
    import pyarrow as pa

    return [b.num_rows for b in run], pa.Table.from_batches(run).combine_chunks().to_batches()[0]
