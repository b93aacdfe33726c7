"""Beyond-accuracy metrics on hand-worked examples and a brute-force loop."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation.pandas import beyond

# train: user a -> {1, 2}, b -> {1, 3}, c -> {1}; items 1 (3 users), 2 (1), 3 (1); 5 rows
TRAIN = pd.DataFrame({"userID": list("aabbc"), "itemID": [1, 2, 1, 3, 1]})
# recommendations: a -> [1, 3], b -> [1, 2]
RECO = pd.DataFrame({"userID": list("aabb"), "itemID": [1, 3, 1, 2]})


def test_catalog_and_distributional_coverage():
    assert beyond.catalog_coverage(TRAIN, RECO) == 1.0  # items {1, 2, 3} of {1, 2, 3}
    assert beyond.catalog_coverage(TRAIN, RECO.head(1)) == pytest.approx(1 / 3)
    # item 1 half of the recommendations, items 2 and 3 a quarter each: 0.5*1 + 2*0.25*2 = 1.5
    assert beyond.distributional_coverage(RECO) == pytest.approx(1.5)


def test_novelty():
    # -log2(3/5) twice, -log2(1/5) twice
    want = (2 * -math.log2(3 / 5) + 2 * -math.log2(1 / 5)) / 4
    assert beyond.novelty(TRAIN, RECO) == pytest.approx(want)


def test_diversity_by_co_occurrence():
    # sim(1,3) = |{b}| / sqrt(3*1); sim(1,2) = |{a}| / sqrt(3*1); both users: 1/sqrt(3)
    assert beyond.diversity(TRAIN, RECO) == pytest.approx(1 - 1 / math.sqrt(3))


def test_diversity_by_features():
    feats = pd.DataFrame({"itemID": [1, 2, 3], "features": [[1, 0], [0, 1], [1, 1]]})
    # a: cos([1,0],[1,1]) = 1/sqrt2; b: cos([1,0],[0,1]) = 0
    assert beyond.diversity(TRAIN, RECO, item_feature_df=feats) == pytest.approx(
        1 - (1 / math.sqrt(2) + 0) / 2
    )


def test_diversity_matches_brute_force():
    rng = np.random.default_rng(3)
    train = pd.DataFrame({"userID": rng.integers(0, 30, 400), "itemID": rng.integers(0, 25, 400)})
    reco = pd.DataFrame(
        {
            "userID": np.repeat(np.arange(10), 4),
            "itemID": np.concatenate([rng.choice(25, 4, replace=False) for _ in range(10)]),
        }
    )
    users_of = train.groupby("itemID")["userID"].apply(set).to_dict()

    def sim(i, j):
        a, b = users_of.get(i, set()), users_of.get(j, set())
        return len(a & b) / math.sqrt(len(a) * len(b)) if a and b else 0.0

    per_user = [
        np.mean([sim(i, j) for i, j in itertools.combinations(g["itemID"], 2)])
        for _, g in reco.groupby("userID")
    ]
    assert beyond.diversity(train, reco) == pytest.approx(1 - np.mean(per_user), abs=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="reco_df is empty"):
        beyond.catalog_coverage(TRAIN, RECO.iloc[:0])
    with pytest.raises(ValueError, match="no recommended item"):
        beyond.novelty(TRAIN, RECO.assign(itemID=99))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['itemID'\]"):
        beyond.distributional_coverage(RECO.drop(columns="itemID"))
