"""The scoring entry script and both model kinds, called in-process (see the integration
tests for the same requests over HTTP under Azure ML's server)."""

import json

import numpy as np
import pandas as pd
import pytest
from flask import Request

from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
from recommenders_kit.models.popularity.pandas import PopularityRecommender
from recommenders_kit.serving import score
from recommenders_kit.serving.bundle import save_topk_bundle
from recommenders_kit.serving.schema import MAX_BODY_BYTES, MAX_ROWS, RequestError
from recommenders_kit.serving.scorers import load_scorer
from recommenders_kit.storage.topk import popular_items, topk_documents


@pytest.fixture(scope="module")
def click(click_model_dir):
    return load_scorer(click_model_dir)


def test_click_probabilities_equal_direct_model_calls(click, click_model_dir, criteo_rows):
    frame, rows = criteo_rows
    answer = click.score({"rows": rows[:300]})
    direct = LightGBMClickModel.load(click_model_dir).predict_proba(frame.iloc[:300])
    np.testing.assert_allclose(answer["probabilities"], direct, rtol=0, atol=1e-12)
    assert answer["model_version"] == "criteo"


def _status(scorer, payload) -> RequestError:
    with pytest.raises(RequestError) as info:
        scorer.score(payload)
    return info.value


def test_click_request_errors(click, criteo_rows):
    _, rows = criteo_rows
    row = dict(rows[0])
    missing = {k: v for k, v in row.items() if k not in ("int03", "cat07")}
    e = _status(click, {"rows": [row, missing]})
    assert e.status == 422
    assert e.details == [
        {"field": "rows[1]", "problem": "missing: int03, cat07 (send null for a missing value)"}
    ]
    e = _status(click, {"rows": [{**row, "int03": "abc", "cat01": 5}]})
    assert {d["field"] for d in e.details} >= {"rows[0].int03", "rows[0].cat01"}
    e = _status(click, {"rows": [{**row, "colour": "red"}]})
    assert e.details[0]["field"] == "rows[0].colour"
    assert _status(click, {"rows": []}).status == 422
    assert _status(click, {"rows": [row] * (MAX_ROWS + 1)}).status == 413
    assert _status(click, [row]).status == 422
    assert click.score({"rows": [row] * MAX_ROWS})["probabilities"][-1] > 0


@pytest.fixture
def topk(tmp_path):
    recs = pd.DataFrame(
        {"userID": [1, 1, 1, 2], "itemID": [10, 20, 30, 10], "prediction": [0.9, 0.8, 0.7, 0.5]}
    )
    popular = PopularityRecommender().fit(
        pd.DataFrame({"userID": [1, 2, 3], "itemID": [30, 30, 20]})
    )
    save_topk_bundle(
        tmp_path / "als" / "bundle", topk_documents(recs, "v7"), popular_items(popular, 2), "v7"
    )
    return load_scorer(tmp_path / "als")  # the bundle is found one folder down, as in Azure ML


def test_topk_personal_popular_and_errors(topk):
    assert topk.score({"user_id": 1, "k": 2}) == {
        "user_id": "1",
        "model_version": "v7",
        "source": "personal",
        "items": [
            {"itemId": 10, "score": 0.9, "rank": 1},
            {"itemId": 20, "score": 0.8, "rank": 2},
        ],
    }
    assert topk.score({"user_id": "2"})["items"][0]["itemId"] == 10  # ids as strings too
    fallback = topk.score({"user_id": 999})
    assert fallback["source"] == "popular"
    assert [i["itemId"] for i in fallback["items"]] == [30, 20]
    for bad in (
        {"user_id": 1, "k": 0},
        {"user_id": 1, "k": 101},
        {"user_id": [1]},
        {"user": 1},
        {"user_id": 1, "k": "5"},
    ):
        assert _status(topk, bad).status == 422


def test_entry_script(monkeypatch, click_model_dir, criteo_rows):
    monkeypatch.setenv("AZUREML_MODEL_DIR", str(click_model_dir))
    score.init()
    _, rows = criteo_rows
    assert len(score.answer(json.dumps({"rows": rows[:3]}))["probabilities"]) == 3
    request = Request.from_values(method="POST", data=json.dumps({"rows": rows[:2]}))
    assert len(score.run(request)["probabilities"]) == 2
    too_big = Request.from_values(method="POST", data="x")
    too_big.environ["CONTENT_LENGTH"] = str(MAX_BODY_BYTES + 1)  # refused before reading
    assert score.run(too_big).status_code == 413
    assert score.run(Request.from_values(method="GET")).status_code == 405
    for body, status, text in [
        ("{bad", 400, "malformed JSON: Expecting property name"),
        ("", 400, "empty request body"),
        (b"\xff\xfe{", 400, "malformed JSON"),
        ('{"rows": []}', 422, "does not match the schema"),
    ]:
        response = score.answer(body)
        assert response.status_code == status
        assert text in json.loads(response.get_data())["error"]

    def broken(payload):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(score._scorer, "score", broken)
    response = score.answer('{"rows": []}')
    assert response.status_code == 500
    assert b"ZeroDivisionError" not in response.get_data()
    assert b"Traceback" not in response.get_data()
