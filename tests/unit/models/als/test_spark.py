"""Spark ALS on real MovieLens 100k: recommendations, persistence, cold start, bad input."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.models.als.spark import ALSRecommender

pytestmark = pytest.mark.spark


@pytest.fixture(scope="module")
def data(spark, ml100k):
    from recommenders_kit.split.spark import random_split

    train, test = random_split(spark.createDataFrame(ml100k), [0.75, 0.25], seed=123)
    return train.cache(), test.cache()


@pytest.fixture(scope="module")
def model(data):
    return ALSRecommender(rank=8, max_iter=5, reg_param=0.1, implicit_prefs=True).fit(data[0])


@pytest.fixture(scope="module")
def factors(model):
    uf = model.model.userFactors.toPandas().set_index("id").sort_index()
    itf = model.model.itemFactors.toPandas().set_index("id").sort_index()
    return uf, itf


def brute_force_top_k(train: pd.DataFrame, uf, itf, k: int) -> dict[int, list[int]]:
    """Score every item for every user with numpy, drop seen ones, keep the k best."""
    scores = np.array(uf["features"].tolist()) @ np.array(itf["features"].tolist()).T
    seen = train.groupby("userID")["itemID"].apply(set)
    items = itf.index.to_numpy()
    out = {}
    for row, user in enumerate(uf.index):
        s = pd.Series(scores[row], index=items).drop(list(seen.get(user, ())), errors="ignore")
        out[user] = s.sort_values(ascending=False, kind="stable").index[:k].tolist()
    return out


def _lists(frame: pd.DataFrame) -> dict[int, list[int]]:
    ordered = frame.sort_values(["userID", "prediction", "itemID"], ascending=[True, False, True])
    return ordered.groupby("userID")["itemID"].apply(list).to_dict()


def _same_up_to_ties(got: dict, want: dict, scores: dict, tol: float = 1e-4) -> None:
    assert got.keys() == want.keys()
    for user in want:
        if got[user] != want[user]:  # only near-equal scores may swap places
            differing = set(got[user]) ^ set(want[user])
            kth = scores[user][want[user][-1]]
            assert all(abs(scores[user][i] - kth) < tol for i in differing), user


def test_recommendations_match_brute_force(data, model, factors, monkeypatch):
    from recommenders_kit.models.als import spark as als_spark

    train = data[0].toPandas()
    uf, itf = factors
    want = brute_force_top_k(train, uf, itf, 10)
    scores_matrix = np.array(uf["features"].tolist()) @ np.array(itf["features"].tolist()).T
    scores = {
        u: dict(zip(itf.index, scores_matrix[r], strict=True)) for r, u in enumerate(uf.index)
    }
    one_block = model.recommend_k_items(k=10).toPandas()
    # small blocks: several user and item blocks, merged per user
    monkeypatch.setattr(als_spark, "USER_BLOCK", 100)
    monkeypatch.setattr(als_spark, "ITEM_BLOCK", 300)
    many_blocks = model.recommend_k_items(k=10).toPandas()
    for recs in (one_block, many_blocks):
        assert recs.groupby("userID").size().eq(10).all()
        assert recs.merge(train, on=["userID", "itemID"]).empty, "seen items must be removed"
        _same_up_to_ties(_lists(recs), want, scores)
    pd.testing.assert_frame_equal(
        one_block.sort_values(["userID", "itemID"]).reset_index(drop=True),
        many_blocks.sort_values(["userID", "itemID"]).reset_index(drop=True),
    )


def test_subset_of_users_and_keeping_seen_items(data, model):
    users = data[1].select("userID").distinct().limit(20).cache()
    recs = model.recommend_k_items(users, k=5, remove_seen=False).toPandas()
    assert set(recs["userID"]) == set(users.toPandas()["userID"])
    assert recs.groupby("userID").size().eq(5).all()
    unknown = model.recommend_k_items(users.selectExpr("1000000 AS userID"), k=5)
    assert unknown.count() == 0


def test_predict_drops_or_flags_cold_start_pairs(spark, data, model):
    pairs = spark.createDataFrame(pd.DataFrame({"userID": [1, 10**6, 1], "itemID": [1, 1, 10**6]}))
    assert model.predict(pairs).count() == 1
    nan_model = ALSRecommender(rank=4, max_iter=2, cold_start_strategy="nan").fit(data[0])
    got = nan_model.predict(pairs).toPandas()
    assert len(got) == 3
    assert got["prediction"].isna().sum() == 2


def test_save_and_load_round_trip(tmp_path, data, model):
    path = str(tmp_path / "als")
    model.save(path)
    loaded = ALSRecommender.load(path)
    assert loaded.get_params() == model.get_params()
    assert loaded.fingerprint == model.fingerprint
    assert loaded.fingerprint.rows == data[0].count()
    test = data[1].limit(500)
    a = model.predict(test).toPandas().sort_values(["userID", "itemID"]).reset_index(drop=True)
    b = loaded.predict(test).toPandas().sort_values(["userID", "itemID"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="set_seen"):
        loaded.recommend_k_items(k=3)
    got = loaded.set_seen(data[0]).recommend_k_items(k=3).toPandas()
    want = model.recommend_k_items(k=3).toPandas()
    key = ["userID", "itemID"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True), want.sort_values(key).reset_index(drop=True)
    )
    with pytest.raises(Exception, match="(?i)already exists"):
        model.save(path)
    model.save(path, overwrite=True)


def test_errors(spark, data):
    with pytest.raises(RuntimeError, match="not fitted"):
        ALSRecommender().recommend_k_items()
    with pytest.raises(ValueError, match="rank must be >= 1"):
        ALSRecommender(rank=0)
    with pytest.raises(ValueError, match="cold_start_strategy"):
        ALSRecommender(cold_start_strategy="zero")
    with pytest.raises(ValueError, match="k must be >= 1"):
        ALSRecommender().fit(data[0].limit(200)).recommend_k_items(k=0)
    with pytest.raises(ValueError, match="'userID' holds string, but Spark ALS needs integer"):
        ALSRecommender().fit(data[0].withColumn("userID", data[0]["userID"].cast("string")))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['stars'\]"):
        ALSRecommender(col_rating="stars").fit(data[0])
    with pytest.raises(TypeError, match="Spark DataFrame"):
        ALSRecommender().fit(pd.DataFrame())


#: A Python process that fits ALS on a fresh local session (so ALS picks its default checkpoint
#: folder), prints that folder and is killed, as a notebook kernel is when it will not stop.
_KILLED_AFTER_A_FIT = """
import os, signal
from recommenders_kit.models.als.spark import ALSRecommender
from recommenders_kit.spark import start_or_get_spark

spark = start_or_get_spark("killed-kernel", master="local[1]")
rows = [(u, i, float((u * i) % 5 + 1)) for u in range(20) for i in range(10)]
ALSRecommender(rank=2, max_iter=2).fit(spark.createDataFrame(rows, ["userID", "itemID", "rating"]))
print(spark.sparkContext.getCheckpointDir(), flush=True)
os.kill(os.getpid(), signal.SIGKILL)
"""


def test_the_default_checkpoint_folder_goes_when_python_is_killed():
    """No atexit runs in a killed process: the driver JVM deletes the folder as it exits."""
    run = subprocess.run(
        [sys.executable, "-c", _KILLED_AFTER_A_FIT], capture_output=True, text=True, timeout=300
    )
    assert run.returncode == -signal.SIGKILL, run.stderr[-3000:]
    folder = Path(urlparse(run.stdout.strip()).path).parent  # Spark adds a folder per context
    assert folder.name.startswith("als-checkpoints-")
    deadline = time.monotonic() + 60
    while folder.exists() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not folder.exists()
