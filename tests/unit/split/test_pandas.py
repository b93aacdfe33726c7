"""Properties of the pandas splitters (hypothesis), exact counts, and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from recommenders_kit.split.pandas import chronological_split, random_split, stratified_split

RATIOS = st.one_of(
    st.floats(0.05, 0.95),
    st.lists(st.floats(0.1, 5.0), min_size=2, max_size=4),
)


@st.composite
def interactions(draw):
    n = draw(st.integers(1, 120))
    users = draw(st.lists(st.integers(0, 12), min_size=n, max_size=n))
    times = draw(st.lists(st.integers(0, 30), min_size=n, max_size=n))  # many ties
    return pd.DataFrame(
        {
            "userID": users,
            "itemID": np.arange(n) * 7 % 23,
            "rating": 1.0,
            "timestamp": times,
        },
        index=np.arange(n) * 3 + 100,
    )  # a non-default index must survive


def _shares(ratio):
    weights = [ratio, 1 - ratio] if isinstance(ratio, float) else ratio
    return [w / sum(weights) for w in weights]


def _assert_partition(data, splits):
    joined = pd.concat(splits)
    assert len(joined) == len(data)
    assert joined.index.is_unique
    pd.testing.assert_frame_equal(joined.sort_index(), data.sort_index())
    for s in splits:  # each split keeps the input's row order
        assert s.index.is_monotonic_increasing


@settings(max_examples=60, deadline=None)
@given(interactions(), RATIOS, st.integers(0, 10))
def test_random_split_partitions_with_exact_counts(data, ratio, seed):
    splits = random_split(data, ratio, seed=seed)
    _assert_partition(data, splits)
    shares = _shares(ratio)
    assert len(splits) == len(shares)
    for s, share in zip(splits, shares, strict=True):
        assert abs(len(s) - share * len(data)) <= 1
    again = random_split(data, ratio, seed=seed)
    assert all(a.index.equals(b.index) for a, b in zip(splits, again, strict=True))


@settings(max_examples=60, deadline=None)
@given(interactions(), RATIOS, st.integers(0, 10), st.sampled_from(["user", "item"]))
def test_stratified_split_per_group_shares(data, ratio, seed, filter_by):
    splits = stratified_split(data, ratio, seed=seed, filter_by=filter_by)
    _assert_partition(data, splits)
    group = "userID" if filter_by == "user" else "itemID"
    sizes = data.groupby(group).size()
    for s, share in zip(splits, _shares(ratio), strict=True):
        got = s.groupby(group).size().reindex(sizes.index, fill_value=0)
        assert (abs(got - share * sizes) <= 1 + 1e-9).all()
    again = stratified_split(data, ratio, seed=seed, filter_by=filter_by)
    assert all(a.index.equals(b.index) for a, b in zip(splits, again, strict=True))


@settings(max_examples=60, deadline=None)
@given(interactions(), RATIOS)
def test_chronological_split_never_puts_the_future_first(data, ratio):
    splits = chronological_split(data, ratio)
    _assert_partition(data, splits)
    sizes = data.groupby("userID").size()
    for s, share in zip(splits, _shares(ratio), strict=True):
        got = s.groupby("userID").size().reindex(sizes.index, fill_value=0)
        assert (abs(got - share * sizes) <= 1 + 1e-9).all()
    for earlier, later in zip(splits, splits[1:], strict=False):
        last = earlier.groupby("userID")["timestamp"].max()
        first = later.groupby("userID")["timestamp"].min()
        common = last.index.intersection(first.index)
        assert (first[common] >= last[common]).all()


def test_counts_follow_the_documented_rounding():
    # user 1 has 5 rows: floor(0.75 * 5 + 0.5) = 4 to train; user 2 has 2 rows: 2 to train
    df = pd.DataFrame({"userID": [1] * 5 + [2] * 2, "itemID": range(7), "timestamp": range(7)})
    train, test = chronological_split(df, 0.75)
    assert train["itemID"].tolist() == [0, 1, 2, 3, 5, 6]
    assert test["itemID"].tolist() == [4]
    a, b, c = stratified_split(df, [0.6, 0.2, 0.2], seed=1)
    # user 1: floor(3.5)=3, floor(4.5)=4 -> 3/1/1; user 2: floor(1.7)=1, floor(2.1)=2 -> 1/1/0
    assert (len(a), len(b), len(c)) == (4, 2, 1)


def test_min_rating_drops_small_groups_first():
    df = pd.DataFrame({"userID": [1] * 5 + [2] * 2, "itemID": range(7), "timestamp": range(7)})
    train, test = stratified_split(df, 0.6, min_rating=3)
    assert set(pd.concat([train, test])["userID"]) == {1}
    with pytest.raises(ValueError, match="min_rating=9"):
        chronological_split(df, 0.6, min_rating=9)


@pytest.mark.parametrize("ratio", [0, 1, 1.5, -0.2, math.nan, [0.5], [0.5, -0.5], [0.5, 0]])
def test_bad_ratio(ratio):
    df = pd.DataFrame({"userID": [1], "itemID": [1], "timestamp": [1]})
    with pytest.raises(ValueError, match="ratio"):
        stratified_split(df, ratio)


def test_bad_frames_and_arguments():
    df = pd.DataFrame({"userID": [1], "itemID": [1], "timestamp": [1]})
    with pytest.raises(ValueError, match="filter_by"):
        stratified_split(df, 0.5, filter_by="session")
    with pytest.raises(ValueError, match="min_rating"):
        stratified_split(df, 0.5, min_rating=0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['timestamp'\]"):
        chronological_split(df.drop(columns="timestamp"), 0.5)
    with pytest.raises(ValueError, match="empty"):
        random_split(df.iloc[:0])
    with pytest.raises(ValueError, match=r"missing column\(s\) \['uid'\]"):
        stratified_split(df, 0.5, col_user="uid")
    with pytest.raises(TypeError, match="pandas DataFrame"):
        random_split([1, 2, 3])


def test_real_movielens_stratified(ml100k):
    train, test = stratified_split(ml100k, 0.75, seed=42)
    assert len(train) + len(test) == 100_000
    assert set(test["userID"]) == set(ml100k["userID"])  # every user has >= 20 ratings
