"""Criteo click prediction on Spark: the feature encoder and LightGBM with SynapseML.

The twins of :mod:`recommenders_kit.models.lightgbm.pandas`, on Spark DataFrames:

* :class:`FeatureEncoder`: the same encodings and statistics. ``fit`` summarises every
  partition with the numpy kernel (rows and clicks per value of all 26 columns in one pass)
  and merges the summaries with one aggregation; ``transform`` runs the numpy kernel on each
  Arrow batch in the executors (``mapInArrow``: strings are dictionary-encoded in Arrow, never
  turned into a pandas frame), so the numbers equal the pandas twin's.
  Only the kept values (at most ``rows / min_count`` per column) reach the driver.
* :class:`LightGBMClickModel`: the encoded columns assembled into a vector (missing values
  kept as NaN) and SynapseML's ``LightGBMClassifier`` with the same hyperparameters (mapped
  from LightGBM's names), early stopping on a validation indicator column. ``save`` writes
  the folder of the pandas twin (``LightGBMClickModel.load`` there serves it), ``load``
  reads such a folder back into SynapseML.

Settings that make SynapseML train on a cluster of several executors (measured on a Spark
standalone cluster on loopback, ``tests/cluster/test_standalone.py``):

* categorical splits are one-vs-rest (``max_cat_to_onehot`` above the largest cardinality)
  unless ``params`` says otherwise: SynapseML 1.1.0 bundles LightGBM 3.3.5, whose distributed
  many-vs-many categorical splits crash an executor (LightGBM issue 6491);
* when the session does not set ``spark.executor.cores`` (a standalone cluster started
  without it), the LightGBM task count is the number of cores the executors registered,
  instead of SynapseML's guess from the executor JVM's processors: with more tasks than slots
  the running tasks waited forever for the others to join the LightGBM network.

The executors need this package importable (Databricks: a cluster library; a standalone
cluster: ``PYSPARK_PYTHON`` naming a Python that has it).

The session needs the SynapseML jars:
``start_or_get_spark(packages=[recommenders_kit.spark.SYNAPSEML_PACKAGE])``.
"""

from __future__ import annotations

import functools
import operator
import os
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_spark_frame
from recommenders_kit.constants import DEFAULT_SEED
from recommenders_kit.errors import InputError
from recommenders_kit.models.base import Params, clone, require_fitted
from recommenders_kit.models.lightgbm import _executor
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
    Summary,
    fitted_stats,
    stats_fields,
)
from recommenders_kit.models.lightgbm._executor import FOLD
from recommenders_kit.spark import is_local

if TYPE_CHECKING:
    from pyspark.sql import Column
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql.types import StructType

__all__ = ["FeatureEncoder", "LightGBMClickModel"]

#: The column ``predict_proba`` adds: the click probability (double).
PROBABILITY_COL = "probability"
_NUMERIC_TYPES = ("tinyint", "smallint", "int", "bigint", "float", "double", "decimal")

#: LightGBM parameter name -> SynapseML ``LightGBMClassifier`` parameter name.
PARAM_NAMES = {
    "learning_rate": "learningRate",
    "num_leaves": "numLeaves",
    "min_data_in_leaf": "minDataInLeaf",
    "feature_fraction": "featureFraction",
    "max_bin": "maxBin",
    "max_cat_to_onehot": "maxCatToOnehot",
    "cat_smooth": "catSmooth",
    "cat_l2": "catl2",
    "min_data_per_group": "minDataPerGroup",
    "max_cat_threshold": "maxCatThreshold",
    "lambda_l1": "lambdaL1",
    "lambda_l2": "lambdaL2",
    "bagging_fraction": "baggingFraction",
    "bagging_freq": "baggingFreq",
    "max_depth": "maxDepth",
    "min_sum_hessian_in_leaf": "minSumHessianInLeaf",
    "seed": "seed",
    "num_threads": "numThreads",
}
_SET_HERE = {"objective", "verbose", "metric"}
# SynapseML's output columns, named so that they never meet the user's columns
_INTERNAL_COLUMNS = {
    "probabilityCol": "_probability",
    "rawPredictionCol": "_raw_prediction",
    "predictionCol": "_predicted_label",
}


