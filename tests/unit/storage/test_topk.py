"""Top-k documents (hand-worked), the popularity list and the local store."""

import json

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.models.popularity.pandas import PopularityRecommender
from recommenders_kit.storage.topk import LocalTopKStore, TopKStore, popular_items, topk_documents

STAMP = "2026-01-01T00:00:00+00:00"


def test_hand_worked_documents():
    recs = pd.DataFrame(
        {
            "userID": [2, 1, 1, 1, 2],
            "itemID": [7, 30, 10, 20, 8],
            "prediction": [0.1, 0.5, 0.9, 0.5, 0.3],
        }
    )
    docs = topk_documents(recs, "v1", k=2, updated_at=STAMP)
    assert docs == [
        {
            "id": "1|v1",
            "userId": "1",
            "model_version": "v1",
            "items": [
                {"itemId": 10, "score": 0.9, "rank": 1},
                {"itemId": 20, "score": 0.5, "rank": 2},  # tie with 30: smaller id first
            ],
            "updated_at": STAMP,
        },
        {
            "id": "2|v1",
            "userId": "2",
            "model_version": "v1",
            "items": [
                {"itemId": 8, "score": 0.3, "rank": 1},
                {"itemId": 7, "score": 0.1, "rank": 2},
            ],
            "updated_at": STAMP,
        },
    ]
    assert all(type(i["itemId"]) is int for d in docs for i in d["items"])
    json.dumps(docs)  # plain JSON types only


def test_documents_match_a_plain_loop_on_random_data():
    rng = np.random.default_rng(0)
    recs = pd.DataFrame(
        {
            "u": rng.integers(0, 50, 2000).astype(str),
            "i": rng.integers(0, 30, 2000),
            "s": rng.integers(0, 5, 2000) / 4,  # many ties
        }
    ).drop_duplicates(["u", "i"])
    docs = topk_documents(recs, "v", k=5, col_user="u", col_item="i", col_prediction="s")
    for doc in docs:
        rows = recs[recs.u == doc["userId"]]
        pairs = sorted(zip(rows.i, rows.s, strict=True), key=lambda p: (-p[1], p[0]))[:5]
        assert [(x["itemId"], x["score"]) for x in doc["items"]] == pairs
        assert [x["rank"] for x in doc["items"]] == list(range(1, len(pairs) + 1))
    assert len(docs) == recs.u.nunique()


def test_bad_input():
    recs = pd.DataFrame({"userID": [1], "itemID": [2], "prediction": [np.nan]})
    with pytest.raises(ValueError, match="prediction.*missing scores"):
        topk_documents(recs, "v1")
    with pytest.raises(ValueError, match="model_version"):
        topk_documents(recs.fillna(1.0), "v1/2")
    with pytest.raises(ValueError, match="userID"):
        topk_documents(recs.drop(columns="userID"), "v1")


def test_popular_items_by_count_then_item():
    ratings = pd.DataFrame({"userID": range(8), "itemID": [5, 5, 5, 3, 3, 9, 9, 1]})
    assert popular_items(PopularityRecommender().fit(ratings), 3) == [
        {"itemId": 5, "score": 3 / 8, "rank": 1},
        {"itemId": 3, "score": 2 / 8, "rank": 2},
        {"itemId": 9, "score": 2 / 8, "rank": 3},
    ]


def test_local_store_round_trip_and_bad_file(tmp_path):
    recs = pd.DataFrame({"userID": [1, 1, 2], "itemID": [1, 2, 3], "prediction": [3.0, 2, 1]})
    store = LocalTopKStore(topk_documents(recs, "v1"))
    loaded = LocalTopKStore.load(store.save(tmp_path / "topk.jsonl"))
    assert loaded.get(1, "v1") == store.get("1", "v1")
    assert loaded.get(3, "v1") is None
    assert set(loaded.get_many([1, 2, 3], "v1")) == {"1", "2"}
    (tmp_path / "bad.jsonl").write_text('{"id": "1|v"}\n{not json\n')
    with pytest.raises(ValueError, match=r"bad.jsonl, line 2"):
        LocalTopKStore.load(tmp_path / "bad.jsonl")


def test_the_local_store_is_a_top_k_store():
    assert isinstance(LocalTopKStore(), TopKStore)
