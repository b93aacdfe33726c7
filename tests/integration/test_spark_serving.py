"""SynapseML Spark Serving (``recommenders-kit serve --engine spark``) beside Azure ML's
inference server, both started as the user starts them, on the same model folder: the same
answers, the same refusals with the same error bodies, and a stream that outlives bad
requests and clients that go away."""

from __future__ import annotations

import contextlib
import json
import re
import socket
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import pytest
import requests

from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
from recommenders_kit.serving import spark_serving
from recommenders_kit.serving.bundle import save_topk_bundle
from recommenders_kit.serving.launch import background, free_port
from recommenders_kit.serving.schema import MAX_BODY_BYTES, MAX_CATEGORY_LENGTH, MAX_ROWS
from recommenders_kit.serving.spark_serving import REQUEST_READ_TIMEOUT_S
from tests.support.scoring_clients import BROKEN_CHUNKED, connect, post, refused_or_closed

pytestmark = [pytest.mark.spark, pytest.mark.slow]
TIMEOUT = 60  # seconds: a micro-batch answers in well under one


@pytest.fixture(scope="module")
def azureml_url(click_model_dir):
    with background(click_model_dir) as url:
        yield url


@pytest.fixture(scope="module")
def spark_url(click_model_dir):
    with background(click_model_dir, engine="spark") as url:
        yield url


def _post(url: str, body: str | bytes) -> requests.Response:
    return post(url, body, timeout=TIMEOUT)


def _json(rows: list[dict]) -> str:
    return json.dumps({"rows": rows})


def test_answers_equal_the_azure_ml_service(spark_url, azureml_url, click_model_dir, criteo_rows):
    frame, rows = criteo_rows
    direct = LightGBMClickModel.load(click_model_dir).predict_proba(frame)
    for batch in (rows[:1], rows):
        spark, azureml = _post(spark_url, _json(batch)), _post(azureml_url, _json(batch))
        assert spark.status_code == azureml.status_code == 200
        assert spark.headers["Content-Type"] == "application/json"
        assert spark.json()["model_version"] == azureml.json()["model_version"]
        served = np.array(spark.json()["probabilities"])
        np.testing.assert_allclose(served, azureml.json()["probabilities"], rtol=0, atol=1e-9)
        np.testing.assert_allclose(served, direct[: len(batch)], rtol=0, atol=1e-9)


def _bad_bodies(rows: list[dict]) -> dict[str, str | bytes]:
    row = rows[0]
    without = {k: v for k, v in row.items() if k != "cat13"}
    return {
        "malformed JSON": "{not json",
        "empty body": "",
        "undecodable bytes": b"\xff\xfe{",
        "not an object": "[1, 2, 3]",
        "no rows": _json([]),
        "wrong type": _json([{**row, "int00": "twelve"}]),
        "missing feature": _json([row, without]),
        "unknown feature": _json([{**row, "int99": 1}]),
        "non-finite number": _json([row]).replace(str(row["int01"]), "NaN", 1),
        "long category": _json([{**row, "cat00": "x" * (MAX_CATEGORY_LENGTH + 1)}]),
        "huge integer": '{"rows": [{"int00": ' + "9" * 100 + "}]}",
        "deep nesting": "[" * 100_000 + "]" * 100_000,
        "too many rows": _json([row] * (MAX_ROWS + 1)),
        "body over the limit": b'{"rows": "' + b"x" * MAX_BODY_BYTES + b'"}',
        "null body": "null",
        "rows not a list": '{"rows": {"int00": 1}}',
        "no rows key, another key": '{"row": []}',
        "a row that is not an object": _json([row, 5]),
        "a boolean number": _json([{**row, "int00": True}]),
        "a number for a category": _json([{**row, "cat00": 12}]),
        "an object for a number": _json([{**row, "int00": {"int01": 1}}]),
        "the string NaN for a number": _json([{**row, "int01": "NaN"}]),
        "an overflowing number": _json([row]).replace(str(row["int01"]), "1e400", 1),
        "errors in many rows": _json([{**row, "int00": "a", "cat01": 1, "x": 0}, without] * 9),
        "long unknown keys": _json([{**row, **{f"k{i}" + "x" * 5000: 1 for i in range(3)}}])[:-1]
        + ', "'
        + "y" * 5000
        + '": 1}',
        "a key of escaped quotes": _json([{**row, '"' * 50_000: 1}]),
    }


# where Python's JSON parser says more than Spark's (recommenders_kit.serving.spark_click)
UNPARSED = {"malformed JSON", "undecodable bytes", "deep nesting"}


def test_bad_requests_get_the_azure_ml_services_error_bodies(spark_url, azureml_url, criteo_rows):
    """Each refusal equals Azure ML's (status and body; for JSON that does not parse, the
    status and the start of the message), and the stream answers after each."""
    _, rows = criteo_rows
    for case, body in _bad_bodies(rows).items():
        spark, azureml = _post(spark_url, body), _post(azureml_url, body)
        assert 400 <= spark.status_code < 500, case
        if case in UNPARSED:
            assert spark.status_code == azureml.status_code == 400, case
            assert spark.json()["error"].startswith("malformed JSON"), case
        else:
            assert (spark.status_code, spark.json()) == (azureml.status_code, azureml.json()), case
    assert _post(spark_url, _json(rows[:3])).status_code == 200


