"""Spark beyond-accuracy metrics agree with the pandas ones."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev
from tests.unit.evaluation.pandas.test_beyond import RECO, TRAIN

pytestmark = pytest.mark.spark


def test_coverage_agrees(spark, ml100k_predictions):
    test, top, _ = ml100k_predictions
    reco = top.groupby("userID").head(10)
    assert sev.catalog_coverage(
        spark.createDataFrame(test), spark.createDataFrame(reco)
    ) == pytest.approx(pev.catalog_coverage(test, reco), abs=1e-12)
    assert sev.distributional_coverage(spark.createDataFrame(reco)) == pytest.approx(
        pev.distributional_coverage(reco), abs=1e-9
    )


def test_novelty_and_diversity_agree(spark, ml100k_predictions):
    test, top, _ = ml100k_predictions
    reco = top.groupby("userID").head(5)
    train, reco_sdf = spark.createDataFrame(test), spark.createDataFrame(reco)
    assert sev.novelty(train, reco_sdf) == pytest.approx(pev.novelty(test, reco), abs=1e-9)
    assert sev.diversity(train, reco_sdf) == pytest.approx(pev.diversity(test, reco), abs=1e-9)


def test_hand_worked_examples(spark):
    pev_train, pev_reco = TRAIN, RECO
    train, reco = spark.createDataFrame(TRAIN), spark.createDataFrame(RECO)
    for name in ["novelty", "catalog_coverage"]:
        want = getattr(pev, name)(pev_train, pev_reco)
        assert getattr(sev, name)(train, reco) == pytest.approx(want, abs=1e-12)
    assert sev.diversity(train, reco) == pytest.approx(1 - 1 / math.sqrt(3), abs=1e-12)
    feats = pd.DataFrame({"itemID": [1, 2, 3], "features": [[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]})
    want = pev.diversity(TRAIN, RECO, item_feature_df=feats)
    got = sev.diversity(train, reco, item_feature_df=spark.createDataFrame(feats))
    assert got == pytest.approx(want, abs=1e-12)
    assert want == pytest.approx(1 - (1 / math.sqrt(2) + 0) / 2)


def test_errors(spark):
    train, reco = spark.createDataFrame(TRAIN), spark.createDataFrame(RECO)
    with pytest.raises(ValueError, match="reco_df is empty"):
        sev.catalog_coverage(train, reco.limit(0))
    with pytest.raises(ValueError, match="no recommended item"):
        sev.novelty(train, spark.createDataFrame(RECO.assign(itemID=99)))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['itemID'\]"):
        sev.distributional_coverage(reco.drop("itemID"))
    feats = spark.createDataFrame(
        pd.DataFrame({"itemID": [1, 2], "features": [[1.0, 0.0], [0.0, 1.0]]})
    )
    with pytest.raises(ValueError, match="lacks features for 1 items"):
        sev.diversity(train, reco, item_feature_df=feats)