class FeatureEncoder(EncoderBase):
    """Encoders for categorical columns, fitted on Spark training rows (module docstring).

    Args:
        categorical_cols, numeric_cols: input columns (default: the Criteo schema).
        col_label: the 0/1 click label (needed by ``target`` and checked by ``fit``).
        methods: any of ``"ordinal"``, ``"count"``, ``"target"``.
        min_count: values seen fewer times in training are "rare".
        n_folds, smoothing, seed: out-of-fold target encoding.
        col_fold: optional column holding each training row's fold (0 .. n_folds-1); without
            it a row's fold is a hash of ``seed`` and its values (the same on every run and
            cluster, but not the pandas twin's random folds).

    The encoded frame keeps every other column; the categorical columns come back as their
    ordinal codes (with ``ordinal``) or as strings.
    """

    def fit(self, train: SparkDataFrame, progress: bool = True) -> FeatureEncoder:
        """Learn the statistics from ``train``; returns ``self``. Two Spark jobs: the checks
        (rows, clicks, labels, folds, columns never present) in one aggregation, then the
        statistics of every categorical column in one pass. ``progress`` has no effect
        (Spark shows its own stage progress)."""
        from pyspark.sql import functions as F

        self._check(train, with_label=True)
        n_rows, clicks = self._checked_totals(train)
        cats, label, width = self.categorical_cols, self.col_label, self.fold_count
        source = train.select(
            *[F.col(c).cast("string").alias(c) for c in cats],
            F.col(label).cast("double").alias(label),
            self._fold_column(train).alias(FOLD),
        )
        # one row per (column, value) and partition, its folds side by side: Spark sums
        # fixed-width rows in a hash table on each side of the one shuffle
        summarize = functools.partial(_executor.summarize, cats, label, width)
        sizes, hits = [f"size{f}" for f in range(width)], [f"clicks{f}" for f in range(width)]
        total = functools.reduce(operator.add, [F.col(c) for c in sizes])
        merged = (
            source.mapInArrow(summarize, ", ".join(map(" ".join, stats_fields(width))))
            .groupBy("col", "v")
            .agg(*[F.sum(c).alias(c) for c in sizes + hits])
            .where((total >= self.min_count) | F.col("v").isNull())
        )
        summaries = _summaries(merged.toPandas(), cats, width)
        self.stats = fitted_stats(self, summaries, n_rows, clicks)
        return self

    def _checked_totals(self, train: SparkDataFrame) -> tuple[int, float]:
        """(rows, clicks) of ``train``, after the checks of one aggregation: some rows, only
        0/1 labels, folds in range, every input column present in some row."""
        from pyspark.sql import functions as F

        label, inputs = F.col(self.col_label), self.categorical_cols + self.numeric_cols
        fold = F.col(self.col_fold).cast("int") if self.col_fold else F.lit(0)
        present = {c: F.col(c).isNotNull() for c in self.categorical_cols} | {
            c: F.col(c).isNotNull() & ~F.isnan(F.col(c).cast("double")) for c in self.numeric_cols
        }
        row = train.agg(
            F.count(F.lit(1)).alias("_rows"),
            F.sum(label.cast("double")).alias("_clicks"),
            F.count(F.when(label.isNull() | ~label.isin(0, 1), 1)).alias("_bad_labels"),
            F.count(F.when(fold.isNull() | (fold < 0) | (fold >= self.n_folds), 1)).alias(
                "_bad_folds"
            ),
            *[F.count(F.when(present[c], 1)).alias(c) for c in inputs],
        ).first()
        if row is None or not row["_rows"]:
            raise InputError("train is empty")
        if row["_bad_labels"]:
            raise InputError(f"{self.col_label} must hold only 0 and 1")
        if row["_bad_folds"]:
            raise InputError(f"{self.col_fold} must hold integers 0 .. {self.n_folds - 1}")
        empty = [c for c in inputs if not row[c]]
        if empty:
            raise InputError(f"column(s) {empty} are missing in every training row")
        return int(row["_rows"]), float(row["_clicks"])

    def transform(self, data: SparkDataFrame) -> SparkDataFrame:
        """Encode any split with the fitted statistics (target: full-train statistics)."""
        self._check(data, with_label=False)
        return self._encode(data, None)

    def fit_transform(self, train: SparkDataFrame) -> SparkDataFrame:
        """``fit(train)`` then encode it; target encoding is out-of-fold on these rows."""
        self.fit(train)
        if "target" not in self.methods:
            return self._encode(train, None)
        return self._encode(train, self._fold_column(train))

    def _encode(self, data: SparkDataFrame, folds: Column | None) -> SparkDataFrame:
        from pyspark.sql import functions as F

        columns = [
            F.col(c).cast("string").alias(c) if c in self.categorical_cols else F.col(c)
            for c in data.columns
        ]
        if folds is not None:
            columns.append(folds.alias(FOLD))
        source = data.select(*columns)
        schema = self._output_schema(data.schema)
        stats = require_fitted(self.stats, self)
        fold_stats = stats.folds if folds is not None else None
        encode = functools.partial(
            _executor.encode_batches, self.to_json(), fold_stats, schema.names
        )
        return source.mapInArrow(encode, schema)

    def _output_schema(self, schema: StructType) -> StructType:
        from pyspark.sql import types as T

        ordinal = "ordinal" in self.methods
        fields = []
        for f in schema.fields:
            if f.name in self.numeric_cols or (ordinal and f.name in self.categorical_cols):
                fields.append(T.StructField(f.name, T.DoubleType()))
            elif f.name in self.categorical_cols:
                fields.append(T.StructField(f.name, T.StringType()))
            else:
                fields.append(f)
        names = {f.name for f in fields}
        extra = [n for n in self.feature_names if n not in names]
        return T.StructType(fields + [T.StructField(n, T.DoubleType()) for n in extra])

    def _fold_column(self, data: SparkDataFrame) -> Column:
        """Each row's fold: ``col_fold``, else a hash of ``seed`` and the row's values."""
        from pyspark.sql import functions as F

        if "target" not in self.methods:
            return F.lit(0)
        if self.col_fold:
            require_spark_frame(data, [self.col_fold], "train")
            return F.col(self.col_fold).cast("int")
        return F.pmod(F.xxhash64(F.lit(self.seed), *data.columns), F.lit(self.n_folds)).cast("int")

    def _check(self, data: SparkDataFrame, with_label: bool) -> None:
        require_spark_frame(data, [], "data")
        self.require_inputs(data.columns, with_label)
        types = dict(data.dtypes)
        text = [c for c in self.numeric_cols if not types[c].startswith(_NUMERIC_TYPES)]
        if text:
            raise InputError(
                f"numeric column(s) {text} hold {[types[c] for c in text]}, not numbers"
            )


