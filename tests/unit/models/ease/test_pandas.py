"""EASE on pandas: the weights against an independent ridge regression per item, the lists
against a brute-force loop, the item limit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.models.ease.pandas import EASERecommender


@pytest.fixture(scope="module")
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = pd.DataFrame(
        {
            "userID": rng.integers(0, 80, 1200),
            "itemID": rng.integers(0, 30, 1200),
            "rating": rng.integers(1, 6, 1200).astype(float),
        }
    )
    return rows.drop_duplicates(["userID", "itemID"])


def _dense(frame: pd.DataFrame, column: str | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    users, items = np.unique(frame.userID), np.unique(frame.itemID)
    x = np.zeros((len(users), len(items)))
    values = 1.0 if column is None else frame[column]
    x[np.searchsorted(users, frame.userID), np.searchsorted(items, frame.itemID)] = values
    return users, items, x


@pytest.mark.parametrize("weighting", ["binary", "rating"])
def test_weights_are_a_ridge_regression_of_each_item_on_the_others(frame, weighting):
    lam = 30.0
    model = EASERecommender(lam=lam, weighting=weighting).fit(frame)
    _, _, x = _dense(frame, "rating" if weighting == "rating" else None)
    for j in range(x.shape[1]):
        others = np.delete(np.arange(x.shape[1]), j)
        a = x[:, others]
        b = np.linalg.solve(a.T @ a + lam * np.eye(len(others)), a.T @ x[:, j])
        np.testing.assert_allclose(model.model.weights[others, j], b, atol=1e-5)
        assert model.model.weights[j, j] == 0


def test_lists_and_pair_scores_equal_a_brute_force_loop(frame):
    model = EASERecommender(lam=30.0).fit(frame)
    users, items, x = _dense(frame, None)
    scores = x @ model.model.weights.astype(np.float64)
    recs = model.recommend_k_items(k=4)
    for u, user in enumerate(users):
        unseen = [i for i in range(len(items)) if x[u, i] == 0]
        best = sorted(unseen, key=lambda i: (-round(scores[u, i], 5), items[i]))[:4]
        got = recs.loc[recs.userID == user]
        assert got["itemID"].tolist() == items[best].tolist()
        np.testing.assert_allclose(got["prediction"], scores[u, best], atol=1e-4)
    pairs = frame[["userID", "itemID"]].head(50)
    predicted = model.predict(pairs)
    expected = scores[np.searchsorted(users, pairs.userID), np.searchsorted(items, pairs.itemID)]
    np.testing.assert_allclose(predicted["prediction"], expected, atol=1e-4)
    # only users with a history are scored
    assert model.recommend_k_items([10_000], k=3).empty


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda f: EASERecommender(max_items=29).fit(f), r"30 items would take 0\.0 GB"),
        (lambda f: EASERecommender().fit(f.iloc[:0]), "data is empty"),
        (lambda f: EASERecommender().fit(f.astype({"userID": str})), "needs integer ids"),
        (lambda f: EASERecommender().fit(f).recommend_k_items(k=-1), "k must be"),
        (lambda f: EASERecommender(lam=0), "lam must be > 0"),
    ],
)
def test_bad_input_is_one_clear_error(frame, call, error):
    with pytest.raises(ValueError, match=error):
        call(frame)
