"""EASE on Spark: the pandas twin's weights, lists, scores and errors."""

from __future__ import annotations

import numpy as np
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


TOO_MANY_ITEMS = pytest.param(
    GOOD, lambda cls, data: cls(max_items=2).fit(data), "3 items would take", id="max_items"
)


@pytest.mark.parametrize(("frame", "call", "error"), [*BAD_INPUT, TOO_MANY_ITEMS])
def test_bad_input_is_the_pandas_twins_error(spark, frame, call, error):
    assert_same_error(spark, twin.EASERecommender, EASERecommender, frame, call, error)