def _summaries(rows: pd.DataFrame, cats: list[str], width: int) -> dict[str, Summary]:
    """The collected sums (:func:`~._encoder.stats_fields` rows) per categorical column, as
    :func:`~._encoder.fitted_stats` takes them."""
    sizes, hits = [f"size{f}" for f in range(width)], [f"clicks{f}" for f in range(width)]
    summaries = {
        col: (
            part["v"].to_numpy(dtype=object),
            part[sizes].to_numpy(dtype=np.float64),
            part[hits].to_numpy(dtype=np.float64),
        )
        for col, part in rows.groupby("col", sort=False)
    }
    empty = (np.array([], dtype=object), np.zeros((0, width)), np.zeros((0, width)))
    return {c: summaries.get(c, empty) for c in cats}


class LightGBMClickModel(Params):
    """Encoder + SynapseML LightGBM on Spark; arguments as the pandas twin's.

    ``valid_fraction`` holds out a random share of the training rows (a Spark DataFrame has
    no row order) when no ``valid`` frame is given; ``progress`` has no effect (Spark shows
    its own stage progress).
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
        unknown = sorted(set(params or {}) - set(PARAM_NAMES) - _SET_HERE)
        if unknown:
            raise InputError(
                f"params {unknown} have no SynapseML equivalent here; "
                f"supported: {sorted(PARAM_NAMES)}"
            )
        self.encoder = encoder or FeatureEncoder()
        self.params = dict(params or {})
        self.num_boost_round, self.early_stopping_rounds = num_boost_round, early_stopping_rounds
        self.valid_fraction, self.seed, self.progress = valid_fraction, seed, progress
        self.model: Any = None
        self.meta: ModelMeta | None = None

    @property
    def booster_params(self) -> dict[str, Any]:
        """The LightGBM parameters training uses: the defaults, ``params``, the seed, and
        one-vs-rest categorical splits once the encoder is fitted (module docstring)."""
        params = {**DEFAULT_PARAMS, **self.params, "seed": self.seed}
        if "max_cat_to_onehot" not in self.params and self.encoder.stats is not None:
            params["max_cat_to_onehot"] = max(self.encoder.cardinality + 1, 4)
        return params

    def fit(
        self,
        train: SparkDataFrame,
        valid: SparkDataFrame | None = None,
        callbacks: list | None = None,
    ) -> LightGBMClickModel:
        """Fit the encoder on ``train`` and train LightGBM with early stopping on ``valid``.

        ``callbacks`` must be None: SynapseML trains in the executors, where Python callbacks
        cannot run (the argument is there to keep the pandas twin's signature). The model
        fits its own unfitted copy of the encoder it was given, as the pandas twin does."""
        from pyspark.sql import functions as F

        if callbacks:
            raise InputError("callbacks cannot run inside SynapseML's training")
        require_spark_frame(train, [], "train")
        self.encoder = clone(self.encoder)
        if valid is None:
            weights = [1 - self.valid_fraction, self.valid_fraction]
            train, valid = train.randomSplit(weights, seed=self.seed)
        data = (
            self.encoder.fit_transform(train)
            .withColumn("_valid", F.lit(False))
            .unionByName(self.encoder.transform(valid).withColumn("_valid", F.lit(True)))
        )
        # LightGBM reads its input several times (counts, bins, training): materialise the
        # encoded vectors once instead of re-running the encoding each time
        assembled = _assemble(data, self.encoder).select(
            "_features", self.encoder.col_label, "_valid"
        )
        assembled = assembled.cache()
        try:
            assembled.count()
            self.model = self._classifier(train).fit(assembled)
        finally:
            assembled.unpersist()
        trees = int(self.model.getBoosterNumTotalIterations())
        # SynapseML keeps only the trees up to the best iteration: the text model is used whole
        self.meta = ModelMeta(
            params=self.booster_params,
            num_boost_round=self.num_boost_round,
            early_stopping_rounds=self.early_stopping_rounds,
            best_iteration=None,
            features=self.encoder.feature_names,
            categorical_features=self.encoder.categorical_features,
            trees=trees,
            trained_with="synapseml",
            model_params=saved_params(self),
        )
        return self

    def _classifier(self, train: SparkDataFrame) -> Any:
        from synapse.ml.lightgbm import LightGBMClassifier

        names = self.encoder.feature_names
        kwargs = {PARAM_NAMES[k]: v for k, v in self.booster_params.items() if k in PARAM_NAMES}
        context = train.sparkSession.sparkContext
        if not is_local(train.sparkSession) and not context.getConf().get("spark.executor.cores"):
            kwargs["numTasks"] = _task_slots(context)
        return LightGBMClassifier(
            objective="binary",
            featuresCol="_features",
            labelCol=self.encoder.col_label,
            **_INTERNAL_COLUMNS,
            validationIndicatorCol="_valid",
            earlyStoppingRound=self.early_stopping_rounds,
            numIterations=self.num_boost_round,
            categoricalSlotIndexes=[names.index(c) for c in self.encoder.categorical_features],
            metric="binary_logloss",
            verbosity=-1,
            useBarrierExecutionMode=False,
            **kwargs,
        )

    def predict_proba(self, data: SparkDataFrame) -> SparkDataFrame:
        """``data`` with the column ``probability``: the click probability (double)."""
        from pyspark.ml.functions import vector_to_array
        from pyspark.sql import functions as F

        model = require_fitted(self.model, self)
        scored = model.transform(_assemble(self.encoder.transform(data), self.encoder))
        scored = scored.withColumn(PROBABILITY_COL, vector_to_array(F.col("_probability"))[1])
        return scored.drop("_features", *_INTERNAL_COLUMNS.values())

    def evaluate(self, data: SparkDataFrame) -> dict[str, float]:
        """AUC and logloss on labelled rows, computed on Spark."""
        from recommenders_kit.evaluation import spark as sev

        label = self.encoder.col_label
        scored = self.predict_proba(data.drop(PROBABILITY_COL)).select(label, PROBABILITY_COL)
        # the metrics read the scores several times (their checks, AUC, logloss): encode and
        # score the rows once, not once a read
        scored = scored.cache()
        try:
            return {
                "auc": sev.auc(scored, col_label=label, col_prediction=PROBABILITY_COL),
                "logloss": sev.logloss(scored, col_label=label, col_prediction=PROBABILITY_COL),
            }
        finally:
            scored.unpersist()

    def feature_importance(self, importance_type: str = "gain") -> pd.Series:
        """Importance per feature (``"gain"`` or ``"split"``), largest first."""
        values = require_fitted(self.model, self).getFeatureImportances(importance_type)
        return pd.Series(values, index=self.encoder.feature_names).sort_values(ascending=False)

    def save(self, path: str | os.PathLike[str], overwrite: bool = False) -> str:
        """Write the pandas twin's folder (``model.txt``, ``encoder.json``, ``meta.json``) to
        the local (driver) folder ``path`` (replaced only with ``overwrite``); returns it."""
        meta = require_fitted(self.meta, self)
        return write_folder(path, self.model_text(), self.encoder.to_json(), meta, overwrite)

    def model_text(self) -> str:
        """LightGBM's text model (SynapseML keeps the trees up to the best iteration): what
        ``save`` writes to ``model.txt``."""
        return str(require_fitted(self.model, self).getNativeModel())

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> LightGBMClickModel:
        """Load a saved click-model folder (from either engine) into SynapseML."""
        from synapse.ml.lightgbm import LightGBMClassificationModel

        text, encoder_json, meta = read_folder(path)
        params = restored_params(meta)
        # a folder from the pandas twin may carry LightGBM parameters SynapseML lacks
        params["params"] = {
            k: v for k, v in params.get("params", {}).items() if k in PARAM_NAMES or k in _SET_HERE
        }
        obj = cls(encoder=FeatureEncoder.from_json(encoder_json), **params)
        model = LightGBMClassificationModel.loadNativeModelFromString(text)
        obj.model = model.setFeaturesCol("_features").setParams(**_INTERNAL_COLUMNS)
        obj.meta = meta
        return obj


def _task_slots(context: Any) -> int:
    """The cores the executors registered: as many LightGBM tasks can run at once.

    (``defaultParallelism`` is no measure: ``spark.default.parallelism`` may say anything.)"""
    try:
        return max(int(context._jsc.sc().schedulerBackend().totalCoreCount()), 1)
    except Exception:  # not a coarse-grained backend: Spark's own estimate
        return int(context.defaultParallelism)


def _assemble(encoded: SparkDataFrame, encoder: EncoderBase) -> SparkDataFrame:
    from pyspark.ml.feature import VectorAssembler

    return VectorAssembler(
        inputCols=encoder.feature_names, outputCol="_features", handleInvalid="keep"
    ).transform(encoded)