def test_a_click_model_is_answered_with_no_python_in_the_query(
    spark, click_model_dir, tmp_path, capsys, criteo_rows, recwarn
):
    """The continuous query that answers a click model plans no Python step (the top-k one,
    a Python UDF, does: the check can fail). Starting either shows the user no warning
    (SynapseML's ``makeReply`` calls pyspark's deprecated constructors)."""

    def plan(folder: Path, body: str) -> str:
        port = free_port()
        query = spark_serving.start(spark, folder, port=port, checkpoint=tmp_path / folder.name)
        try:
            deadline = time.monotonic() + TIMEOUT * 3
            while True:  # the stream binds its port a little after start() returns
                try:
                    assert _post(f"http://127.0.0.1:{port}", body).status_code == 200
                    break
                except requests.ConnectionError:
                    assert time.monotonic() < deadline, "the stream never answered"
                    time.sleep(0.5)
            capsys.readouterr()
            query.explain()
            return capsys.readouterr().out
        finally:
            query.stop()

    click = plan(click_model_dir, _json(criteo_rows[1][:2]))
    assert "LightGBM" not in click
    assert "from_json" in click
    assert not re.search("Python|Arrow|BatchEval", click)
    bundle = save_topk_bundle(tmp_path / "topk", [], [{"itemId": 1, "score": 1.0, "rank": 1}], "v")
    assert re.search("ArrowEvalPython|PythonUDF", plan(bundle, '{"user_id": 1}'))
    # what Python shows a user: its default filters hide DeprecationWarning outside __main__
    shown = [w for w in recwarn if not issubclass(w.category, DeprecationWarning)]
    assert [str(w.message) for w in shown if "pyspark" in w.filename] == []


def test_get_is_the_health_check_and_other_methods_are_refused(spark_url):
    health = requests.get(spark_url + "/score", timeout=TIMEOUT)
    assert health.status_code == 200
    assert health.json() == {"status": "Healthy", "model_version": "criteo"}
    put = requests.put(spark_url + "/score", data="{}", timeout=TIMEOUT)
    assert put.status_code == 405
    assert put.json() == {"error": "POST the request as JSON to /score"}


def test_clients_that_leave_or_stall_do_not_stop_the_stream(spark_url, criteo_rows):
    """A client gone before its answer costs nothing; one that stalls mid-body holds the
    reader (and whoever waits behind it) for at most REQUEST_READ_TIMEOUT_S, then the
    service answers again."""
    _, rows = criteo_rows
    body = _json(rows[:1]).encode()
    request = b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body)
    for _ in range(3):  # sent in full, then gone before the answer
        with connect(spark_url, timeout=TIMEOUT) as s:
            s.sendall(request + body)
    assert _post(spark_url, body).status_code == 200
    idle, stalled = connect(spark_url, timeout=TIMEOUT), connect(spark_url, timeout=TIMEOUT)
    try:
        stalled.sendall(request + body[:10])  # half a body, then nothing
        start = time.monotonic()
        with contextlib.suppress(requests.ConnectionError):  # reset with the stalled one
            assert _post(spark_url, body).status_code == 200
        assert time.monotonic() - start < REQUEST_READ_TIMEOUT_S + 5
        assert stalled.recv(100) == b""  # the server closed the stalled connection
        assert _post(spark_url, body).status_code == 200  # idle socket still open
    finally:
        idle.close()
        stalled.close()


def test_a_broken_chunked_body_does_not_stop_the_stream(spark_url, criteo_rows):
    with connect(spark_url, BROKEN_CHUNKED, timeout=TIMEOUT) as s:
        assert refused_or_closed(s.recv(4096))
    assert _post(spark_url, _json(criteo_rows[1][:1])).status_code == 200


def test_continuous_mode_answers_the_same_and_the_helper_cleans_up(
    click_model_dir, criteo_rows, azureml_url, tmp_path
):
    """Continuous mode; and on exit the port is released, the temporary checkpoint gone and
    the server's log free of errors (SIGTERM is a normal stop)."""

    def checkpoints() -> set[Path]:
        return set(Path(tempfile.gettempdir()).glob("recommenders_kit-serving-*"))

    _, rows = criteo_rows
    bad = _json([{"int00": "twelve"}])
    before = checkpoints()
    log = tmp_path / "server.log"
    with background(click_model_dir, engine="spark", mode="continuous", log=log) as url:
        assert len(checkpoints() - before) == 1
        good, wrong, after = (
            _post(url, _json(rows[:5])),
            _post(url, bad),
            _post(url, _json(rows[:1])),
        )
    assert good.status_code == after.status_code == 200
    assert good.json() == _post(azureml_url, _json(rows[:5])).json()
    assert (wrong.status_code, wrong.json()) == (422, _post(azureml_url, bad).json())
    assert checkpoints() == before
    errors = [line for line in log.read_text().splitlines() if re.search("Traceback|ERROR", line)]
    assert errors == []
    port = urlparse(url).port
    with pytest.raises(ConnectionRefusedError):  # nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=5)
    with socket.socket() as s:  # and a new server can take the port
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", port))
        s.listen()
