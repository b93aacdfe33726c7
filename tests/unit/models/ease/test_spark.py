"""EASE on Spark: the pandas twin's weights, lists, scores and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.models.ease import pandas as twin
from recommenders_kit.models.ease.spark import EASERecommender
from tests.support.twins import BAD_INPUT, GOOD, assert_same_error, assert_twins_agree

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("weighting", ["binary", "rating"])
def test_the_same_as_the_pandas_twin(spark, ml100k, weighting):
    ours = twin.EASERecommender(lam=200.0, weighting=weighting)
    theirs = EASERecommender(lam=200.0, weighting=weighting)
    assert_twins_agree(ours, theirs, ml100k.head(5_000), spark)
    np.testing.assert_allclose(theirs.model.weights, ours.model.weights, atol=1e-6)


@pytest.mark.parametrize("band_values", [1 << 21, 4_096], ids=["one band", "bands of 4 rows"])
def test_a_users_rows_spread_over_partitions_and_repeated_pairs(
    spark, ml100k, monkeypatch, band_values
):
    """The Gram matrix needs each user's whole history: rows dealt round-robin over partitions,
    some (user, item) pairs twice with other ratings, give the pandas twin's weights, whether
    the executors add the matrix up in one band of rows or in hundreds."""
    monkeypatch.setattr("recommenders_kit.models.ease.spark._BAND_VALUES", band_values)
    rows = ml100k.head(3_000)
    again = rows.sample(500, random_state=1).assign(rating=lambda f: 6.0 - f["rating"])
    frame = pd.concat([rows, again], ignore_index=True)
    ours = twin.EASERecommender(lam=50.0, weighting="rating").fit(frame)
    theirs = EASERecommender(lam=50.0, weighting="rating")
    theirs.fit(spark.createDataFrame(frame).repartition(7))
    np.testing.assert_allclose(theirs.model.weights, ours.model.weights, atol=1e-6)


TOO_MANY_ITEMS = pytest.param(
    GOOD, lambda cls, data: cls(max_items=2).fit(data), "3 items would take", id="max_items"
)


@pytest.mark.parametrize(("frame", "call", "error"), [*BAD_INPUT, TOO_MANY_ITEMS])
def test_bad_input_is_the_pandas_twins_error(spark, frame, call, error):
    assert_same_error(spark, twin.EASERecommender, EASERecommender, frame, call, error)
