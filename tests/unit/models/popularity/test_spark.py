"""Popularity on Spark: the pandas twin's lists, scores and errors."""

from __future__ import annotations

import numpy as np
import pytest

from recommenders_kit.models.popularity import pandas as twin
from recommenders_kit.models.popularity.spark import PopularityRecommender
from tests.support.twins import BAD_INPUT, assert_same_error, assert_twins_agree, to_spark

pytestmark = pytest.mark.spark


@pytest.mark.parametrize("weighting", ["binary", "rating"])
def test_the_same_as_the_pandas_twin(spark, ml100k, weighting):
    assert_twins_agree(
        twin.PopularityRecommender(weighting=weighting),
        PopularityRecommender(weighting=weighting),
        ml100k.head(5_000),
        spark,
    )


def test_the_most_popular_items(spark, ml100k):
    expected = twin.PopularityRecommender().fit(ml100k).popular(10)
    got = PopularityRecommender().fit(to_spark(spark, ml100k)).popular(10).toPandas()
    assert got["itemID"].tolist() == expected["itemID"].tolist()
    np.testing.assert_allclose(got["prediction"], expected["prediction"], rtol=1e-6)


@pytest.mark.parametrize(("frame", "call", "error"), BAD_INPUT)
def test_bad_input_is_the_pandas_twins_error(spark, frame, call, error):
    assert_same_error(spark, twin.PopularityRecommender, PopularityRecommender, frame, call, error)
