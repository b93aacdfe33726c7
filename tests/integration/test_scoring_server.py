"""The scoring service under Azure ML's inference server, started with ``recommenders-kit serve``
on 127.0.0.1, answering real HTTP requests."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import pytest
import requests

from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
from recommenders_kit.models.popularity.pandas import PopularityRecommender
from recommenders_kit.serving.bundle import save_topk_bundle
from recommenders_kit.serving.launch import background as scoring_server
from recommenders_kit.serving.schema import MAX_ROWS
from recommenders_kit.storage.cosmos import CosmosSettings, RecommendationStore
from recommenders_kit.storage.topk import popular_items, topk_documents
from tests.support.local_servers import COSMOS_KEY


@pytest.fixture(scope="module")
def click_url(click_model_dir):
    with scoring_server(click_model_dir) as url:
        yield url


def test_click_scores_equal_direct_model_calls(click_url, click_model_dir, criteo_rows):
    frame, rows = criteo_rows
    assert requests.get(click_url + "/").text.strip() == "Healthy"
    direct = LightGBMClickModel.load(click_model_dir).predict_proba(frame)
    with requests.Session() as http:
        one = http.post(click_url + "/score", json={"rows": rows[:1]})
        batch = http.post(click_url + "/score", json={"rows": rows})
    assert one.status_code == 200
    assert batch.status_code == 200
    np.testing.assert_allclose(one.json()["probabilities"], direct[:1], atol=1e-12)
    np.testing.assert_allclose(batch.json()["probabilities"], direct, atol=1e-12)


@pytest.mark.parametrize(
    ("body", "status", "text"),
    [
        ("{not json", 400, "malformed JSON"),
        ('{"rows": []}', 422, "does not match the schema"),
        ('{"rows": [{"int00": 1}]}', 422, "does not match the schema"),
        ('{"rows": [{"int00": "one"}]}', 422, "does not match the schema"),
        ('{"rows": "everything"}', 422, "does not match the schema"),
        ("[1, 2, 3]", 422, "does not match the schema"),
    ],
)
def test_click_bad_requests_get_4xx_with_a_message(click_url, body, status, text):
    r = requests.post(click_url + "/score", data=body, headers={"Content-Type": "application/json"})
    assert r.status_code == status
    assert text in r.json()["error"]
    assert "Traceback" not in r.text


def test_missing_feature_and_huge_batch(click_url, criteo_rows):
    _, rows = criteo_rows
    partial = {k: v for k, v in rows[0].items() if k != "cat13"}
    r = requests.post(click_url + "/score", json={"rows": [rows[0], partial]})
    assert r.status_code == 422
    assert r.json()["details"] == [
        {"field": "rows[1]", "problem": "missing: cat13 (send null for a missing value)"}
    ]
    r = requests.post(click_url + "/score", json={"rows": rows[:1] * (MAX_ROWS + 1)})
    assert r.status_code == 413
    assert f"at most {MAX_ROWS:,}" in r.json()["error"]


@pytest.fixture(scope="module")
def topk_bundle(tmp_path_factory, ml100k):
    recs = ml100k.rename(columns={"rating": "prediction"}).head(20_000)
    folder = tmp_path_factory.mktemp("als") / "bundle"
    return save_topk_bundle(
        folder,
        topk_documents(recs, "v1", k=10),
        popular_items(PopularityRecommender().fit(ml100k), 10),
        "v1",
    ), recs


def test_topk_from_the_local_store(topk_bundle):
    folder, recs = topk_bundle
    user = int(recs.userID.iloc[0])
    expected = list(topk_documents(recs[recs.userID == user], "v1", k=5))[0]["items"]
    with scoring_server(folder) as url:
        r = requests.post(url + "/score", json={"user_id": user, "k": 5})
        unknown = requests.post(url + "/score", json={"user_id": 10**9})
        bad = requests.post(url + "/score", json={"user_id": user, "k": 0})
    assert r.status_code == 200
    assert r.json()["items"] == expected
    assert r.json()["source"] == "personal"
    assert unknown.json()["source"] == "popular"
    assert len(unknown.json()["items"]) == 10
    assert bad.status_code == 422
    assert bad.json()["details"][0]["field"] == "k"


def test_topk_from_cosmos(tmp_path, cosmos_endpoint):
    settings = CosmosSettings(
        endpoint=cosmos_endpoint,
        key=COSMOS_KEY,
        connection_verify=False,
        database="serve" + uuid.uuid4().hex[:8],
    )
    recs = pd.DataFrame({"userID": [5, 5, 6], "itemID": [1, 2, 3], "prediction": [2.0, 1.0, 3.0]})
    RecommendationStore(settings, create=True).write(recs, "v9")
    # the bundle holds no lists: they come from Cosmos DB
    folder = save_topk_bundle(tmp_path / "b", [], [{"itemId": 42, "score": 1.0, "rank": 1}], "v9")
    env = {
        "RECOMMENDERS_KIT_COSMOS_ENDPOINT": cosmos_endpoint,
        "RECOMMENDERS_KIT_COSMOS_KEY": COSMOS_KEY,
        "RECOMMENDERS_KIT_COSMOS_DATABASE": settings.database,
        "RECOMMENDERS_KIT_COSMOS_VERIFY": "0",
    }
    with scoring_server(folder, env=env) as url:
        five = requests.post(url + "/score", data=json.dumps({"user_id": "5"})).json()
        other = requests.post(url + "/score", json={"user_id": 7}).json()
    assert [i["itemId"] for i in five["items"]] == [1, 2]
    assert five["source"] == "personal"
    assert other["items"] == [{"itemId": 42, "score": 1.0, "rank": 1}]
