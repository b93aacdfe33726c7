"""Spark rating metrics agree with the pandas ones on real MovieLens."""

from __future__ import annotations

import pytest

from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev

pytestmark = pytest.mark.spark

RATING = ["rmse", "mae", "rsquared", "exp_var"]


def test_real_movielens_rating_agrees_to_1e9(spark, ml100k_predictions):
    test, _, grid = ml100k_predictions
    scored = grid.merge(test[["userID", "itemID"]])  # the test pairs the model can score
    want = pev.evaluate(test, scored, metrics=RATING)
    got = sev.evaluate(spark.createDataFrame(test), spark.createDataFrame(scored), metrics=RATING)
    assert got == pytest.approx(want, abs=1e-9)
    assert 0.8 < want["rmse"] < 1.2
