"""Spark ranking metrics agree with the pandas ones: hand-worked frames, random ties, real
MovieLens, bad input."""

from __future__ import annotations

import gc
import uuid

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


def _random_frames(seed: int, n_users: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    true = pd.DataFrame(
        {"userID": rng.integers(0, n_users, 600), "itemID": rng.integers(0, 30, 600)}
    ).drop_duplicates()
    pred = pd.DataFrame(
        {"userID": rng.integers(0, n_users, 900), "itemID": rng.integers(0, 30, 900)}
    ).drop_duplicates()
    pred["prediction"] = rng.random(len(pred))
    return true.reset_index(drop=True), pred.reset_index(drop=True)


def _jobs_and_stages(spark, fn):
    """``fn()``'s result, and the (job count, stage count) it ran (stages a job skips, its
    input already computed, do not count)."""
    context, group = spark.sparkContext, f"measured-{uuid.uuid4()}"
    context.setJobGroup(group, "one metric call")
    try:
        result = fn()
    finally:
        context.setLocalProperty("spark.jobGroup.id", None)
    tracker = context.statusTracker()
    jobs = tracker.getJobIdsForGroup(group)
    stages = [tracker.getStageInfo(s) for j in jobs for s in tracker.getJobInfo(j).stageIds]
    return result, len(jobs), sum(1 for s in stages if s and s.numCompletedTasks > 0)


def test_metrics_one_by_one_rank_and_join_once(spark):
    """After the first metric, each further one on the same two frames runs no Spark job and
    equals pandas; other arguments are another computation."""
    true, pred = _random_frames(0)
    want = pev.evaluate(true, pred, metrics=RANKING, k=5)
    t, p = spark.createDataFrame(true), spark.createDataFrame(pred)
    first, jobs, stages = _jobs_and_stages(spark, lambda: sev.precision_at_k(t, p, k=5))
    assert first == pytest.approx(want["precision_at_k"], abs=1e-9)
    assert jobs >= 1  # the ranking and the join: shuffles
    assert stages > 1
    for name in RANKING[1:]:
        got, jobs, _ = _jobs_and_stages(spark, lambda n=name: getattr(sev, n)(t, p, k=5))
        assert got == pytest.approx(want[name], abs=1e-9), name
        assert jobs == 0, name
    got, jobs, _ = _jobs_and_stages(spark, lambda: sev.evaluate(t, p, metrics=RANKING, k=5))
    assert got == pytest.approx(want, abs=1e-9)
    assert jobs == 0
    # other arguments: k, graded nDCG
    two, jobs, _ = _jobs_and_stages(spark, lambda: sev.precision_at_k(t, p, k=2))
    assert two == pytest.approx(pev.precision_at_k(true, pred, k=2), abs=1e-9)
    assert jobs >= 1
    graded = sev.ndcg_at_k(t.withColumn("rating", t.itemID % 5 + 1), p, k=5, score_type="raw")
    true["rating"] = true.itemID % 5 + 1
    assert graded == pytest.approx(pev.ndcg_at_k(true, pred, k=5, score_type="raw"), abs=1e-9)


def test_no_stale_reuse_after_a_frame_changes(spark, tmp_path):
    """A new frame, and the same frame over files that Spark rewrote, give the value of the
    data as Spark reads it now; a source Spark cannot list is read at every call."""
    true, pred = _random_frames(1)
    other = _random_frames(2)[1]
    t = spark.createDataFrame(true)
    assert sev.recall_at_k(t, spark.createDataFrame(pred), k=5) == pytest.approx(
        pev.recall_at_k(true, pred, k=5), abs=1e-9
    )
    assert sev.recall_at_k(t, spark.createDataFrame(other), k=5) == pytest.approx(
        pev.recall_at_k(true, other, k=5), abs=1e-9
    )
    path = str(tmp_path / "pred.parquet")
    spark.createDataFrame(pred).write.parquet(path)
    from_files = spark.read.parquet(path).cache()
    before = sev.map_at_k(t, from_files, k=5)
    assert before == pytest.approx(pev.map_at_k(true, pred, k=5), abs=1e-9)
    _, jobs, _ = _jobs_and_stages(spark, lambda: sev.map_at_k(t, from_files, k=5))
    assert jobs == 0  # the same files: reused
    spark.createDataFrame(other).write.mode("overwrite").parquet(path)
    now = from_files.toPandas()  # what Spark reads through that frame now
    assert len(now) == len(other)
    assert sev.map_at_k(t, from_files, k=5) == pytest.approx(pev.map_at_k(true, now, k=5), abs=1e-9)
    previous = spark.conf.get("spark.sql.sources.useV1SourceList")
    spark.conf.set("spark.sql.sources.useV1SourceList", "")  # parquet as a V2 table
    try:
        v2 = spark.read.parquet(path)
        sev.mrr_at_k(t, v2, k=5)
        value, jobs, _ = _jobs_and_stages(spark, lambda: sev.mrr_at_k(t, v2, k=5))
    finally:
        spark.conf.set("spark.sql.sources.useV1SourceList", previous)
    assert value == pytest.approx(pev.mrr_at_k(true, now, k=5), abs=1e-9)
    assert jobs >= 1


def test_reused_sums_go_with_their_frames(spark):
    from recommenders_kit.evaluation.spark import ranking

    true, pred = _random_frames(3)
    t, p = spark.createDataFrame(true), spark.createDataFrame(pred)
    sev.hit_ratio_at_k(t, p, k=3)
    kept = len(ranking._reused)
    del p
    gc.collect()
    sev.hit_ratio_at_k(t, spark.createDataFrame(pred), k=3)
    assert len(ranking._reused) == kept  # one gone with its frame, one added
