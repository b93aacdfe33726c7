"""The Criteo feature encoder's engine-free part: settings, the fitted statistics, and the pure
functions that encode with them (internal).

The fitted state is one frozen value, :class:`EncoderStats`: the settings that shape the
output (numeric columns, methods, smoothing), the training click rate, and per categorical
column its kept values with their rows and clicks (:class:`ColumnStats`). Encoding is a pure
function of that value and the input columns: :func:`encode_positions` (the kernel both
engines run: pandas on the whole frame through :func:`encode_frame`, Spark on each Arrow
batch inside the executors), :func:`encode_records` for a handful of raw rows. Both engines
learn the statistics the same way: rows and clicks per (column, value, fold) of blocks of
rows, added up (pandas: :class:`StatsSum`; Spark: :func:`partial_stats` of each partition,
summed by Spark), then :func:`fitted_stats` keeps the frequent values.
"""

from __future__ import annotations

import dataclasses
import functools
import json
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_choice, require_columns, require_positive_int
from recommenders_kit.constants import DEFAULT_LABEL_COL, DEFAULT_SEED
from recommenders_kit.datasets.criteo import CAT_COLS, INT_COLS
from recommenders_kit.errors import InputError, ModelFormatError
from recommenders_kit.models.base import Params, require_fitted

METHODS = ("ordinal", "count", "target")
SUFFIX = {"ordinal": "", "count": "_count", "target": "_te"}
_FORMAT = 2
E = TypeVar("E", bound="EncoderBase")
#: One categorical column's summed training statistics: its values (None: missing), then rows
#: and clicks per (value, fold), one matrix row per value.
Summary = tuple[np.ndarray, np.ndarray, np.ndarray]
#: Each row's position among a column's kept values (-1: rare, unseen or missing), and the
#: missing mask.
Positions = tuple[np.ndarray, np.ndarray]


