"""SynapseML LightGBM on local Spark (jars from the Ivy cache): quality vs native, and the
exported native model serves the same probabilities."""

from __future__ import annotations

import numpy as np
import pytest

from recommenders_kit.datasets import criteo
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.models.lightgbm.features import FeatureEncoder
from recommenders_kit.models.lightgbm.native import LightGBMClickModel
from recommenders_kit.models.lightgbm.synapse import SynapseLightGBMClickModel

pytestmark = [pytest.mark.spark, pytest.mark.slow]


def test_synapse_matches_native_quality_and_exports_the_same_model(spark, tmp_path):
    frame, _ = generate(20_000, seed=11)
    train, test = frame.iloc[:16_000], frame.iloc[16_000:]
    params = {"num_leaves": 31, "min_data_in_leaf": 50}
    native = LightGBMClickModel(
        FeatureEncoder(min_count=5), params=params, progress=False, valid_fraction=0.1
    ).fit(train.iloc[:14_400], train.iloc[14_400:])
    syn = SynapseLightGBMClickModel(FeatureEncoder(min_count=5), params=params).fit(
        criteo.to_spark(spark, train.iloc[:14_400]), criteo.to_spark(spark, train.iloc[14_400:])
    )
    stest = criteo.to_spark(spark, test)
    syn_scores = syn.evaluate(stest)
    assert abs(syn_scores["auc"] - native.evaluate(test)["auc"]) < 0.01
    folder = syn.export(tmp_path / "synapse_model")
    served = LightGBMClickModel.load(folder)
    p_served = served.predict_proba(test)
    p_spark = syn.predict_proba(stest).toPandas()["probability"].to_numpy()
    np.testing.assert_allclose(p_served, p_spark, atol=1e-9)
    assert syn.feature_importance().index[0] in syn.encoder.feature_names


def test_rejects_parameters_without_a_synapse_name():
    with pytest.raises(ValueError, match="no SynapseML equivalent"):
        SynapseLightGBMClickModel(params={"extra_trees": True})
