"""Popularity on pandas against hand-worked lists and a brute-force loop."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.models.popularity.pandas import PopularityRecommender

RATINGS = pd.DataFrame(
    {
        "userID": [1, 1, 2, 2, 3, 4, 4, 4],
        "itemID": [10, 20, 10, 30, 10, 20, 30, 40],
        "rating": [5.0, 1.0, 4.0, 2.0, 3.0, 1.0, 5.0, 5.0],
    }
)


def test_hand_worked_lists_and_scores():
    # counts: 10 -> 3, 20 -> 2, 30 -> 2, 40 -> 1 (of 8 rows); ties by item id
    model = PopularityRecommender().fit(RATINGS)
    recs = model.recommend_k_items(k=2)
    assert recs.groupby("userID")["itemID"].apply(list).to_dict() == {
        1: [30, 40],
        2: [20, 40],
        3: [20, 30],
        4: [10],
    }
    assert recs.loc[recs.userID == 3, "prediction"].tolist() == [0.25, 0.25]
    assert model.popular(3)["itemID"].tolist() == [10, 20, 30]
    # a user absent from training gets the most popular items
    assert model.recommend_k_items([99], k=2)["itemID"].tolist() == [10, 20]


def test_rating_weighting_is_the_share_of_the_rating_sum():
    # sums: 10 -> 12, 20 -> 2, 30 -> 7, 40 -> 5 (of 26)
    model = PopularityRecommender(weighting="rating").fit(RATINGS)
    popular = model.popular(4)
    assert popular["itemID"].tolist() == [10, 30, 40, 20]
    np.testing.assert_allclose(popular["prediction"], np.array([12, 7, 5, 2]) / 26, rtol=1e-6)
    scored = model.predict(pd.DataFrame({"userID": [1, 99, 1], "itemID": [30, 40, 77]}))
    assert scored["itemID"].tolist() == [30, 40]  # an item unseen in training is dropped
    np.testing.assert_allclose(scored["prediction"], [7 / 26, 5 / 26], rtol=1e-6)


def test_lists_equal_a_brute_force_loop():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({"userID": rng.integers(0, 60, 900), "itemID": rng.integers(0, 40, 900)})
    recs = PopularityRecommender().fit(frame).recommend_k_items(k=5)
    counts = frame["itemID"].value_counts()
    for user, rows in frame.groupby("userID"):
        unseen = [i for i in counts.index if i not in set(rows["itemID"])]
        expected = sorted(unseen, key=lambda i: (-counts[i], i))[:5]
        assert recs.loc[recs.userID == user, "itemID"].tolist() == expected


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: PopularityRecommender().fit(RATINGS.iloc[:0]), "data is empty"),
        (
            lambda: PopularityRecommender().fit(RATINGS.astype({"itemID": float})),
            "needs integer ids",
        ),
        (lambda: PopularityRecommender().fit(RATINGS).recommend_k_items(k=0), "k must be"),
        (lambda: PopularityRecommender(weighting="votes"), "weighting must be one of"),
    ],
)
def test_bad_input_is_one_clear_error(call, error):
    with pytest.raises(ValueError, match=error):
        call()
