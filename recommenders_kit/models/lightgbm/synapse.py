"""LightGBM click model distributed on Spark with SynapseML.

:class:`SynapseLightGBMClickModel` mirrors
:class:`~recommenders_kit.models.lightgbm.native.LightGBMClickModel` on Spark DataFrames: the
same :class:`FeatureEncoder` (fitted with one Spark aggregation, applied with broadcast joins),
the encoded columns assembled into a vector (``VectorAssembler``, missing values kept as NaN,
LightGBM's missing), and ``synapse.ml.lightgbm.LightGBMClassifier`` with the same
hyperparameters (mapped from LightGBM's names), the ordinal columns declared categorical, and
early stopping on a validation indicator column.

:meth:`~SynapseLightGBMClickModel.export` writes the trained booster with ``saveNativeModel``'s
text format plus ``encoder.json`` and ``meta.json``: the folder layout of the native model,
so ``LightGBMClickModel.load(folder)`` and the scoring service serve both.

The session needs the SynapseML jars:
``start_or_get_spark(packages=[recommenders_kit.spark.SYNAPSEML_PACKAGE])`` (``scripts/setup.sh``
pre-fetches them into the Ivy cache; on Databricks install the Maven library).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recommenders_kit.constants import DEFAULT_SEED
from recommenders_kit.models.lightgbm.features import FeatureEncoder
from recommenders_kit.models.lightgbm.native import DEFAULT_PARAMS, check_training_args

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

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
_IGNORED = {"objective", "verbose", "metric"}  # set by this class


class SynapseLightGBMClickModel:
    """Encoder + SynapseML LightGBM on Spark; arguments as ``LightGBMClickModel``.

    ``valid_fraction`` holds out a random share of the training rows (a Spark DataFrame has
    no row order) when no ``valid`` frame is given.
    """

    def __init__(
        self,
        encoder: FeatureEncoder | None = None,
        params: dict[str, Any] | None = None,
        num_boost_round: int = 1000,
        early_stopping_rounds: int = 30,
        valid_fraction: float = 0.1,
        seed: int = DEFAULT_SEED,
    ):
        check_training_args(num_boost_round, early_stopping_rounds, valid_fraction)
        params = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
        unknown = sorted(set(params) - set(PARAM_NAMES) - _IGNORED)
        if unknown:
            raise ValueError(
                f"params {unknown} have no SynapseML equivalent here; "
                f"supported: {sorted(PARAM_NAMES)}"
            )
        self.encoder = encoder or FeatureEncoder()
        self.params = params
        self.num_boost_round, self.early_stopping_rounds = num_boost_round, early_stopping_rounds
        self.valid_fraction, self.seed = valid_fraction, seed
        self.model = None
        self.meta: dict[str, Any] = {}

    def _assemble(self, encoded: SparkDataFrame) -> SparkDataFrame:
        from pyspark.ml.feature import VectorAssembler

        return VectorAssembler(
            inputCols=self.encoder.feature_names, outputCol="_features", handleInvalid="keep"
        ).transform(encoded)

    def fit(self, train: SparkDataFrame, valid: SparkDataFrame | None = None):
        """Fit the encoder on ``train`` and train LightGBM with early stopping on ``valid``."""
        from pyspark.sql import functions as F
        from synapse.ml.lightgbm import LightGBMClassifier

        if valid is None:
            train, valid = train.randomSplit(
                [1 - self.valid_fraction, self.valid_fraction], seed=self.seed
            )
        self.encoder.fit_spark(train)
        oof = bool(self.encoder.fold_col)
        data = (
            self.encoder.transform_spark(train, out_of_fold=oof)
            .withColumn("_valid", F.lit(False))
            .unionByName(
                self.encoder.transform_spark(valid).withColumn("_valid", F.lit(True)),
                allowMissingColumns=True,
            )
        )
        names = self.encoder.feature_names
        categorical = [names.index(c) for c in self.encoder.categorical_features]
        kwargs = {PARAM_NAMES[k]: v for k, v in self.params.items() if k in PARAM_NAMES}
        classifier = LightGBMClassifier(
            objective="binary",
            featuresCol="_features",
            labelCol=self.encoder.label_col,
            validationIndicatorCol="_valid",
            earlyStoppingRound=self.early_stopping_rounds,
            numIterations=self.num_boost_round,
            categoricalSlotIndexes=categorical,
            metric="binary_logloss",
            verbosity=-1,
            useBarrierExecutionMode=False,
            **kwargs,
        )
        # LightGBM reads its input several times (counts, bins, training): materialise the
        # encoded vectors once instead of re-running the encoding joins each time
        assembled = self._assemble(data).select("_features", self.encoder.label_col, "_valid")
        assembled = assembled.cache()
        try:
            assembled.count()
            self.model = classifier.fit(assembled)
        finally:
            assembled.unpersist()
        self.meta = {
            "params": self.params,
            "num_boost_round": self.num_boost_round,
            "early_stopping_rounds": self.early_stopping_rounds,
            # SynapseML keeps only the trees up to the best iteration (reported 0-based), so
            # the exported text model is used whole: no iteration cut when serving
            "best_iteration": None,
            "trees": int(self.model.getBoosterNumTotalIterations()),
            "features": names,
            "categorical_features": self.encoder.categorical_features,
            "trained_with": "synapseml",
        }
        return self

    def predict_proba(
        self, data: SparkDataFrame, col_output: str = "probability"
    ) -> SparkDataFrame:
        """``data`` with a ``col_output`` column: the click probability (double)."""
        from pyspark.ml.functions import vector_to_array
        from pyspark.sql import functions as F

        model = self._fitted()
        scored = model.transform(self._assemble(self.encoder.transform_spark(data)))
        return scored.withColumn(
            col_output, vector_to_array(F.col(model.getProbabilityCol()))[1]
        ).drop("_features", model.getRawPredictionCol(), model.getPredictionCol())

    def evaluate(self, data: SparkDataFrame) -> dict[str, float]:
        """AUC and logloss on labelled rows, computed on Spark."""
        from recommenders_kit.evaluation import spark as seval

        scored = self.predict_proba(
            data.select(*[c for c in data.columns if c != "probability"]), col_output="_p"
        )
        label = self.encoder.label_col
        return {
            "auc": seval.auc(scored, col_label=label, col_prediction="_p"),
            "logloss": seval.logloss(scored, col_label=label, col_prediction="_p"),
        }

    def feature_importance(self, importance_type: str = "gain"):
        """Importance per feature, largest first (pandas Series)."""
        import pandas as pd

        values = self._fitted().getFeatureImportances(importance_type)
        return pd.Series(values, index=self.encoder.feature_names).sort_values(ascending=False)

    def export(self, path: str | Path) -> Path:
        """Write ``model.txt`` (LightGBM text format), ``encoder.json`` and ``meta.json`` to a
        local folder that ``LightGBMClickModel.load`` reads."""
        model = self._fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "model.txt").write_text(model.getNativeModel())
        (folder / "encoder.json").write_text(self.encoder.to_json())
        (folder / "meta.json").write_text(json.dumps(self.meta, indent=2, default=float))
        return folder

    def _fitted(self):
        if self.model is None:
            raise RuntimeError("the model is not fitted: call fit(train) first")
        return self.model
