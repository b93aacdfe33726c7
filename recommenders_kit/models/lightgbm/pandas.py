"""Criteo click prediction on one machine: the feature encoder and the LightGBM model, pandas.

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

:class:`LightGBMClickModel` = a fitted encoder + a LightGBM booster trained with the ordinal
codes declared categorical, early stopping on a validation split, and a progress bar. It saves
as a folder that needs no pickle (see :mod:`recommenders_kit.models.lightgbm._common`).

**Bigger than memory**: wherever they take a frame, both classes also take parquet files (a
folder, a file, a list of files, or :class:`~recommenders_kit.datasets.parquet.ParquetRows`
for a row range), read a row group at a time: the encoder's statistics are summed per value
as blocks come, LightGBM's ``Dataset`` is built from encoded pieces, and scoring goes piece
by piece. Memory then holds LightGBM's binned data and one piece, not the rows (how far that
goes on one machine: ``benchmarks/scale_criteo.py`` and the README).
Given the same rows in the same order and seed, the model is the in-memory one, tree for
tree. Every file's footer is read first: a missing, truncated or differently-typed file stops
the fit with its name.

The Spark twins (:mod:`recommenders_kit.models.lightgbm.spark`) take Spark DataFrames and
write the same numbers and the same model folder.

Example:
    >>> from recommenders_kit.datasets.criteo_synthetic import generate
    >>> rows, _ = generate(3000, seed=1)
    >>> model = LightGBMClickModel(num_boost_round=20, progress=False).fit(rows[:2000])
    >>> sorted(model.evaluate(rows[2000:]))
    ['auc', 'logloss']
"""

from __future__ import annotations

import dataclasses
import functools
import os
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, TypeAlias, TypeGuard, cast

import numpy as np
import pandas as pd

from recommenders_kit._progress import progress_bar
from recommenders_kit._validate import require_columns, require_pandas_frame
from recommenders_kit.constants import DEFAULT_SEED
from recommenders_kit.datasets.parquet import ParquetRows, Source
from recommenders_kit.errors import InputError
from recommenders_kit.evaluation.pandas.classification import binary_logloss, roc_auc
from recommenders_kit.models.base import Params, clone, require_fitted
from recommenders_kit.models.lightgbm._common import (
    DEFAULT_PARAMS,
    ModelMeta,
    check_training_args,
    read_folder,
    restored_params,
    saved_params,
    write_folder,
)
from recommenders_kit.models.lightgbm._encoder import (
    EncoderBase,
    StatsSum,
    encode_frame,
    fitted_stats,
    value_codes,
)

__all__ = ["FeatureEncoder", "LightGBMClickModel"]

METRICS = ["binary_logloss", "auc"]
#: What fit, predict_proba and evaluate take: a frame, or parquet files bigger than memory.
Data: TypeAlias = pd.DataFrame | Source | ParquetRows


def _is_source(data: object) -> TypeGuard[Source | ParquetRows]:
    """Parquet files (a path, a list of paths, :class:`ParquetRows`), not records."""
    if isinstance(data, (str, os.PathLike, ParquetRows)):
        return True
    return (
        isinstance(data, (list, tuple))
        and all(isinstance(d, (str, os.PathLike)) for d in data)
        and bool(data)
    )


