"""Criteo feature encoding: fitted on the training split, applied anywhere (pandas or Spark).

:class:`FeatureEncoder` turns the 26 hashed categorical columns into numbers LightGBM can use,
with statistics learned from training rows only:

* ``ordinal``: each value seen at least ``min_count`` times gets a code ``1, 2, ...`` (most
  frequent first); rare and unseen values share code ``0``; missing stays missing (NaN,
  LightGBM's missing). Output column (float64 holding integer codes): the categorical
  column's own name, declared categorical to LightGBM.
* ``count``: how often the value occurs in training (``0`` for rare or unseen values, those
  under ``min_count``); missing stays NaN. Output column ``<col>_count``.
* ``target``: smoothed click rate of the value, ``(clicks + m * prior) / (rows + m)`` with
  ``m = smoothing``; out-of-fold on the training rows (each row's value comes from the other
  ``n_folds`` folds, so a row's own label never leaks into its feature); rare, unseen and
  missing values get the prior. Output column ``<col>_te``.

Numeric columns pass through as float64 with missing values as NaN (LightGBM's missing).

The fitted statistics are small (only values with ``min_count`` rows) and serialise to JSON
(:meth:`FeatureEncoder.to_json`), so the scoring service applies exactly what training used.
On Spark, :meth:`FeatureEncoder.fit_spark` computes them with one aggregation and
:meth:`FeatureEncoder.transform_spark` applies them with broadcast joins; the output equals the
pandas output on the same data (for ``target``, given the same ``fold_col``).

Example:
    >>> enc = FeatureEncoder(methods=("ordinal", "count"), min_count=5)  # doctest: +SKIP
    >>> train_x = enc.fit_transform(train)                                # doctest: +SKIP
    >>> test_x = enc.transform(test)                                      # doctest: +SKIP
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import pandas as pd

from recommenders_kit._validate import (
    require_choice,
    require_columns,
    require_pandas_frame,
    require_positive_int,
    require_spark_frame,
)
from recommenders_kit.constants import DEFAULT_LABEL_COL, DEFAULT_SEED
from recommenders_kit.datasets.criteo import CAT_COLS, INT_COLS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

METHODS = ("ordinal", "count", "target")
_SUFFIX = {"ordinal": "", "count": "_count", "target": "_te"}
_MISSING = "\x00missing"  # stands for a missing value in the Spark aggregation


class FeatureEncoder:
    """Encoders for categorical columns, fitted on training rows (see module docstring).

    Args:
        categorical_cols, numeric_cols: input columns (default: the Criteo schema).
        label_col: the 0/1 click label (needed by ``target`` and checked by ``fit``).
        methods: any of ``"ordinal"``, ``"count"``, ``"target"``.
        min_count: values seen fewer times in training are "rare".
        n_folds, smoothing, seed: out-of-fold target encoding.
        fold_col: optional column holding each training row's fold (0 .. n_folds-1); without
            it folds are drawn at random with ``seed``.
    """

    def __init__(
        self,
        categorical_cols: Sequence[str] = CAT_COLS,
        numeric_cols: Sequence[str] = INT_COLS,
        label_col: str = DEFAULT_LABEL_COL,
        methods: Sequence[str] = ("ordinal",),
        min_count: int = 10,
        n_folds: int = 5,
        smoothing: float = 20.0,
        seed: int = DEFAULT_SEED,
        fold_col: str | None = None,
    ):
        methods = tuple(methods)
        if not methods:
            raise ValueError("methods must name at least one of " + ", ".join(METHODS))
        for m in methods:
            require_choice(m, METHODS, "methods")
        require_positive_int(min_count, "min_count")
        require_positive_int(n_folds, "n_folds")
        if "target" in methods and n_folds < 2:
            raise ValueError("n_folds must be >= 2 for target encoding")
        if not smoothing >= 0:
            raise ValueError(f"smoothing must be >= 0, got {smoothing}")
        self.categorical_cols = list(categorical_cols)
        self.numeric_cols = list(numeric_cols)
        self.label_col = label_col
        self.methods = methods
        self.min_count, self.n_folds, self.smoothing = min_count, n_folds, float(smoothing)
        self.seed, self.fold_col = seed, fold_col
        self.stats: dict[str, dict[str, Any]] | None = None
        self.prior: float | None = None
        self._tables: tuple[Any, dict[str, _Table]] = (None, {})

    # ------------------------------------------------------------ names

    @property
    def feature_names(self) -> list[str]:
        """Output columns, in order: numeric, then per method the encoded categoricals."""
        return self.numeric_cols + [
            c + _SUFFIX[m] for m in self.methods for c in self.categorical_cols
        ]

    @property
    def categorical_features(self) -> list[str]:
        """Output columns to declare categorical to LightGBM (the ordinal codes)."""
        return list(self.categorical_cols) if "ordinal" in self.methods else []

    # ------------------------------------------------------------ pandas

    def _check(self, data: pd.DataFrame, with_label: bool) -> None:
        cols = self.categorical_cols + self.numeric_cols + ([self.label_col] if with_label else [])
        require_pandas_frame(data, cols, "data")
        if with_label:
            labels = pd.unique(data[self.label_col])
            bad = [v for v in labels if v not in (0, 1)]
            if bad:
                raise ValueError(f"{self.label_col} must hold only 0 and 1, found {bad[:5]}")

    def fit(self, train: pd.DataFrame) -> FeatureEncoder:
        """Learn the statistics from ``train``; returns ``self``."""
        self._check(train, with_label=True)
        if train.empty:
            raise ValueError("train is empty")
        empty = [c for c in self.categorical_cols + self.numeric_cols if train[c].isna().all()]
        if empty:
            raise ValueError(f"column(s) {empty} are missing in every training row")
        label = train[self.label_col].to_numpy(dtype=np.float64)
        self.prior = float(label.mean())
        self.stats = {}
        for col in self.categorical_cols:
            codes, labels = _codes(train[col])
            present = codes >= 0
            counts = np.bincount(codes[present], minlength=len(labels))
            clicks = np.bincount(codes[present], weights=label[present], minlength=len(labels))
            kept = np.flatnonzero(counts >= self.min_count)
            kept = kept[np.lexsort((labels[kept], -counts[kept]))]  # most frequent first
            self.stats[col] = {
                "values": labels[kept].tolist(),
                "counts": counts[kept].astype(int).tolist(),
                "clicks": clicks[kept].astype(float).tolist(),
                "missing": [int((~present).sum()), float(label[~present].sum())],
            }
        return self

    def transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """Encode any split with the fitted statistics (target: full-train statistics)."""
        return self._encode(data, oof=None)

    def fit_transform(self, train: pd.DataFrame) -> pd.DataFrame:
        """``fit(train)`` then encode it; target encoding is out-of-fold on these rows."""
        self.fit(train)
        if "target" not in self.methods:
            return self._encode(train, oof=None)
        return self._encode(train, oof=self._folds(train))

    def _folds(self, train: pd.DataFrame) -> np.ndarray:
        if self.fold_col:
            require_columns(train.columns, [self.fold_col], "train")
            folds = train[self.fold_col].to_numpy()
            if not np.isin(folds, np.arange(self.n_folds)).all():
                raise ValueError(f"{self.fold_col} must hold integers 0 .. {self.n_folds - 1}")
            return folds.astype(np.int64)
        return np.random.default_rng(self.seed).integers(0, self.n_folds, len(train))

    def _encode(self, data: pd.DataFrame, oof: np.ndarray | None) -> pd.DataFrame:
        self._fitted()
        self._check(data, with_label=oof is not None)
        out = {
            c: pd.to_numeric(data[c], errors="raise").astype("float64") for c in self.numeric_cols
        }
        label = data[self.label_col].to_numpy(dtype=np.float64) if oof is not None else None
        for col in self.categorical_cols:  # look each value up once, then apply every method
            table = self._table(col)
            codes, labels = _codes(data[col])
            position = table.index.get_indexer(labels)
            missing = codes < 0
            index = np.where(
                missing, -1, position[np.maximum(codes, 0)] if len(labels) else -1
            )  # -1: rare, unseen or missing
            for method in self.methods:
                name = col + _SUFFIX[method]
                if method == "target" and oof is not None:
                    out[name] = self._target_oof(table, index, missing, oof, label)
                else:
                    features, if_missing = table.features[method]
                    out[name] = np.where(missing, if_missing, features[index])
        return pd.DataFrame(out, index=data.index)[self.feature_names]

    def transform_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The feature matrix of raw rows given as mappings (``None`` or NaN for missing):
        the numbers of ``transform(pd.DataFrame(records)).to_numpy()``, columns in
        :attr:`feature_names` order, without building a DataFrame.

        The path for small batches (a scoring request), where pandas' per-call overhead
        would cost more than the encoding itself.

        Example:
            >>> row = {**{c: 1.0 for c in INT_COLS}, **{c: "0b153874" for c in CAT_COLS}}
            >>> enc.transform_records([row])                     # doctest: +SKIP
            array([[1., 1., ..., 0.]])
        """
        self._fitted()
        columns = self.numeric_cols + self.categorical_cols
        for i, record in enumerate(records):
            absent = [c for c in columns if c not in record]
            if absent:
                raise ValueError(f"record {i} lacks column(s) {absent}")
        # plain Python per value: for a handful of rows numpy's per-call cost would dominate
        x = np.empty((len(records), len(self.feature_names)))
        column = {name: j for j, name in enumerate(self.feature_names)}
        for c in self.numeric_cols:
            x[:, column[c]] = [np.nan if _is_missing(r[c]) else float(r[c]) for r in records]
        for col in self.categorical_cols:  # look each value up once, then apply every method
            table = self._table(col)
            index = [
                None if _is_missing(r[col]) else table.positions.get(str(r[col]), -1)
                for r in records
            ]  # None: missing; -1: rare or unseen
            for method in self.methods:
                features, if_missing = table.features[method]
                x[:, column[col + _SUFFIX[method]]] = [
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
            st = self.stats[col]
            counts = np.asarray(st["counts"] + [0], dtype=np.float64)
            clicks = np.asarray(st["clicks"] + [0.0], dtype=np.float64)
            m, prior = self.smoothing, self.prior
            rate = (clicks + m * prior) / (counts + m)
            rate[-1] = prior
            features = {
                "ordinal": (np.append(np.arange(1.0, len(counts)), 0.0), np.nan),
                "count": (counts, np.nan),
                "target": (rate, prior),
            }
            positions = {value: i for i, value in enumerate(st["values"])}
            tables[col] = _Table(pd.Index(st["values"]), positions, counts, clicks, features)
        return tables[col]

    def _target_oof(self, table, index, missing, oof, label) -> np.ndarray:
        """Training rows' target encoding: statistics of the value over the other folds."""
        m, prior = self.smoothing, self.prior
        clicks, counts = table.clicks, table.counts
        known = (index >= 0) & ~missing
        keys = np.where(known, index, len(table.index))
        n_keys = len(table.index) + 1
        fold_rows = np.bincount(keys * self.n_folds + oof, minlength=n_keys * self.n_folds)
        fold_clicks = np.bincount(
            keys * self.n_folds + oof, weights=label, minlength=n_keys * self.n_folds
        )
        own = (keys * self.n_folds + oof)[known]
        rows = counts[keys[known]] - fold_rows[own]
        hits = clicks[keys[known]] - fold_clicks[own]
        out = np.full(len(index), prior)
        # a value seen only in the row's own fold (rows = 0) with no smoothing gets the prior
        with np.errstate(divide="ignore", invalid="ignore"):
            out[known] = np.where(rows + m > 0, (hits + m * prior) / (rows + m), prior)
        return out

    # ------------------------------------------------------------ persistence

    def to_json(self) -> str:
        """The configuration and fitted statistics as a JSON string."""
        self._fitted()
        return json.dumps(
            {
                "format": 1,
                "config": {
                    "categorical_cols": self.categorical_cols,
                    "numeric_cols": self.numeric_cols,
                    "label_col": self.label_col,
                    "methods": list(self.methods),
                    "min_count": self.min_count,
                    "n_folds": self.n_folds,
                    "smoothing": self.smoothing,
                    "seed": self.seed,
                    "fold_col": self.fold_col,
                },
                "prior": self.prior,
                "stats": self.stats,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> FeatureEncoder:
        """Rebuild a fitted encoder from :meth:`to_json` output."""
        data = json.loads(text)
        if data.get("format") != 1:
            raise ValueError("not a recommenders_kit FeatureEncoder JSON (format 1)")
        encoder = cls(**data["config"])
        encoder.prior, encoder.stats = data["prior"], data["stats"]
        return encoder

    def _fitted(self) -> None:
        if self.stats is None:
            raise RuntimeError("the encoder is not fitted: call fit(train) first")

    # ------------------------------------------------------------ Spark

    def fit_spark(self, train: SparkDataFrame) -> FeatureEncoder:
        """Learn the statistics from a Spark DataFrame with one aggregation (kept values only
        reach the driver: at most ``rows / min_count`` per column)."""
        from pyspark.sql import functions as F

        _check_spark(train, self.categorical_cols + self.numeric_cols + [self.label_col])
        label = F.col(self.label_col).cast("double")
        totals = train.agg(
            F.count(F.lit(1)).alias("n"),
            F.sum(label).alias("clicks"),
            F.sum(F.when(~label.isin(0.0, 1.0) | label.isNull(), 1).otherwise(0)).alias("bad"),
            *[F.count(F.col(c)).alias(c) for c in self.categorical_cols + self.numeric_cols],
        ).first()
        if not totals["n"]:
            raise ValueError("train is empty")
        if totals["bad"]:
            raise ValueError(f"{self.label_col} must hold only 0 and 1")
        empty = [c for c in self.categorical_cols + self.numeric_cols if totals[c] == 0]
        if empty:
            raise ValueError(f"column(s) {empty} are missing in every training row")
        pairs = train.select(
            label.alias("y"),
            F.explode(
                F.array(
                    *[
                        F.struct(
                            F.lit(c).alias("col"),
                            F.coalesce(F.col(c).cast("string"), F.lit(_MISSING)).alias("v"),
                        )
                        for c in self.categorical_cols
                    ]
                )
            ).alias("p"),
        )
        grouped = pairs.groupBy("p.col", "p.v").agg(
            F.count(F.lit(1)).alias("size"), F.sum("y").alias("sum")
        )
        rows = grouped.where((F.col("size") >= self.min_count) | (F.col("v") == _MISSING)).collect()
        self.prior = float(totals["clicks"] / totals["n"])
        self.stats = {
            c: {"values": [], "counts": [], "clicks": [], "missing": [0, 0.0]}
            for c in self.categorical_cols
        }
        by_col: dict[str, list] = {c: [] for c in self.categorical_cols}
        for r in rows:
            if r["v"] == _MISSING:
                self.stats[r["col"]]["missing"] = [int(r["size"]), float(r["sum"])]
            else:
                by_col[r["col"]].append((r["v"], int(r["size"]), float(r["sum"])))
        for col, entries in by_col.items():
            entries.sort(key=lambda e: (-e[1], e[0]))
            self.stats[col].update(
                values=[e[0] for e in entries],
                counts=[e[1] for e in entries],
                clicks=[e[2] for e in entries],
            )
        return self

    def transform_spark(self, data: SparkDataFrame, out_of_fold: bool = False) -> SparkDataFrame:
        """Encode a Spark DataFrame with broadcast joins of the fitted statistics.

        ``out_of_fold=True`` (the training rows) needs ``fold_col`` and the label. Other
        columns of ``data`` are kept.
        """
        from pyspark.sql import functions as F

        self._fitted()
        _check_spark(data, self.categorical_cols + self.numeric_cols)
        spark = data.sparkSession
        m, prior = self.smoothing, self.prior
        if out_of_fold and "target" in self.methods:
            if not self.fold_col:
                raise ValueError("out_of_fold on Spark needs fold_col (the same folds as pandas)")
            _check_spark(data, [self.fold_col, self.label_col])
        out = data
        for c in self.numeric_cols:
            out = out.withColumn(c, F.col(c).cast("double"))
        for col in self.categorical_cols:
            st = self.stats[col]
            table = pd.DataFrame(
                {
                    "_v": pd.Series(st["values"], dtype=object),
                    "_code": np.arange(1, len(st["values"]) + 1, dtype=np.int32),
                    "_count": np.asarray(st["counts"], dtype=np.float64),
                    "_clicks": np.asarray(st["clicks"], dtype=np.float64),
                }
            )
            schema = "_v string, _code int, _count double, _clicks double"
            lookup = F.broadcast(spark.createDataFrame(table, schema=schema))
            value = F.col(col).cast("string")
            out = out.withColumn("_v", value).join(lookup, on="_v", how="left")
            is_missing = F.col("_v").isNull()
            if "ordinal" in self.methods:
                out = out.withColumn(
                    "_ordinal",
                    F.when(is_missing, F.lit(None))
                    .otherwise(F.coalesce("_code", F.lit(0)))
                    .cast("double"),
                )
            if "count" in self.methods:
                out = out.withColumn(
                    col + "_count",
                    F.when(is_missing, F.lit(None).cast("double")).otherwise(
                        F.coalesce("_count", F.lit(0.0))
                    ),
                )
            if "target" in self.methods:
                rate = (F.col("_clicks") + m * prior) / (F.col("_count") + m)
                if out_of_fold:
                    rate = self._spark_oof(out, col, m, prior)
                out = out.withColumn(
                    col + "_te",
                    F.when(is_missing | F.col("_code").isNull(), F.lit(prior)).otherwise(rate),
                )
            out = out.drop("_v", "_code", "_count", "_clicks")
            if "ordinal" in self.methods:
                out = out.withColumn(col, F.col("_ordinal")).drop("_ordinal")
        return out

    def _spark_oof(self, data: SparkDataFrame, col: str, m: float, prior: float):
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        by_fold = Window.partitionBy("_v", self.fold_col)
        label = F.col(self.label_col).cast("double")
        fold_rows = F.count(F.lit(1)).over(by_fold)
        fold_clicks = F.sum(label).over(by_fold)
        return (F.col("_clicks") - fold_clicks + m * prior) / (F.col("_count") - fold_rows + m)


class _Table(NamedTuple):
    index: pd.Index  # the kept values (as strings), position = code - 1
    positions: dict[str, int]  # the same as a dict, for row-at-a-time lookups
    counts: np.ndarray  # training rows per value, then 0 for rare/unseen
    clicks: np.ndarray  # clicks per value, then 0
    # per method: (feature per position, then the rare/unseen feature; the missing feature)
    features: dict[str, tuple[np.ndarray, float]]


def _is_missing(value: Any) -> bool:
    """None, NaN or ``pd.NA``: what pandas would read as missing in a record."""
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def _codes(column: pd.Series) -> tuple[np.ndarray, np.ndarray]:
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


def _check_spark(frame, columns: list[str]) -> None:
    require_spark_frame(frame, columns, "data")
