"""Spark ranking metrics agree with the pandas ones: hand-worked frames, random ties, real
MovieLens, bad input, metrics called one by one."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev
from recommenders_kit.evaluation._common import RANKING_METRICS
from tests.unit.evaluation.pandas.test_ranking import HAND, PRED, TRUE
from tests.unit.evaluation.spark.test_reuse import jobs_and_stages, random_frames

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


def test_metrics_one_by_one_rank_and_join_once(spark):
    """After the first metric, each further one on the same two frames runs no Spark job and
    equals pandas; other arguments are another computation."""
    true, pred = random_frames(0)
    want = pev.evaluate(true, pred, metrics=RANKING, k=5)
    t, p = spark.createDataFrame(true), spark.createDataFrame(pred)
    first, jobs, stages = jobs_and_stages(spark, lambda: sev.precision_at_k(t, p, k=5))
    assert first == pytest.approx(want["precision_at_k"], abs=1e-9)
    assert jobs >= 1  # the ranking and the join: shuffles
    assert stages > 1
    for name in RANKING[1:]:
        got, jobs, _ = jobs_and_stages(spark, lambda n=name: getattr(sev, n)(t, p, k=5))
        assert got == pytest.approx(want[name], abs=1e-9), name
        assert jobs == 0, name
    got, jobs, _ = jobs_and_stages(spark, lambda: sev.evaluate(t, p, metrics=RANKING, k=5))
    assert got == pytest.approx(want, abs=1e-9)
    assert jobs == 0
    # other arguments: k, graded nDCG
    two, jobs, _ = jobs_and_stages(spark, lambda: sev.precision_at_k(t, p, k=2))
    assert two == pytest.approx(pev.precision_at_k(true, pred, k=2), abs=1e-9)
    assert jobs >= 1
    graded = sev.ndcg_at_k(t.withColumn("rating", t.itemID % 5 + 1), p, k=5, score_type="raw")
    true["rating"] = true.itemID % 5 + 1
    assert graded == pytest.approx(pev.ndcg_at_k(true, pred, k=5, score_type="raw"), abs=1e-9)