class FeatureEncoder(EncoderBase):
    """Encoders for categorical columns, fitted on pandas training rows (module docstring).

    Args:
        categorical_cols, numeric_cols: input columns (default: the Criteo schema).
        col_label: the 0/1 click label (needed by ``target`` and checked by ``fit``).
        methods: any of ``"ordinal"``, ``"count"``, ``"target"``.
        min_count: values seen fewer times in training are "rare".
        n_folds, smoothing, seed: out-of-fold target encoding.
        col_fold: optional column holding each training row's fold (0 .. n_folds-1); without
            it folds are drawn at random with ``seed``.

    Example:
        >>> train = pd.DataFrame({"c": ["a", "a", "b", None], "n": [1, 2, 3, 4],
        ...                       "label": [1, 0, 1, 0]})
        >>> enc = FeatureEncoder(["c"], ["n"], methods=("ordinal", "count"), min_count=2)
        >>> enc.fit(train).transform(train)["c_count"].tolist()
        [2.0, 2.0, 0.0, nan]
    """

    def fit(
        self, train: pd.DataFrame | Source | ParquetRows, progress: bool = True
    ) -> FeatureEncoder:
        """Learn the statistics from ``train``; returns ``self``.

        ``train``: a frame, or data bigger than memory as parquet files (a folder, a file, a
        list of files, or :class:`~recommenders_kit.datasets.parquet.ParquetRows`), read a
        row group at a time: the statistics are summed per value as blocks come, and equal
        those of the same rows fitted as one frame. ``progress``: a bar over the blocks of
        parquet files.
        """
        blocks, n_blocks = self._training_blocks(train)
        total, seen = StatsSum(self.categorical_cols, self.fold_count), set[str]()
        rng = np.random.default_rng(self.seed)
        inputs = self.categorical_cols + self.numeric_cols
        with progress_bar(n_blocks, "fitting encoder", "block", progress and n_blocks > 1) as bar:
            for where, block in blocks:
                try:
                    self._check(block, with_label=True)
                except InputError as error:
                    raise InputError(f"{where}{error}") from error
                columns = {c: value_codes(block[c]) for c in self.categorical_cols}
                label = block[self.col_label].to_numpy(dtype=np.float64)
                total.add(columns, label, block_folds(self, block, rng))
                seen.update(c for c in inputs if block[c].notna().any())
                bar.update(1)
        if not total.n_rows:
            raise InputError("train is empty")
        empty = [c for c in inputs if c not in seen]
        if empty:
            raise InputError(f"column(s) {empty} are missing in every training row")
        self.stats = fitted_stats(self, total.columns(), total.n_rows, total.clicks)
        return self

    def transform(self, data: pd.DataFrame) -> pd.DataFrame:
        """Encode any split with the fitted statistics (target: full-train statistics)."""
        stats = require_fitted(self.stats, self)
        self._check(data, with_label=False)
        return encode_frame(stats, data, None)

    def fit_transform(self, train: pd.DataFrame) -> pd.DataFrame:
        """``fit(train)`` then encode it; target encoding is out-of-fold on these rows."""
        self.fit(train)
        folds = block_folds(self, train, np.random.default_rng(self.seed))
        return encode_frame(require_fitted(self.stats, self), train, folds)

    def _training_blocks(
        self, train: pd.DataFrame | Source | ParquetRows
    ) -> tuple[Iterable[tuple[str, pd.DataFrame]], int]:
        """``train`` as blocks of rows, each with where it comes from (for error messages:
        ``"<file>, row group <n>: "`` for parquet), and how many blocks."""
        if isinstance(train, pd.DataFrame):
            return [("", train)], 1
        rows = parquet_rows(self, train, self.training_columns)
        pieces = rows.pieces()
        blocks = ((f"{p.path}, row group {p.row_group}: ", rows.read(p)) for p in pieces)
        return blocks, len(pieces)

    def _check(self, data: pd.DataFrame, with_label: bool) -> None:
        require_pandas_frame(data, [], "data")
        self.require_inputs(data.columns, with_label)
        if with_label:
            self.check_labels(data[self.col_label])


def parquet_rows(
    encoder: EncoderBase, source: Source | ParquetRows, extra: Sequence[str] = ()
) -> ParquetRows:
    """``source`` as :class:`ParquetRows` of the columns ``encoder`` reads and ``extra`` ones,
    every file's footer checked (the seam between the click model and its encoder)."""
    columns = encoder.categorical_cols + encoder.numeric_cols + list(extra)
    if isinstance(source, ParquetRows):
        return ParquetRows(source.files, columns).slice(*source.row_range)
    return ParquetRows(source, columns)


def block_folds(
    encoder: EncoderBase, block: pd.DataFrame, rng: np.random.Generator
) -> np.ndarray | None:
    """A block's folds for target encoding (None without target encoding), drawn from
    ``rng`` unless ``col_fold`` holds them."""
    if "target" not in encoder.methods:
        return None
    if encoder.col_fold:
        require_columns(block.columns, [encoder.col_fold], "train")
        return encoder.check_folds(block[encoder.col_fold].to_numpy())
    return rng.integers(0, encoder.n_folds, len(block))


def training_folds(encoder: FeatureEncoder, train: ParquetRows) -> list[np.ndarray | None]:
    """Each block's folds for the out-of-fold target encoding of ``train``, as
    :meth:`FeatureEncoder.fit` drew them (None per block without target encoding)."""
    rng = np.random.default_rng(encoder.seed)
    if "target" not in encoder.methods:
        return [None] * len(train.pieces())
    if encoder.col_fold:
        return [block_folds(encoder, block, rng) for block in train.blocks([encoder.col_fold])]
    return [rng.integers(0, encoder.n_folds, len(piece)) for piece in train.pieces()]


