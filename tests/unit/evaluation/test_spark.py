"""Spark metrics agree with the pandas ones: hand-worked frames, random ties, real MovieLens."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation import beyond, classification, evaluate, ranking
from recommenders_kit.evaluation import spark as seval
from recommenders_kit.split.pandas import random_split
from tests.unit.evaluation.test_ranking import HAND, PRED, TRUE

pytestmark = pytest.mark.spark

RANKING = list(ranking.METRICS)
RATING = ["rmse", "mae", "rsquared", "exp_var"]


def test_hand_worked_example(spark):
    got = seval.evaluate(
        spark.createDataFrame(TRUE), spark.createDataFrame(PRED), metrics=RANKING, k=3
    )
    assert got == pytest.approx(HAND, abs=1e-12)
    assert seval.ndcg_at_k(
        spark.createDataFrame(TRUE), spark.createDataFrame(PRED), k=3
    ) == pytest.approx(HAND["ndcg_at_k"], abs=1e-12)


def test_by_threshold(spark):
    kw = dict(k=3, relevancy_method="by_threshold", threshold=0.75)
    want = evaluate(TRUE, PRED, metrics=RANKING, **kw)
    got = seval.evaluate(
        spark.createDataFrame(TRUE), spark.createDataFrame(PRED), metrics=RANKING, **kw
    )
    assert got == pytest.approx(want, abs=1e-12)


@pytest.mark.parametrize("k", [1, 5, 40])
def test_random_data_with_ties(spark, k):
    rng = np.random.default_rng(k)
    true = pd.DataFrame(
        {"userID": rng.integers(0, 60, 900), "itemID": rng.integers(0, 40, 900)}
    ).drop_duplicates()
    pred = pd.DataFrame(
        {"userID": rng.integers(5, 65, 1200), "itemID": rng.integers(0, 50, 1200)}
    ).drop_duplicates()
    pred["prediction"] = rng.integers(0, 4, len(pred)) / 3.0
    pred = pred.sample(frac=1, random_state=k).reset_index(drop=True)
    want = evaluate(true, pred, metrics=RANKING, k=k)
    got = seval.evaluate(
        spark.createDataFrame(true), spark.createDataFrame(pred).coalesce(1), metrics=RANKING, k=k
    )
    assert got == pytest.approx(want, abs=1e-9)


@pytest.fixture(scope="module")
def ml100k_predictions(ml100k):
    """Real MovieLens 100k: a bias model (global + user + item offsets) fitted on train
    scores every unseen item; the top 50 per user are kept."""
    train, test = random_split(ml100k, 0.75, seed=123)
    mu = train["rating"].mean()
    user_bias = train.groupby("userID")["rating"].mean() - mu
    item_bias = (
        (train["rating"] - mu - train["userID"].map(user_bias)).groupby(train["itemID"]).mean()
    )
    users, items = user_bias.index.to_numpy(), item_bias.index.to_numpy()
    grid = pd.DataFrame(
        {"userID": np.repeat(users, len(items)), "itemID": np.tile(items, len(users))}
    )
    grid["prediction"] = (
        mu + grid["userID"].map(user_bias).to_numpy() + grid["itemID"].map(item_bias).to_numpy()
    )
    seen = grid.merge(train[["userID", "itemID"]], how="left", indicator=True)["_merge"] == "both"
    grid = grid[~seen.to_numpy()]
    top = grid.sort_values(["userID", "prediction"], ascending=[True, False], kind="stable")
    top = top.groupby("userID").head(50).reset_index(drop=True)
    return test, top, grid


def test_real_movielens_ranking_agrees_to_1e9(spark, ml100k_predictions):
    test, top, _ = ml100k_predictions
    want = evaluate(test, top, metrics=RANKING, k=10)
    got = seval.evaluate(
        spark.createDataFrame(test), spark.createDataFrame(top), metrics=RANKING, k=10
    )
    assert got == pytest.approx(want, abs=1e-9)
    assert 0 < want["precision_at_k"] < 1


def test_real_movielens_rating_agrees_to_1e9(spark, ml100k_predictions):
    test, _, grid = ml100k_predictions
    scored = grid.merge(test[["userID", "itemID"]])  # the test pairs the model can score
    want = evaluate(test, scored, metrics=RATING)
    got = seval.evaluate(spark.createDataFrame(test), spark.createDataFrame(scored), metrics=RATING)
    assert got == pytest.approx(want, abs=1e-9)
    assert 0.8 < want["rmse"] < 1.2


def test_classification_agrees(spark):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    p = np.round(np.clip(rng.random(3000) * 0.7 + y * 0.3, 0, 1), 2)
    sdf = spark.createDataFrame(pd.DataFrame({"label": y, "prediction": p}))
    assert seval.auc(sdf) == pytest.approx(classification.auc(y, p), abs=1e-9)
    assert seval.logloss(sdf) == pytest.approx(classification.logloss(y, p), abs=1e-9)
    with pytest.raises(ValueError, match="both classes"):
        seval.auc(sdf.where("label = 1"))


def test_coverage_agrees(spark, ml100k_predictions):
    test, top, _ = ml100k_predictions
    reco = top.groupby("userID").head(10)
    assert seval.catalog_coverage(
        spark.createDataFrame(test), spark.createDataFrame(reco)
    ) == pytest.approx(beyond.catalog_coverage(test, reco), abs=1e-12)
    assert seval.distributional_coverage(spark.createDataFrame(reco)) == pytest.approx(
        beyond.distributional_coverage(reco), abs=1e-9
    )


def test_bad_input(spark):
    t, p = spark.createDataFrame(TRUE), spark.createDataFrame(PRED)
    with pytest.raises(ValueError, match="k must be >= 1"):
        seval.precision_at_k(t, p, k=0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['score'\]"):
        seval.precision_at_k(t, p, col_prediction="score")
    with pytest.raises(TypeError, match="Spark DataFrame"):
        seval.precision_at_k(TRUE, p)
    with pytest.raises(ValueError, match="unknown"):
        seval.evaluate(t, p, metrics=["nope"])
