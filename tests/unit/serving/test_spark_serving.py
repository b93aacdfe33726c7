"""The Python side of Spark Serving (no Spark): one answer row per request, the same answers
as the Azure ML entry script's, the health check, other methods refused."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from recommenders_kit.serving.scorers import load_scorer, respond
from recommenders_kit.serving.spark_serving import answer_rows, start


def test_answer_rows_are_the_entry_scripts_answers(click_model_dir, criteo_rows):
    _, rows = criteo_rows
    scorer = load_scorer(click_model_dir)
    bodies = [json.dumps({"rows": rows[:2]}).encode(), b"{not json", b'{"rows": []}', None, b""]
    methods = ["POST"] * len(bodies)
    answers = answer_rows(str(click_model_dir), pd.Series(methods), pd.Series(bodies))
    assert list(answers.columns) == ["status", "reason", "body"]
    for body, answer in zip(bodies, answers.itertuples(), strict=True):
        status, want = respond(scorer, body or b"")
        assert (answer.status, json.loads(answer.body)) == (status, want)
    assert list(answers.status) == [200, 400, 422, 400, 400]
    assert (
        list(answers.reason) == ["OK", "Bad Request", "Unprocessable Entity"] + ["Bad Request"] * 2
    )


def test_get_answers_health_and_other_methods_405(click_model_dir):
    answers = answer_rows(str(click_model_dir), pd.Series(["GET", "PUT"]), pd.Series([b"", b"{}"]))
    assert list(answers.status) == [200, 405]
    assert json.loads(answers.body[0]) == {"status": "Healthy", "model_version": "criteo"}
    assert json.loads(answers.body[1]) == {"error": "POST the request as JSON to /score"}


@pytest.mark.spark
def test_start_refuses_a_bad_mode_or_no_checkpoint_before_any_stream(spark, click_model_dir):
    with pytest.raises(
        ValueError, match=r"mode must be one of \['auto', 'micro-batch', 'continuous'\]"
    ):
        start(spark, click_model_dir, mode="batch", checkpoint="ignored")
    with pytest.raises(ValueError, match="checkpoint: give a folder"):
        start(spark, click_model_dir)
    assert spark.streams.active == []
