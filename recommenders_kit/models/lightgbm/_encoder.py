"""The Criteo feature encoder's engine-free part: settings, fitted statistics, JSON, and the
numpy kernel that encodes a pandas frame or plain records (internal).

The pandas twin (:class:`recommenders_kit.models.lightgbm.pandas.FeatureEncoder`) runs the
kernel on the whole frame; the Spark twin runs the same kernel on each Arrow batch inside the
executors, so both engines write the same numbers. Statistics are learned the same way by
both: rows and clicks per (column, value, fold) of blocks of rows, added up (pandas:
:class:`StatsSum`; Spark: :func:`partial_stats` of each partition, summed by Spark), then
:meth:`EncoderBase._set_stats` turns the sums into the fitted state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, TypeVar

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_choice, require_columns, require_positive_int
from recommenders_kit.constants import DEFAULT_LABEL_COL, DEFAULT_SEED
from recommenders_kit.datasets.criteo import CAT_COLS, INT_COLS
from recommenders_kit.errors import InputError
from recommenders_kit.models.base import Params, require_fitted

METHODS = ("ordinal", "count", "target")
SUFFIX = {"ordinal": "", "count": "_count", "target": "_te"}
_FORMAT = 2
E = TypeVar("E", bound="EncoderBase")
#: One categorical column's summed training statistics: its values (None: missing), then rows
#: and clicks per (value, fold), one matrix row per value.
Summary = tuple[np.ndarray, np.ndarray, np.ndarray]


class EncoderBase(Params):
    """Settings and fitted statistics of a feature encoder (see the twins for the API).

    Args:
        categorical_cols, numeric_cols: input columns (default: the Criteo schema).
        col_label: the 0/1 click label (needed by ``target`` and checked by ``fit``).
        methods: any of ``"ordinal"``, ``"count"``, ``"target"``.
        min_count: values seen fewer times in training are "rare".
        n_folds, smoothing, seed: out-of-fold target encoding.
        col_fold: optional column holding each training row's fold (0 .. n_folds-1); without
            it folds are drawn at random with ``seed``.
    """

    def __init__(
        self,
        categorical_cols: Sequence[str] = CAT_COLS,
        numeric_cols: Sequence[str] = INT_COLS,
        col_label: str = DEFAULT_LABEL_COL,
        methods: Sequence[str] = ("ordinal",),
        min_count: int = 10,
        n_folds: int = 5,
        smoothing: float = 20.0,
        seed: int = DEFAULT_SEED,
        col_fold: str | None = None,
    ):
        methods = tuple(methods)
        if not methods:
            raise InputError("methods must name at least one of " + ", ".join(METHODS))
        for m in methods:
            require_choice(m, METHODS, "methods")
        require_positive_int(min_count, "min_count")
        require_positive_int(n_folds, "n_folds")
        if "target" in methods and n_folds < 2:
            raise InputError("n_folds must be >= 2 for target encoding")
        if not smoothing >= 0:
            raise InputError(f"smoothing must be >= 0, got {smoothing}")
        self.categorical_cols = list(categorical_cols)
        self.numeric_cols = list(numeric_cols)
        self.col_label = col_label
        self.methods = methods
        self.min_count, self.n_folds, self.smoothing = min_count, n_folds, float(smoothing)
        self.seed, self.col_fold = seed, col_fold
        self.stats: dict[str, dict[str, Any]] | None = None
        self.prior: float | None = None
        # (rows, clicks) per (kept value, fold) of each column in the last fit: what the
        # out-of-fold target encoding of the training rows needs (not saved)
        self._fold_stats: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._tables: tuple[Any, dict[str, _Table]] = (None, {})

    # ------------------------------------------------------------ names

    @property
    def feature_names(self) -> list[str]:
        """Output columns, in order: numeric, then per method the encoded categoricals."""
        return self.numeric_cols + [
            c + SUFFIX[m] for m in self.methods for c in self.categorical_cols
        ]

    @property
    def categorical_features(self) -> list[str]:
        """Output columns to declare categorical to LightGBM (the ordinal codes)."""
        return list(self.categorical_cols) if "ordinal" in self.methods else []

    @property
    def cardinality(self) -> int:
        """The largest number of ordinal codes of a column (kept values + the rare code 0)."""
        stats = require_fitted(self.stats, self)
        return max((len(s["values"]) + 1 for s in stats.values()), default=0)

    # ------------------------------------------------------------ fitting

    def _set_stats(self, columns: Mapping[str, Summary], n_rows: int, clicks: float) -> None:
        """The fitted state from each categorical column's summed :data:`Summary`, keeping
        the values seen at least ``min_count`` times, most frequent first."""
        if not n_rows:
            raise InputError("train is empty")
        self.prior = float(clicks / n_rows)
        self.stats, self._fold_stats = {}, {}
        for col in self.categorical_cols:
            values, size, hits = columns[col]
            missing = pd.isna(values)
            total, total_hits = size.sum(axis=1), hits.sum(axis=1)
            kept = np.flatnonzero(~missing & (total >= self.min_count))
            kept = kept[np.lexsort((values[kept], -total[kept]))]
            self.stats[col] = {
                "values": values[kept].tolist(),
                "counts": total[kept].astype(int).tolist(),
                "clicks": total_hits[kept].astype(float).tolist(),
                "missing": [int(total[missing].sum()), float(total_hits[missing].sum())],
            }
            self._fold_stats[col] = (size[kept], hits[kept])

    def _check_labels(self, labels: pd.Series | np.ndarray) -> None:
        bad = [v for v in pd.unique(labels) if v not in (0, 1)]
        if bad:
            raise InputError(f"{self.col_label} must hold only 0 and 1, found {bad[:5]}")

    # ------------------------------------------------------------ encoding

    def _encode_frame(self, data: pd.DataFrame, folds: np.ndarray | None) -> pd.DataFrame:
        """The feature frame of ``data``; ``folds`` (one per row) asks for the out-of-fold
        target encoding of training rows, from the fold statistics of the last fit."""
        numeric = {c: pd.to_numeric(data[c], errors="raise") for c in self.numeric_cols}
        codes = {c: value_codes(data[c]) for c in self.categorical_cols}
        return pd.DataFrame(self._encode_columns(numeric, codes, folds), index=data.index)

    def _encode_columns(
        self,
        numeric: Mapping[str, Any],
        codes: Mapping[str, tuple[np.ndarray, np.ndarray]],
        folds: np.ndarray | None,
    ) -> dict[str, np.ndarray]:
        """:meth:`_encode_positions` of each categorical column's ``(codes, labels)`` (see
        :func:`value_codes`): each distinct value is looked up once."""
        positions = {c: self._positions(c, *codes[c]) for c in self.categorical_cols}
        return self._encode_positions(numeric, positions, folds)

    def _positions(
        self, col: str, codes: np.ndarray, labels: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """(each row's position among the column's kept values, -1 when rare, unseen or
        missing; the missing mask) from its values as ``codes`` (-1: missing) into
        ``labels`` (the distinct values, as strings)."""
        position = self._table(col).index.get_indexer(labels)
        missing = codes < 0
        index = np.where(missing, -1, position[np.maximum(codes, 0)] if len(labels) else -1)
        return index, missing

    def _encode_positions(
        self,
        numeric: Mapping[str, Any],
        positions: Mapping[str, tuple[np.ndarray, np.ndarray]],
        folds: np.ndarray | None,
    ) -> dict[str, np.ndarray]:
        """The kernel both engines run: every feature column, in :attr:`feature_names`
        order, from the numeric columns (array-likes, NaN: missing) and each categorical
        column's :meth:`_positions` (every method reads the same position)."""
        require_fitted(self.stats, self)
        out = {c: np.asarray(numeric[c], dtype=np.float64) for c in self.numeric_cols}
        for col in self.categorical_cols:
            index, missing = positions[col]
            table = self._table(col)
            for method in self.methods:
                name = col + SUFFIX[method]
                if method == "target" and folds is not None:
                    out[name] = self._target_oof(col, table, index, folds)
                else:
                    features, if_missing = table.features[method]
                    out[name] = np.where(missing, if_missing, features[index])
        return {name: out[name] for name in self.feature_names}

    def transform_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The feature matrix of raw rows given as mappings (``None`` or NaN for missing):
        the numbers of ``transform(pd.DataFrame(records)).to_numpy()``, columns in
        :attr:`feature_names` order, without building a DataFrame.

        The path for small batches (a scoring request), where pandas' per-call overhead
        would cost more than the encoding itself.
        """
        require_fitted(self.stats, self)
        columns = self.numeric_cols + self.categorical_cols
        for i, record in enumerate(records):
            absent = [c for c in columns if c not in record]
            if absent:
                raise InputError(f"record {i} lacks column(s) {absent}")
        # plain Python per value: for a handful of rows numpy's per-call cost would dominate
        x = np.empty((len(records), len(self.feature_names)))
        column = {name: j for j, name in enumerate(self.feature_names)}
        for c in self.numeric_cols:
            x[:, column[c]] = [np.nan if is_missing(r[c]) else float(r[c]) for r in records]
        for col in self.categorical_cols:  # look each value up once, then apply every method
            table = self._table(col)
            index = [
                None if is_missing(r[col]) else table.positions.get(str(r[col]), -1)
                for r in records
            ]  # None: missing; -1: rare or unseen
            for method in self.methods:
                features, if_missing = table.features[method]
                x[:, column[col + SUFFIX[method]]] = [
                    if_missing if i is None else features[i] for i in index
                ]
        return x

    def _table(self, col: str) -> _Table:
        """The column's fitted statistics as lookup structures, built once per fit or load
        (a one-row scoring request would otherwise rebuild a hash table of every value)."""
        stats, tables = self._tables
        if stats is not self.stats:
            stats, tables = self.stats, {}
            self._tables = (stats, tables)
        if col not in tables:
            tables[col] = _Table.build(require_fitted(self.stats, self)[col], self)
        return tables[col]

    def _target_oof(
        self, col: str, table: _Table, index: np.ndarray, folds: np.ndarray
    ) -> np.ndarray:
        """Training rows' target encoding: the value's statistics over the other folds."""
        m, prior = self.smoothing, float(require_fitted(self.prior, self))
        fold_rows, fold_clicks = self._fold_stats[col]
        known = index >= 0
        value, fold = index[known], folds[known]
        rows = table.counts[value] - fold_rows[value, fold]
        hits = table.clicks[value] - fold_clicks[value, fold]
        out = np.full(len(index), prior)
        # a value seen only in the row's own fold (rows = 0) with no smoothing gets the prior
        with np.errstate(divide="ignore", invalid="ignore"):
            out[known] = np.where(rows + m > 0, (hits + m * prior) / (rows + m), prior)
        return out

    def _check_folds(self, folds: np.ndarray) -> np.ndarray:
        if not np.isin(folds, np.arange(self.n_folds)).all():
            raise InputError(f"{self.col_fold} must hold integers 0 .. {self.n_folds - 1}")
        return folds.astype(np.int64)

    # ------------------------------------------------------------ persistence

    def to_json(self) -> str:
        """The settings and fitted statistics as a JSON string."""
        require_fitted(self.stats, self)
        config = {k: list(v) if isinstance(v, tuple) else v for k, v in self.get_params().items()}
        return json.dumps(
            {"format": _FORMAT, "config": config, "prior": self.prior, "stats": self.stats}
        )

    @classmethod
    def from_json(cls: type[E], text: str) -> E:
        """Rebuild a fitted encoder from :meth:`to_json` output (either engine's)."""
        data = json.loads(text)
        config = data.get("config", {})
        if data.get("format") == 1:  # written by 0.1: the column keywords were *_col
            config["col_label"] = config.pop("label_col")
            config["col_fold"] = config.pop("fold_col")
        elif data.get("format") != _FORMAT:
            raise InputError("not a recommenders_kit FeatureEncoder JSON (format 1 or 2)")
        encoder = cls(**config)
        encoder.prior, encoder.stats = data["prior"], data["stats"]
        return encoder

    def _require_columns(self, columns: Sequence[str], with_label: bool) -> list[str]:
        cols = self.categorical_cols + self.numeric_cols + ([self.col_label] if with_label else [])
        require_columns(columns, cols, "data")
        return cols


def stats_fields(n_folds: int) -> list[tuple[str, str]]:
    """(name, type) of the columns of :func:`partial_stats` rows: column and value (string;
    value None: missing), then rows (``size0`` ..., long) and clicks (``clicks0`` ...,
    double) per fold."""
    sizes = [(f"size{f}", "long") for f in range(n_folds)]
    clicks = [(f"clicks{f}", "double") for f in range(n_folds)]
    return [("col", "string"), ("v", "string"), *sizes, *clicks]


def partial_stats(
    columns: Mapping[str, tuple[np.ndarray, np.ndarray]],
    label: np.ndarray,
    folds: np.ndarray | None,
    n_folds: int,
) -> pd.DataFrame:
    """Rows and clicks per fold of each (column, value) of a block of training rows, as
    :func:`stats_fields` rows: one per value seen (value None: missing), the folds side by
    side (``folds`` None: all in fold 0). ``columns`` maps each categorical column to its
    ``(codes, labels)`` (see :func:`value_codes`). Summaries of disjoint blocks add up to
    the summary of their union."""
    parts = []
    for col, (codes, labels) in columns.items():
        size, clicks = _value_counts(codes, len(labels), label, folds, n_folds)
        seen = size.sum(axis=1) > 0
        part: dict[str, Any] = {
            "col": col,
            "v": np.append(labels, np.array([None], dtype=object))[seen],
        }
        part |= {f"size{f}": size[seen, f].astype(np.int64) for f in range(n_folds)}
        part |= {f"clicks{f}": clicks[seen, f] for f in range(n_folds)}
        parts.append(pd.DataFrame(part))
    return pd.concat(parts, ignore_index=True)


class StatsSum:
    """Rows and clicks per (column, value, fold) of blocks of rows, added up as the blocks
    come: a streaming fit holds one entry per (column, value, fold), never the rows.

    ``n_folds``: the folds the blocks' ``folds`` arrays number (1 without target encoding).
    """

    def __init__(self, categorical_cols: Sequence[str], n_folds: int):
        self.n_folds, self.n_rows, self.clicks = n_folds, 0, 0.0
        empty = np.zeros((0, n_folds))
        # per column: (values, rows and clicks per (value, fold), the same for missing)
        self._cols = {
            c: (
                pd.Index([], dtype=object),
                empty,
                empty,
                np.zeros((1, n_folds)),
                np.zeros((1, n_folds)),
            )
            for c in categorical_cols
        }

    def add(
        self,
        columns: Mapping[str, tuple[np.ndarray, np.ndarray]],
        label: np.ndarray,
        folds: np.ndarray | None,
    ) -> None:
        """Add a block: ``columns`` as in :func:`partial_stats`, its labels and folds."""
        self.n_rows += len(label)
        self.clicks += float(label.sum())
        for col, (codes, labels) in columns.items():
            index, size, clicks, miss_size, miss_clicks = self._cols[col]
            new_size, new_clicks = _value_counts(codes, len(labels), label, folds, self.n_folds)
            position = index.get_indexer(labels)
            unseen = position < 0
            if unseen.any():
                position[unseen] = len(index) + np.arange(unseen.sum())
                index = index.append(pd.Index(labels[unseen], dtype=object))
                grow = np.zeros((int(unseen.sum()), self.n_folds))
                size, clicks = np.vstack([size, grow]), np.vstack([clicks, grow])
            size[position] += new_size[:-1]
            clicks[position] += new_clicks[:-1]
            miss_size += new_size[-1:]
            miss_clicks += new_clicks[-1:]
            self._cols[col] = (index, size, clicks, miss_size, miss_clicks)

    def columns(self) -> dict[str, Summary]:
        """The sum, per column, as :meth:`EncoderBase._set_stats` takes it."""
        return {
            col: (
                np.append(index.to_numpy(dtype=object), np.array([None], dtype=object)),
                np.vstack([size, miss_size]),
                np.vstack([clicks, miss_clicks]),
            )
            for col, (index, size, clicks, miss_size, miss_clicks) in self._cols.items()
        }


def _value_counts(
    codes: np.ndarray, n_labels: int, label: np.ndarray, folds: np.ndarray | None, n_folds: int
) -> tuple[np.ndarray, np.ndarray]:
    """Rows and clicks per (code, fold), shape ``(n_labels + 1, n_folds)``; the last row
    counts the missing values (code -1)."""
    keys = np.where(codes < 0, n_labels, codes) * n_folds
    if folds is not None:
        keys = keys + folds
    length = (n_labels + 1) * n_folds
    size = np.bincount(keys, minlength=length).astype(np.float64)
    clicks = np.bincount(keys, weights=label, minlength=length)
    return size.reshape(-1, n_folds), clicks.reshape(-1, n_folds)


class _Table(NamedTuple):
    index: pd.Index  # the kept values (as strings), position = code - 1
    positions: dict[str, int]  # the same as a dict, for row-at-a-time lookups
    counts: np.ndarray  # training rows per value, then 0 for rare/unseen
    clicks: np.ndarray  # clicks per value, then 0
    # per method: (feature per position, then the rare/unseen feature; the missing feature)
    features: dict[str, tuple[np.ndarray, float]]

    @classmethod
    def build(cls, st: dict[str, Any], encoder: EncoderBase) -> _Table:
        counts = np.asarray(st["counts"] + [0], dtype=np.float64)
        clicks = np.asarray(st["clicks"] + [0.0], dtype=np.float64)
        m, prior = encoder.smoothing, float(encoder.prior or 0.0)
        rate = (clicks + m * prior) / (counts + m)
        rate[-1] = prior
        features = {
            "ordinal": (np.append(np.arange(1.0, len(counts)), 0.0), np.nan),
            "count": (counts, np.nan),
            "target": (rate, prior),
        }
        positions = {value: i for i, value in enumerate(st["values"])}
        return cls(pd.Index(st["values"]), positions, counts, clicks, features)


def is_missing(value: Any) -> bool:
    """None, NaN or ``pd.NA``: what pandas would read as missing in a record."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def arrow_codes(column: Any) -> tuple[np.ndarray, np.ndarray]:
    """:func:`value_codes` of a pyarrow string array (the Spark path's Arrow batches):
    dictionary-encoded in Arrow, so each distinct value becomes a Python string once."""
    encoded = column.dictionary_encode()
    if hasattr(encoded, "combine_chunks"):
        encoded = encoded.combine_chunks()
    codes = encoded.indices.fill_null(-1).to_numpy().astype(np.int64)
    labels = np.asarray(encoded.dictionary.to_pylist(), dtype=object)
    return codes, labels


def arrow_positions(column: Any, kept: Any) -> tuple[np.ndarray, np.ndarray]:
    """:meth:`EncoderBase._positions` of a pyarrow string array, ``kept`` the column's kept
    values as a pyarrow array: looked up by Arrow's own hash table, no value ever becomes a
    Python string."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if kept.type != column.type:
        kept = kept.cast(column.type)
    index = pc.index_in(column, value_set=kept).fill_null(-1).to_numpy(zero_copy_only=False)
    missing = column.is_null().to_numpy(zero_copy_only=False)
    return index.astype(np.int64), missing


def value_codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(integer code per row, -1 when missing; the codes' values as strings).

    A ``category`` column uses its own codes; anything else is factorized. Values are
    compared as strings, as Spark's ``cast("string")`` writes them.
    """
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy().astype(np.int64)
        labels = column.cat.categories
    else:
        codes, labels = pd.factorize(column, use_na_sentinel=True)
        codes = codes.astype(np.int64)
    return codes, np.asarray(labels.astype(str), dtype=object)
