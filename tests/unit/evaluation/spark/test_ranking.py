"""Spark ranking metrics agree with the pandas ones: hand-worked frames, random ties, real
MovieLens, bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev
from recommenders_kit.evaluation._common import RANKING_METRICS
from tests.unit.evaluation.pandas.test_ranking import HAND, PRED, TRUE

pytestmark = pytest.mark.spark

RANKING = list(RANKING_METRICS)


def test_hand_worked_example(spark):
    got = sev.evaluate(
        spark.createDataFrame(TRUE), spark.createDataFrame(PRED), metrics=RANKING, k=3
    )
    assert got == pytest.approx(HAND, abs=1e-12)
    assert sev.ndcg_at_k(
        spark.createDataFrame(TRUE), spark.createDataFrame(PRED), k=3
    ) == pytest.approx(HAND["ndcg_at_k"], abs=1e-12)


def test_by_threshold(spark):
    kw = {"k": 3, "relevancy_method": "by_threshold", "threshold": 0.75}
    want = pev.evaluate(TRUE, PRED, metrics=RANKING, **kw)
    got = sev.evaluate(
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
    want = pev.evaluate(true, pred, metrics=RANKING, k=k)
    got = sev.evaluate(
        spark.createDataFrame(true), spark.createDataFrame(pred).coalesce(1), metrics=RANKING, k=k
    )
    assert got == pytest.approx(want, abs=1e-9)


def test_real_movielens_ranking_agrees_to_1e9(spark, ml100k_predictions):
    test, top, _ = ml100k_predictions
    want = pev.evaluate(test, top, metrics=RANKING, k=10)
    got = sev.evaluate(
        spark.createDataFrame(test), spark.createDataFrame(top), metrics=RANKING, k=10
    )
    assert got == pytest.approx(want, abs=1e-9)
    assert 0 < want["precision_at_k"] < 1


def test_bad_input(spark):
    t, p = spark.createDataFrame(TRUE), spark.createDataFrame(PRED)
    with pytest.raises(ValueError, match="k must be >= 1"):
        sev.precision_at_k(t, p, k=0)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['score'\]"):
        sev.precision_at_k(t, p, col_prediction="score")
    with pytest.raises(TypeError, match="Spark DataFrame"):
        sev.precision_at_k(TRUE, p)
    with pytest.raises(ValueError, match="unknown"):
        sev.evaluate(t, p, metrics=["nope"])
