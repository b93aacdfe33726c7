"""Results of two Spark frames reused by the next metric call on the same frames, and only
while their data is known unchanged."""

from __future__ import annotations

import gc
import uuid

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev
from recommenders_kit.evaluation._common import RATING_METRICS
from recommenders_kit.evaluation.spark import _reuse

pytestmark = pytest.mark.spark


def random_frames(seed: int, n_users: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    true = pd.DataFrame(
        {"userID": rng.integers(0, n_users, 600), "itemID": rng.integers(0, 30, 600)}
    ).drop_duplicates()
    pred = pd.DataFrame(
        {"userID": rng.integers(0, n_users, 900), "itemID": rng.integers(0, 30, 900)}
    ).drop_duplicates()
    pred["prediction"] = rng.random(len(pred))
    return true.reset_index(drop=True), pred.reset_index(drop=True)


def jobs_and_stages(spark, fn):
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


def test_no_stale_reuse_after_a_frame_changes(spark, tmp_path):
    """A new frame, and the same frame over files that Spark rewrote, give the value of the
    data as Spark reads it now; a source Spark cannot list is read at every call."""
    true, pred = random_frames(1)
    other = random_frames(2)[1]
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
    _, jobs, _ = jobs_and_stages(spark, lambda: sev.map_at_k(t, from_files, k=5))
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
        value, jobs, _ = jobs_and_stages(spark, lambda: sev.mrr_at_k(t, v2, k=5))
    finally:
        spark.conf.set("spark.sql.sources.useV1SourceList", previous)
    assert value == pytest.approx(pev.mrr_at_k(true, now, k=5), abs=1e-9)
    assert jobs >= 1


def test_rating_metrics_one_by_one_join_once(spark):
    true, pred = random_frames(4)
    true["rating"] = true.itemID % 5 + 1.0
    pred["prediction"] *= 5
    t, p = spark.createDataFrame(true), spark.createDataFrame(pred)
    want = pev.evaluate(true, pred, metrics=list(RATING_METRICS))
    first, jobs, _ = jobs_and_stages(spark, lambda: sev.rmse(t, p))
    assert first == pytest.approx(want["rmse"], abs=1e-9)
    assert jobs >= 1
    for name in RATING_METRICS[1:]:
        got, jobs, _ = jobs_and_stages(spark, lambda n=name: getattr(sev, n)(t, p))
        assert got == pytest.approx(want[name], abs=1e-9), name
        assert jobs == 0, name
    other = pred.assign(prediction=pred.prediction[::-1].to_numpy())
    assert sev.mae(t, spark.createDataFrame(other)) == pytest.approx(pev.mae(true, other), abs=1e-9)


def test_kept_results_go_with_their_frames(spark):
    true, pred = random_frames(3)
    t, p = spark.createDataFrame(true), spark.createDataFrame(pred)
    sev.hit_ratio_at_k(t, p, k=3)
    kept = len(_reuse._kept)
    del p
    gc.collect()
    sev.hit_ratio_at_k(t, spark.createDataFrame(pred), k=3)
    assert len(_reuse._kept) == kept  # one gone with its frame, one added
