"""LightGBM on one machine: real Criteo rows end to end, generated data near the ceiling."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pytest

from recommenders_kit.datasets import criteo
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.evaluation.classification import auc
from recommenders_kit.models.lightgbm.features import FeatureEncoder
from recommenders_kit.models.lightgbm.native import LightGBMClickModel


def test_real_rows_through_the_whole_pipeline(tmp_path):
    rows = criteo.load_pandas_df("sample")
    train, test = rows.iloc[:800], rows.iloc[800:]
    model = LightGBMClickModel(
        FeatureEncoder(methods=("ordinal", "count"), min_count=3),
        params={"min_data_in_leaf": 20, "num_leaves": 15},
        num_boost_round=200,
        progress=False,
    ).fit(train)
    scores = model.evaluate(test)
    assert 0.5 < scores["auc"] <= 1 and 0 < scores["logloss"] < 1
    p = model.predict_proba(test)
    assert p.shape == (200,) and ((p > 0) & (p < 1)).all()
    folder = model.save(tmp_path / "model")
    assert {f.name for f in folder.iterdir()} == {"model.txt", "encoder.json", "meta.json"}
    np.testing.assert_allclose(LightGBMClickModel.load(folder).predict_proba(test), p, rtol=1e-12)
    # records (the scoring service's path) give the same probabilities as the frame
    np.testing.assert_array_equal(model.predict_proba(test.to_dict("records")), p)
    # the text model is plain LightGBM: no pickle, no library needed to read it
    booster = lgb.Booster(model_file=str(folder / "model.txt"))
    np.testing.assert_allclose(booster.predict(model.encoder.transform(test)), p, rtol=1e-12)
    assert set(model.feature_importance().index) == set(model.encoder.feature_names)


def test_generated_data_gets_close_to_the_ceiling():
    frame, prob = generate(40_000, seed=5)
    train, test = frame.iloc[:32_000], frame.iloc[32_000:]
    model = LightGBMClickModel(progress=False).fit(train)
    ceiling = auc(test["label"], prob[32_000:])
    got = model.evaluate(test)["auc"]
    assert ceiling - 0.04 < got <= ceiling + 0.005
    assert model.meta["best_iteration"] < 1000  # early stopping stopped it


def test_errors(tmp_path):
    with pytest.raises(RuntimeError, match="not fitted"):
        LightGBMClickModel().predict_proba(criteo.load_pandas_df("sample"))
    with pytest.raises(ValueError, match="valid_fraction"):
        LightGBMClickModel(valid_fraction=1.5)
    with pytest.raises(FileNotFoundError, match="model.txt is missing"):
        LightGBMClickModel.load(tmp_path)