class LightGBMClickModel(Params):
    """Encoder + LightGBM booster; fit / predict_proba / evaluate / save / load.

    Args:
        encoder: an unfitted encoder (default: ordinal codes, ``min_count=10``).
        params: LightGBM parameters merged over ``DEFAULT_PARAMS`` (LightGBM's names).
        num_boost_round: maximum trees.
        early_stopping_rounds: stop when validation logloss has not improved for this many
            rounds (0: no early stopping).
        valid_fraction: share of the training rows held out for early stopping when no
            ``valid`` frame is given (the last rows: Criteo logs are in time order).
        seed: seeds LightGBM.
        progress: show a tqdm bar over boosting rounds.
    """

    def __init__(
        self,
        encoder: FeatureEncoder | None = None,
        params: dict[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 30,
        valid_fraction: float = 0.1,
        seed: int = DEFAULT_SEED,
        progress: bool = True,
    ):
        check_training_args(num_boost_round, early_stopping_rounds, valid_fraction)
        self.encoder = encoder or FeatureEncoder()
        self.params = dict(params or {})
        self.num_boost_round, self.early_stopping_rounds = num_boost_round, early_stopping_rounds
        self.valid_fraction, self.seed, self.progress = valid_fraction, seed, progress
        self.model: Any = None
        self.meta: ModelMeta | None = None

    @property
    def booster_params(self) -> dict[str, Any]:
        """The LightGBM parameters training uses: the defaults, ``params``, the seed.

        ``data_random_seed`` (which rows LightGBM samples to find the bins) is the seed too
        unless ``params`` sets it: a Dataset built from parquet pieces only sees the Dataset
        parameters, and would otherwise sample other rows than the in-memory matrix path.
        """
        return {**DEFAULT_PARAMS, "data_random_seed": self.seed, **self.params, "seed": self.seed}

    def fit(
        self,
        train: pd.DataFrame,
        valid: pd.DataFrame | None = None,
        callbacks: list | None = None,
    ) -> LightGBMClickModel:
        """Fit the encoder on ``train`` and boost trees with early stopping on ``valid``.

        ``callbacks``: extra LightGBM callbacks (e.g. a sweep's pruning check); they see the
        validation set as ``"valid"`` with metrics ``binary_logloss`` and ``auc``.

        The model fits its own unfitted copy of the encoder it was given (:func:`clone`), so
        one encoder object passed to several models is never shared between them.
        """
        import lightgbm as lgb

        self.encoder = clone(self.encoder)
        train, valid = self._split(train, valid)
        dtrain = self._dataset(train)
        dvalid = self._dataset(valid, reference=dtrain)
        history: dict[str, Any] = {}
        callbacks = [lgb.record_evaluation(history), *(callbacks or [])]
        if self.early_stopping_rounds:
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        bar = _Progress(self.num_boost_round, self.progress)
        try:
            self.model = lgb.train(
                {**self.booster_params, "metric": METRICS},
                dtrain,
                num_boost_round=self.num_boost_round,
                valid_sets=[dvalid],
                valid_names=["valid"],
                callbacks=[*callbacks, bar.callback],
            )
        finally:
            bar.close()
        best = self.model.best_iteration or self.model.current_iteration()
        valid_scores = {
            "auc": history["valid"]["auc"][best - 1],
            "logloss": history["valid"]["binary_logloss"][best - 1],
        }
        self.meta = self._meta(best, best, valid_scores, "lightgbm")
        return self

    def _split(self, train: Data, valid: Data | None) -> tuple[Data, Data]:
        """(train, valid): ``valid`` as given, else the last ``valid_fraction`` of ``train``;
        parquet sources as :class:`ParquetRows` (every file checked before any training)."""
        if not isinstance(train, pd.DataFrame):
            train = parquet_rows(self.encoder, train, self.encoder.training_columns)
        else:
            require_pandas_frame(train, [], "train")
        if valid is not None:
            if not isinstance(valid, pd.DataFrame):
                valid = parquet_rows(self.encoder, valid, [self.encoder.col_label])
            return train, valid
        cut = int(len(train) * (1 - self.valid_fraction))
        if cut < 1 or cut >= len(train):
            raise InputError(
                f"train has too few rows ({len(train)}) to hold out a validation split"
            )
        if isinstance(train, pd.DataFrame):
            return train.iloc[:cut], train.iloc[cut:]
        return train.slice(0, cut), train.slice(cut, len(train))

    def _dataset(self, data: pd.DataFrame | ParquetRows, reference: Any = None) -> Any:
        """The LightGBM ``Dataset`` of ``data``: without ``reference``, training rows (the
        encoder is fitted on them, target encoding out of fold); else validation rows."""
        import lightgbm as lgb

        if not isinstance(data, pd.DataFrame):
            from recommenders_kit.models.lightgbm import _chunks

            if reference is None:
                self.encoder.fit(data, progress=self.progress)
                folds = training_folds(self.encoder, data)
            else:
                folds = [None] * len(data.pieces())
            params = {**self.booster_params, "metric": METRICS}
            return _chunks.dataset(data, self.encoder, folds, params, reference, self.progress)
        x = self.encoder.fit_transform(data) if reference is None else self.encoder.transform(data)
        label = data[self.encoder.col_label].to_numpy()
        return lgb.Dataset(
            x,
            label=label,
            categorical_feature=self.encoder.categorical_features,
            reference=reference,
            free_raw_data=True,
        )

    def _meta(
        self, best: int | None, trees: int | None, valid: dict[str, float], trained_with: str
    ) -> ModelMeta:
        return ModelMeta(
            params=self.booster_params,
            num_boost_round=self.num_boost_round,
            early_stopping_rounds=self.early_stopping_rounds,
            best_iteration=best,
            features=self.encoder.feature_names,
            categorical_features=self.encoder.categorical_features,
            trees=trees,
            valid=valid,
            trained_with=trained_with,
            model_params=saved_params(self),
        )

    def predict_proba(self, data: Data | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Click probability of each row (1-d float64 array).

        ``data``: a DataFrame; parquet files (as for :meth:`fit`), scored a row group at a
        time, as a nightly batch job over more rows than memory holds would; or a list of
        records (mappings of column to value, ``None`` for missing) - the same
        probabilities, faster for a handful of rows (a scoring request), see
        :meth:`FeatureEncoder.transform_records`.
        """
        booster = require_fitted(self.model, self)
        best = (self.meta.best_iteration if self.meta else None) or None
        if isinstance(data, pd.DataFrame):
            x = self.encoder.transform(data)
        elif _is_source(data):
            from recommenders_kit.models.lightgbm import _chunks

            rows = parquet_rows(self.encoder, data)
            predict = functools.partial(booster.predict, num_iteration=best)
            return _chunks.predict(rows, self.encoder, predict, self.progress)
        else:
            x = self.encoder.transform_records(cast(Sequence[Mapping[str, Any]], data))
        return booster.predict(x, num_iteration=best)

    def evaluate(self, data: Data) -> dict[str, float]:
        """AUC and logloss on labelled rows (a frame, or parquet files as for :meth:`fit`)."""
        p = self.predict_proba(data)
        if isinstance(data, pd.DataFrame):
            y = data[self.encoder.col_label].to_numpy().astype(bool)
        else:
            rows = parquet_rows(self.encoder, data, [self.encoder.col_label])
            y = rows.column(self.encoder.col_label).astype(bool)
        return {"auc": roc_auc(y, p), "logloss": binary_logloss(y, p)}

    def feature_importance(self, importance_type: str = "gain") -> pd.Series:
        """Importance per feature (``"gain"`` or ``"split"``), largest first."""
        booster = require_fitted(self.model, self)
        values = booster.feature_importance(importance_type=importance_type)
        return pd.Series(values, index=booster.feature_name()).sort_values(ascending=False)

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> str:
        """Write ``model.txt``, ``encoder.json`` and ``meta.json`` into the folder ``path``
        (atomically; an existing folder is replaced only with ``overwrite``); returns it."""
        return write_folder(
            path, self.model_text(), self.encoder.to_json(), self._saved_meta(), overwrite
        )

    def model_text(self) -> str:
        """LightGBM's text model of the trees scoring uses (up to the best iteration): what
        ``save`` writes to ``model.txt``."""
        booster = require_fitted(self.model, self)
        best = self.meta.best_iteration if self.meta else None
        return booster.model_to_string(num_iteration=best)

    def _saved_meta(self) -> ModelMeta:
        if self.meta is None:
            return self._meta(None, None, {}, "lightgbm")
        return dataclasses.replace(self.meta, model_params=saved_params(self))

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LightGBMClickModel:
        """Load a folder written by :meth:`save` (by either engine's model), with the
        constructor keywords it was saved with."""
        import lightgbm as lgb

        text, encoder_json, meta = read_folder(path)
        obj = cls(encoder=FeatureEncoder.from_json(encoder_json), **restored_params(meta))
        obj.model = lgb.Booster(model_str=text)
        obj.meta = meta
        return obj


class _Progress:
    """A tqdm bar advanced by a LightGBM callback."""

    def __init__(self, total: int, enabled: bool):
        self.bar = progress_bar(total, "boosting", "tree", enabled)

    def callback(self, env: Any) -> None:
        self.bar.update(1)
        if env.evaluation_result_list:
            _, metric, value, _ = env.evaluation_result_list[0]
            self.bar.set_postfix({metric: f"{value:.4f}"}, refresh=False)

    def close(self) -> None:
        """Close the bar; stopped early, it ends at the rounds boosted (not frozen part-way)."""
        if self.bar.total and self.bar.n < self.bar.total:
            self.bar.total = self.bar.n
            self.bar.refresh()
        self.bar.close()