@dataclasses.dataclass(frozen=True)
class ColumnStats:
    """One categorical column's fitted statistics: its kept values (seen at least
    ``min_count`` times, most frequent first, as strings), the training rows and clicks of
    each, and the rows and clicks of its missing values."""

    values: tuple[str, ...]
    counts: tuple[int, ...]
    clicks: tuple[float, ...]
    missing: tuple[int, float]

    @functools.cached_property
    def index(self) -> pd.Index:
        """The kept values as an index (position = ordinal code - 1)."""
        return pd.Index(self.values, dtype=object)

    @functools.cached_property
    def lookup(self) -> dict[str, int]:
        """Value -> position, for row-at-a-time lookups."""
        return {value: i for i, value in enumerate(self.values)}

    @functools.cached_property
    def rows(self) -> np.ndarray:
        """Training rows per position, then 0 for rare and unseen values."""
        return np.append(np.asarray(self.counts, dtype=np.float64), 0.0)

    @functools.cached_property
    def hits(self) -> np.ndarray:
        """Clicks per position, then 0."""
        return np.append(np.asarray(self.clicks, dtype=np.float64), 0.0)

    def to_dict(self) -> dict[str, Any]:
        return {
            "values": list(self.values),
            "counts": list(self.counts),
            "clicks": list(self.clicks),
            "missing": list(self.missing),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ColumnStats:
        rows, clicks = data["missing"]
        return cls(
            tuple(data["values"]), tuple(data["counts"]), tuple(data["clicks"]), (rows, clicks)
        )


@dataclasses.dataclass(frozen=True)
class EncoderStats:
    """What encoding needs, fixed by ``fit``: the output's shape (``numeric_cols``,
    ``methods``, ``smoothing``), the training click rate ``prior`` and each categorical
    column's :class:`ColumnStats`, in column order.

    ``folds`` (per column: rows and clicks per (kept value, fold)) is there only right after
    a fit, for the out-of-fold target encoding of the training rows; it is neither saved nor
    compared.
    """

    numeric_cols: tuple[str, ...]
    methods: tuple[str, ...]
    smoothing: float
    prior: float
    columns: Mapping[str, ColumnStats]
    folds: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = dataclasses.field(
        default=None, compare=False, repr=False
    )

    @property
    def feature_names(self) -> list[str]:
        """Output columns, in order: numeric, then per method the encoded categoricals."""
        return feature_names(self.numeric_cols, tuple(self.columns), self.methods)

    @functools.cached_property
    def features(self) -> dict[str, dict[str, tuple[np.ndarray, float]]]:
        """Per column and method: (the feature per position, then the rare/unseen one; the
        feature of a missing value)."""
        m, prior = self.smoothing, self.prior
        out = {}
        for col, st in self.columns.items():
            rate = (st.hits + m * prior) / (st.rows + m)
            rate[-1] = prior
            out[col] = {
                "ordinal": (np.append(np.arange(1.0, len(st.rows)), 0.0), np.nan),
                "count": (st.rows, np.nan),
                "target": (rate, prior),
            }
        return out

    def to_json(self, config: Mapping[str, Any]) -> str:
        """The JSON of an encoder with the settings ``config`` and these statistics."""
        stats = {col: st.to_dict() for col, st in self.columns.items()}
        return json.dumps(
            {"format": _FORMAT, "config": config, "prior": self.prior, "stats": stats}
        )


def feature_names(
    numeric_cols: Sequence[str], categorical_cols: Sequence[str], methods: Sequence[str]
) -> list[str]:
    """The encoded columns: numeric, then per method the encoded categoricals."""
    return list(numeric_cols) + [c + SUFFIX[m] for m in methods for c in categorical_cols]


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

    The fitted state is :attr:`stats`, an :class:`EncoderStats` (None before ``fit``).
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
        self.stats: EncoderStats | None = None

    # ------------------------------------------------------------ names

    @property
    def feature_names(self) -> list[str]:
        """Output columns, in order: numeric, then per method the encoded categoricals."""
        return feature_names(self.numeric_cols, self.categorical_cols, self.methods)

    @property
    def categorical_features(self) -> list[str]:
        """Output columns to declare categorical to LightGBM (the ordinal codes)."""
        return list(self.categorical_cols) if "ordinal" in self.methods else []

    @property
    def training_columns(self) -> list[str]:
        """What a fit reads besides the inputs: the label, and the fold column if any."""
        return [self.col_label] + ([self.col_fold] if self.col_fold else [])

    @property
    def fold_count(self) -> int:
        """The folds a fit sums statistics over: ``n_folds`` with target encoding, else 1."""
        return self.n_folds if "target" in self.methods else 1

    @property
    def cardinality(self) -> int:
        """The largest number of ordinal codes of a column (kept values + the rare code 0)."""
        stats = require_fitted(self.stats, self)
        return max((len(s.values) + 1 for s in stats.columns.values()), default=0)

    # ------------------------------------------------------------ checks

    def check_labels(self, labels: pd.Series | np.ndarray) -> None:
        """``InputError`` unless every label is 0 or 1."""
        bad = [v for v in pd.unique(labels) if v not in (0, 1)]
        if bad:
            raise InputError(f"{self.col_label} must hold only 0 and 1, found {bad[:5]}")

    def check_folds(self, folds: np.ndarray) -> np.ndarray:
        """The folds as int64, or ``InputError`` unless each is in 0 .. n_folds - 1."""
        if not np.isin(folds, np.arange(self.n_folds)).all():
            raise InputError(f"{self.col_fold} must hold integers 0 .. {self.n_folds - 1}")
        return folds.astype(np.int64)

    def require_inputs(self, columns: Sequence[str], with_label: bool) -> list[str]:
        """The columns encoding reads (and the label), or ``InputError`` naming those missing."""
        cols = self.categorical_cols + self.numeric_cols + ([self.col_label] if with_label else [])
        require_columns(columns, cols, "data")
        return cols

    # ------------------------------------------------------------ encoding

    def transform_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The feature matrix of raw rows given as mappings (``None`` or NaN for missing):
        the numbers of ``transform(pd.DataFrame(records))``, columns in
        :attr:`feature_names` order, without building a DataFrame (:func:`encode_records`:
        the path for a scoring request's handful of rows)."""
        return encode_records(require_fitted(self.stats, self), records)

    # ------------------------------------------------------------ persistence

    def to_json(self) -> str:
        """The settings and fitted statistics as a JSON string."""
        stats = require_fitted(self.stats, self)
        config = {k: list(v) if isinstance(v, tuple) else v for k, v in self.get_params().items()}
        return stats.to_json(config)

    @classmethod
    def from_json(cls: type[E], text: str) -> E:
        """Rebuild a fitted encoder from :meth:`to_json` output (either engine's)."""
        data = json.loads(text)
        config = data.get("config", {})
        if data.get("format") == 1:  # written by 0.1: the column keywords were *_col
            config["col_label"] = config.pop("label_col")
            config["col_fold"] = config.pop("fold_col")
        elif data.get("format") != _FORMAT:
            raise ModelFormatError("not a recommenders_kit FeatureEncoder JSON (format 1 or 2)")
        encoder = cls(**config)
        columns = {c: ColumnStats.from_dict(data["stats"][c]) for c in encoder.categorical_cols}
        encoder.stats = encoder.fitted(float(data["prior"]), columns)
        return encoder

    def fitted(
        self,
        prior: float,
        columns: Mapping[str, ColumnStats],
        folds: Mapping[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> EncoderStats:
        """The :class:`EncoderStats` of these settings with the given statistics."""
        return EncoderStats(
            tuple(self.numeric_cols), self.methods, self.smoothing, prior, dict(columns), folds
        )


def fitted_stats(
    encoder: EncoderBase, columns: Mapping[str, Summary], n_rows: int, clicks: float
) -> EncoderStats:
    """The fitted state from each categorical column's summed :data:`Summary`: the values
    seen at least ``min_count`` times, most frequent first (ties by value)."""
    if not n_rows:
        raise InputError("train is empty")
    stats, folds = {}, {}
    for col in encoder.categorical_cols:
        values, size, hits = columns[col]
        missing = pd.isna(values)
        total, total_hits = size.sum(axis=1), hits.sum(axis=1)
        kept = np.flatnonzero(~missing & (total >= encoder.min_count))
        kept = kept[np.lexsort((values[kept], -total[kept]))]
        stats[col] = ColumnStats(
            tuple(values[kept].tolist()),
            tuple(total[kept].astype(int).tolist()),
            tuple(total_hits[kept].astype(float).tolist()),
            (int(total[missing].sum()), float(total_hits[missing].sum())),
        )
        folds[col] = (size[kept], hits[kept])
    return encoder.fitted(float(clicks / n_rows), stats, folds)


# ---------------------------------------------------------------- encoding (pure functions)


def encode_positions(
    stats: EncoderStats,
    numeric: Mapping[str, Any],
    positions: Mapping[str, Positions],
    folds: np.ndarray | None,
) -> dict[str, np.ndarray]:
    """The kernel both engines run: every feature column, in ``stats.feature_names`` order,
    from the numeric columns (array-likes, NaN: missing) and each categorical column's
    :data:`Positions` (every method reads the same position). ``folds`` (one per row) asks
    for the out-of-fold target encoding of training rows (``stats.folds`` must be there)."""
    out = {c: np.asarray(numeric[c], dtype=np.float64) for c in stats.numeric_cols}
    for col in stats.columns:
        index, missing = positions[col]
        for method in stats.methods:
            name = col + SUFFIX[method]
            if method == "target" and folds is not None:
                out[name] = _target_out_of_fold(stats, col, index, folds)
            else:
                features, if_missing = stats.features[col][method]
                out[name] = np.where(missing, if_missing, features[index])
    return {name: out[name] for name in stats.feature_names}


def encode_frame(stats: EncoderStats, data: pd.DataFrame, folds: np.ndarray | None) -> pd.DataFrame:
    """:func:`encode_positions` of a pandas frame: each distinct value is looked up once."""
    numeric = {c: pd.to_numeric(data[c], errors="raise") for c in stats.numeric_cols}
    positions = {c: frame_positions(stats.columns[c], *value_codes(data[c])) for c in stats.columns}
    return pd.DataFrame(encode_positions(stats, numeric, positions, folds), index=data.index)


def frame_positions(column: ColumnStats, codes: np.ndarray, labels: np.ndarray) -> Positions:
    """:data:`Positions` from a column's values as ``codes`` (-1: missing) into ``labels``
    (the distinct values, as strings; see :func:`value_codes`)."""
    position = column.index.get_indexer(labels)
    missing = codes < 0
    index = np.where(missing, -1, position[np.maximum(codes, 0)] if len(labels) else -1)
    return index, missing


def encode_records(stats: EncoderStats, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
    """The feature matrix of raw rows given as mappings (``None`` or NaN for missing): the
    numbers of ``encode_frame(stats, pd.DataFrame(records), None).to_numpy()``, columns in
    ``stats.feature_names`` order, without building a DataFrame (for a handful of rows,
    pandas' per-call cost would be more than the encoding itself)."""
    inputs = list(stats.numeric_cols) + list(stats.columns)
    for i, record in enumerate(records):
        absent = [c for c in inputs if c not in record]
        if absent:
            raise InputError(f"record {i} lacks column(s) {absent}")
    names = stats.feature_names
    x = np.empty((len(records), len(names)))
    column = {name: j for j, name in enumerate(names)}
    for c in stats.numeric_cols:
        x[:, column[c]] = [np.nan if is_missing(r[c]) else float(r[c]) for r in records]
    for col, st in stats.columns.items():  # look each value up once, then apply every method
        index = [None if is_missing(r[col]) else st.lookup.get(str(r[col]), -1) for r in records]
        for method in stats.methods:  # index None: missing; -1: rare or unseen
            features, if_missing = stats.features[col][method]
            x[:, column[col + SUFFIX[method]]] = [
                if_missing if i is None else features[i] for i in index
            ]
    return x


def _target_out_of_fold(
    stats: EncoderStats, col: str, index: np.ndarray, folds: np.ndarray
) -> np.ndarray:
    """Training rows' target encoding: the value's statistics over the other folds."""
    if stats.folds is None:
        raise InputError("out-of-fold target encoding needs the statistics of a fit")
    m, prior, st = stats.smoothing, stats.prior, stats.columns[col]
    fold_rows, fold_clicks = stats.folds[col]
    known = index >= 0
    value, fold = index[known], folds[known]
    rows = st.rows[value] - fold_rows[value, fold]
    hits = st.hits[value] - fold_clicks[value, fold]
    out = np.full(len(index), prior)
    # a value seen only in the row's own fold (rows = 0) with no smoothing gets the prior
    with np.errstate(divide="ignore", invalid="ignore"):
        out[known] = np.where(rows + m > 0, (hits + m * prior) / (rows + m), prior)
    return out


# ---------------------------------------------------------------- statistics of blocks of rows


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
        """The sum, per column, as :func:`fitted_stats` takes it."""
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


# ---------------------------------------------------------------- values


def is_missing(value: Any) -> bool:
    """None, NaN or ``pd.NA``: what pandas would read as missing in a record."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


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
