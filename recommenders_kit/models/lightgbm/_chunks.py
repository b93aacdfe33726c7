"""Training and scoring on parquet files bigger than memory, a row group at a time (internal).

LightGBM builds a ``Dataset`` from :class:`lightgbm.Sequence` objects in two passes: it reads
a sample of rows (``bin_construct_sample_cnt``, 200,000 by default) to find the bins, then
every row in order, in batches, which it bins and drops. :func:`dataset` gives it one sequence
per row-group piece of :class:`~recommenders_kit.datasets.parquet.ParquetRows`, each encoded
on first use by the fitted encoder; only the last encoded piece is kept, so memory holds one
piece of float64 features plus LightGBM's binned data (one byte per feature and row for up to
255 bins), never the raw rows. The sample and the bins are the ones LightGBM would find on
the same rows as one matrix, so the model is the same as the in-memory one's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import lightgbm as lgb
import numpy as np

from recommenders_kit._progress import progress_bar
from recommenders_kit.datasets.parquet import ParquetRows, Piece
from recommenders_kit.models.base import require_fitted
from recommenders_kit.models.lightgbm._encoder import EncoderBase, encode_frame


def dataset(
    rows: ParquetRows,
    encoder: EncoderBase,
    folds: list[np.ndarray | None],
    params: dict[str, Any],
    reference: lgb.Dataset | None = None,
    progress: bool = True,
) -> lgb.Dataset:
    """A constructed LightGBM ``Dataset`` of ``rows`` encoded by the fitted ``encoder``
    (``folds``: per piece, for out-of-fold target encoding of training rows). ``params``:
    the training parameters (the bins, the sampling seed and the pre-filter depend on them,
    as they would when ``lightgbm.train`` constructs the Dataset)."""
    pieces = rows.pieces()
    with progress_bar(2 * len(pieces), "building dataset", "piece", progress) as bar:
        cache = _EncodedPieces(rows, pieces, encoder, folds, bar.update)
        return lgb.Dataset(
            [_Piece(cache, i, len(piece)) for i, piece in enumerate(pieces)],
            label=rows.column(encoder.col_label, dtype=np.float32),
            feature_name=encoder.feature_names,
            categorical_feature=encoder.categorical_features,
            reference=reference,
            params=params,
            free_raw_data=True,
        ).construct()


def predict(
    rows: ParquetRows,
    encoder: EncoderBase,
    predict_matrix: Callable[[np.ndarray], np.ndarray],
    progress: bool = True,
) -> np.ndarray:
    """``predict_matrix`` of each piece of ``rows`` encoded, concatenated (one piece in memory)."""
    out = []
    with progress_bar(len(rows), "scoring", "row", progress) as bar:
        for piece in rows.pieces():
            out.append(predict_matrix(_encode(rows, piece, encoder)))
            bar.update(len(piece))
    return np.concatenate(out) if out else np.empty(0)


def _encode(
    rows: ParquetRows, piece: Piece, encoder: EncoderBase, folds: np.ndarray | None = None
) -> np.ndarray:
    """One piece's feature matrix."""
    frame = rows.read(piece, encoder.categorical_cols + encoder.numeric_cols)
    stats = require_fitted(encoder.stats, encoder)
    return encode_frame(stats, frame, folds).to_numpy(dtype=np.float64)


class _EncodedPieces:
    """The encoded matrix of one piece at a time: encoded when first asked for, kept until
    another piece is (LightGBM reads the pieces in order, in each of its two passes)."""

    def __init__(
        self,
        rows: ParquetRows,
        pieces: list[Piece],
        encoder: EncoderBase,
        folds: list[np.ndarray | None],
        on_load: Callable[[int], Any],
    ):
        self.rows, self.pieces, self.encoder, self.folds = rows, pieces, encoder, folds
        self.on_load = on_load
        self._current: tuple[int, np.ndarray] | None = None

    def matrix(self, i: int) -> np.ndarray:
        if self._current is None or self._current[0] != i:
            self._current = None  # free the last piece before encoding the next
            x = _encode(self.rows, self.pieces[i], self.encoder, self.folds[i])
            self._current = (i, x)
            self.on_load(1)
        return self._current[1]


class _Piece(lgb.Sequence):
    """One piece's rows for LightGBM: ``piece[i]`` (a row) and ``piece[a:b]`` (a batch)."""

    def __init__(self, cache: _EncodedPieces, index: int, length: int):
        self.cache, self.index, self.length = cache, index, length
        self.batch_size = 65_536

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, idx: int | slice | list[int]) -> np.ndarray:
        return self.cache.matrix(self.index)[idx]
