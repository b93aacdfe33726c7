"""The Spark splitters on real MovieLens 100k: partitions, per-user counts equal to pandas'."""

from __future__ import annotations

import pandas as pd
import pytest

from recommenders_kit.split import pandas as psplit
from recommenders_kit.split import spark as ssplit

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def sdf(spark, ml100k):
    return spark.createDataFrame(ml100k).cache()


def _per_user(frame):
    return frame.groupby("userID").size()


@pytest.mark.parametrize("ratio", [0.75, [0.6, 0.2, 0.2]])
def test_stratified_partitions_and_matches_pandas_counts(sdf, ml100k, ratio):
    splits = [s.toPandas() for s in ssplit.stratified_split(sdf, ratio, seed=7)]
    joined = pd.concat(splits)
    assert len(joined) == len(ml100k)
    assert not joined.duplicated(["userID", "itemID"]).any()
    for got, want in zip(splits, psplit.stratified_split(ml100k, ratio, seed=7), strict=True):
        pd.testing.assert_series_equal(_per_user(got).sort_index(), _per_user(want).sort_index())
    again = [s.toPandas() for s in ssplit.stratified_split(sdf.repartition(7), ratio, seed=7)]
    for a, b in zip(splits, again, strict=True):  # same rows whatever the partitioning
        key = ["userID", "itemID"]
        pd.testing.assert_frame_equal(
            a.sort_values(key).reset_index(drop=True), b.sort_values(key).reset_index(drop=True)
        )


def test_chronological_matches_pandas_and_respects_time(sdf, ml100k):
    train, test = (s.toPandas() for s in ssplit.chronological_split(sdf, 0.8))
    assert len(train) + len(test) == len(ml100k)
    want_train, _ = psplit.chronological_split(ml100k, 0.8)
    pd.testing.assert_series_equal(
        _per_user(train).sort_index(), _per_user(want_train).sort_index()
    )
    last = train.groupby("userID")["timestamp"].max()
    first = test.groupby("userID")["timestamp"].min()
    assert (first >= last[first.index]).all()


def test_item_grouping_and_min_rating(sdf, ml100k):
    train, test = ssplit.stratified_split(sdf, 0.5, min_rating=50, filter_by="item")
    kept = ml100k.groupby("itemID").size()
    assert train.count() + test.count() == int(kept[kept >= 50].sum())


def test_random_split_shares(sdf):
    parts = ssplit.random_split(sdf, [0.5, 0.3, 0.2], seed=3)
    counts = [p.count() for p in parts]
    assert sum(counts) == 100_000
    assert all(abs(c / 100_000 - w) < 0.01 for c, w in zip(counts, [0.5, 0.3, 0.2], strict=True))


def test_bad_input(spark, sdf):
    with pytest.raises(ValueError, match="ratio"):
        ssplit.stratified_split(sdf, 1.2)
    with pytest.raises(ValueError, match="filter_by"):
        ssplit.chronological_split(sdf, 0.5, filter_by="x")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['ts'\]"):
        ssplit.chronological_split(sdf, 0.5, col_timestamp="ts")
    with pytest.raises(ValueError, match="empty"):
        ssplit.random_split(sdf.limit(0))
