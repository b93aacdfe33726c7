"""LightGBM click-probability model on one machine (pandas in, probabilities out).

:class:`LightGBMClickModel` = a fitted
:class:`~recommenders_kit.models.lightgbm.features.FeatureEncoder` + a LightGBM booster
trained with the ordinal-coded columns declared categorical, early stopping on a validation
split, and a progress bar. It saves as a folder that needs no pickle:

* ``model.txt``: LightGBM's text model format (``lightgbm.Booster(model_file=...)`` loads it;
  SynapseML's ``saveNativeModel`` writes the same format, so one scoring path serves both);
* ``encoder.json``: the encoder statistics;
* ``meta.json``: parameters, feature names, best iteration, validation metrics.

Example:
    >>> model = LightGBMClickModel().fit(train)          # doctest: +SKIP
    >>> model.evaluate(test)                              # doctest: +SKIP
    {'auc': 0.79, 'logloss': 0.47}
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from recommenders_kit._validate import require_positive_int
from recommenders_kit.constants import DEFAULT_SEED
from recommenders_kit.evaluation.classification import auc, logloss
from recommenders_kit.models.lightgbm.features import FeatureEncoder

#: LightGBM parameters used unless overridden (names as LightGBM spells them).
DEFAULT_PARAMS: dict[str, Any] = {
    "objective": "binary",
    "learning_rate": 0.1,
    "num_leaves": 63,
    "min_data_in_leaf": 100,
    "feature_fraction": 0.8,
    "max_bin": 255,
    "max_cat_to_onehot": 4,
    "cat_smooth": 10.0,
    "cat_l2": 10.0,
    "verbose": -1,
}


def check_training_args(num_boost_round: int, early_stopping_rounds: int, valid_fraction: float):
    """Validate the boosting arguments shared by the native and SynapseML models."""
    require_positive_int(num_boost_round, "num_boost_round")
    if early_stopping_rounds < 0:
        raise ValueError(f"early_stopping_rounds must be >= 0, got {early_stopping_rounds}")
    if not 0 < valid_fraction < 1:
        raise ValueError(f"valid_fraction must be in (0, 1), got {valid_fraction}")


class LightGBMClickModel:
    """Encoder + LightGBM booster; fit / predict_proba / evaluate / save / load.

    Args:
        encoder: an unfitted encoder (default: ordinal codes, ``min_count=10``).
        params: LightGBM parameters merged over :data:`DEFAULT_PARAMS`.
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
        self.params = {**DEFAULT_PARAMS, **(params or {}), "seed": seed}
        self.num_boost_round, self.early_stopping_rounds = num_boost_round, early_stopping_rounds
        self.valid_fraction, self.progress = valid_fraction, progress
        self.booster = None
        self.meta: dict[str, Any] = {}

    def fit(
        self,
        train: pd.DataFrame,
        valid: pd.DataFrame | None = None,
        callbacks: list | None = None,
    ) -> LightGBMClickModel:
        """Fit the encoder on ``train`` and boost trees with early stopping on ``valid``.

        ``callbacks``: extra LightGBM callbacks (e.g. a sweep's pruning check); they see the
        validation set as ``"valid"`` with metrics ``binary_logloss`` and ``auc``.
        """
        import lightgbm as lgb

        if valid is None:
            cut = int(len(train) * (1 - self.valid_fraction))
            if cut < 1 or cut >= len(train):
                raise ValueError(
                    f"train has too few rows ({len(train)}) to hold out a validation split"
                )
            train, valid = train.iloc[:cut], train.iloc[cut:]
        x_train = self.encoder.fit_transform(train)
        x_valid = self.encoder.transform(valid)
        label = self.encoder.label_col
        dtrain = lgb.Dataset(
            x_train,
            label=train[label].to_numpy(),
            categorical_feature=self.encoder.categorical_features,
            free_raw_data=True,
        )
        dvalid = lgb.Dataset(x_valid, label=valid[label].to_numpy(), reference=dtrain)
        callbacks = [lgb.record_evaluation(history := {}), *(callbacks or [])]
        if self.early_stopping_rounds:
            callbacks.append(lgb.early_stopping(self.early_stopping_rounds, verbose=False))
        bar = _progress(self.num_boost_round, self.progress)
        callbacks.append(bar.callback)
        params = {**self.params, "metric": ["binary_logloss", "auc"]}
        try:
            self.booster = lgb.train(
                params,
                dtrain,
                num_boost_round=self.num_boost_round,
                valid_sets=[dvalid],
                valid_names=["valid"],
                callbacks=callbacks,
            )
        finally:
            bar.close()
        best = self.booster.best_iteration or self.booster.current_iteration()
        self.meta = {
            "params": self.params,
            "num_boost_round": self.num_boost_round,
            "early_stopping_rounds": self.early_stopping_rounds,
            "best_iteration": best,
            "features": self.encoder.feature_names,
            "categorical_features": self.encoder.categorical_features,
            "valid": {
                "auc": history["valid"]["auc"][best - 1],
                "logloss": history["valid"]["binary_logloss"][best - 1],
            },
        }
        return self

    def predict_proba(self, data: pd.DataFrame | Sequence[Mapping[str, Any]]) -> np.ndarray:
        """Click probability of each row (1-d float64 array).

        ``data``: a DataFrame, or a list of records (mappings of column to value, ``None``
        for missing) - the same probabilities, faster for a handful of rows (a scoring
        request), see :meth:`FeatureEncoder.transform_records`.
        """
        booster = self._fitted()
        if isinstance(data, pd.DataFrame):
            x = self.encoder.transform(data)
        else:
            x = self.encoder.transform_records(data)
        return booster.predict(x, num_iteration=self.meta.get("best_iteration") or None)

    def evaluate(self, data: pd.DataFrame) -> dict[str, float]:
        """AUC and logloss on labelled rows."""
        p = self.predict_proba(data)
        y = data[self.encoder.label_col].to_numpy()
        return {"auc": auc(y, p), "logloss": logloss(y, p)}

    def feature_importance(self, importance_type: str = "gain") -> pd.Series:
        """Importance per feature (``"gain"`` or ``"split"``), largest first."""
        booster = self._fitted()
        values = booster.feature_importance(importance_type=importance_type)
        return pd.Series(values, index=booster.feature_name()).sort_values(ascending=False)

    def save(self, path: str | Path) -> Path:
        """Write ``model.txt``, ``encoder.json`` and ``meta.json`` into the folder ``path``."""
        booster = self._fitted()
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        booster.save_model(str(folder / "model.txt"), num_iteration=self.meta.get("best_iteration"))
        (folder / "encoder.json").write_text(self.encoder.to_json())
        (folder / "meta.json").write_text(json.dumps(self.meta, indent=2, default=float))
        return folder

    @classmethod
    def load(cls, path: str | Path) -> LightGBMClickModel:
        """Load a folder written by :meth:`save` (or by the SynapseML model's export)."""
        import lightgbm as lgb

        folder = Path(path)
        for name in ("model.txt", "encoder.json"):
            if not (folder / name).exists():
                raise FileNotFoundError(f"{folder / name} is missing: not a saved click model")
        obj = cls(
            encoder=FeatureEncoder.from_json((folder / "encoder.json").read_text()), progress=False
        )
        obj.booster = lgb.Booster(model_file=str(folder / "model.txt"))
        meta_path = folder / "meta.json"
        obj.meta = json.loads(meta_path.read_text()) if meta_path.exists() else {}
        return obj

    def _fitted(self):
        if self.booster is None:
            raise RuntimeError("the model is not fitted: call fit(train) or load(path) first")
        return self.booster


class _progress:
    """A tqdm bar advanced by a LightGBM callback."""

    def __init__(self, total: int, enabled: bool):
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="boosting", unit="tree", disable=not enabled, leave=False)

    def callback(self, env) -> None:
        self.bar.update(1)
        if env.evaluation_result_list:
            _, metric, value, _ = env.evaluation_result_list[0]
            self.bar.set_postfix({metric: f"{value:.4f}"}, refresh=False)

    def close(self) -> None:
        self.bar.close()
