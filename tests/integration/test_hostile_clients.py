"""Hostile and careless clients against the real scoring service (``azmlinfsrv`` started by
``recommenders-kit serve``): malformed bodies of every shape get a 4xx with the documented
error body, slow and idle sockets do not stop other clients, connections are kept alive,
and a top-k service whose Cosmos DB goes away keeps answering, marked."""

from __future__ import annotations

import contextlib
import json
import threading
import time
import uuid

import pandas as pd
import pytest
import requests
from azure.cosmos import CosmosClient
from hypothesis import given, settings
from hypothesis import strategies as st

from recommenders_kit.serving.bundle import save_topk_bundle
from recommenders_kit.serving.gunicorn_config import REQUEST_READ_TIMEOUT_S
from recommenders_kit.serving.launch import background as scoring_server
from recommenders_kit.serving.schema import (
    MAX_BODY_BYTES,
    MAX_CATEGORY_LENGTH,
    MAX_ECHO_CHARS,
    MAX_USER_ID_LENGTH,
)
from recommenders_kit.serving.server import DEFAULT_THREADS, KEEP_ALIVE_S
from recommenders_kit.storage.cosmos import CosmosSettings, RecommendationStore
from tests.support.local_servers import COSMOS_KEY, cosmos
from tests.support.scoring_clients import (
    BROKEN_CHUNKED,
    connect,
    post,
    raw_answer,
    read_answer,
    refused_or_closed,
    server_workers,
)


@pytest.fixture(scope="module")
def click_url(click_model_dir):
    with scoring_server(click_model_dir) as url:
        yield url


@pytest.fixture(scope="module")
def topk_url(tmp_path_factory):
    docs = [{"id": "5:v1", "userId": "5", "model_version": "v1", "items": []}]
    folder = save_topk_bundle(
        tmp_path_factory.mktemp("topk") / "b", docs, [{"itemId": 1, "score": 1.0, "rank": 1}], "v1"
    )
    with scoring_server(folder) as url:
        yield url


def _row(criteo_rows, **changes) -> dict:
    return {**criteo_rows[1][0], **changes}


DEEP = 100_000


@pytest.mark.parametrize(
    ("body", "text"),
    [
        ("[" * DEEP + "]" * DEEP, "nested too deeply"),
        ('{"a":' * DEEP + "1" + "}" * DEEP, "nested too deeply"),
        ('{"rows": [{"int00": ' + "[" * DEEP + "]" * DEEP + "}]}", "nested too deeply"),
        ('{"rows": [{"int00": ' + "9" * 5000 + "}]}", "an integer of 5,000 characters"),
        ("{not json", "malformed JSON"),
        ("", "empty request body"),
        (b"\xff\xfe{", "malformed JSON"),
    ],
)
def test_malformed_bodies_get_400(click_url, body, text):
    r = post(click_url, body)
    assert r.status_code == 400
    assert text in r.json()["error"]
    assert "Traceback" not in r.text


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e400"])
def test_non_finite_numbers_get_422_naming_the_field(click_url, criteo_rows, literal):
    row = json.dumps(_row(criteo_rows, int03=0)).replace('"int03": 0', f'"int03": {literal}')
    r = post(click_url, '{"rows": [' + row + "]}")
    assert r.status_code == 422
    assert r.json()["details"] == [
        {"field": "rows[0].int03", "problem": "Input should be a finite number"}
    ]


def test_oversized_strings_and_bodies(click_url, criteo_rows):
    long = _row(criteo_rows, cat05="x" * (MAX_CATEGORY_LENGTH + 1))
    r = requests.post(click_url + "/score", json={"rows": [long]}, timeout=30)
    assert r.status_code == 422
    assert r.json()["details"][0]["field"] == "rows[0].cat05"
    huge = _row(criteo_rows, cat05="x" * (50 * 2**20))
    r = requests.post(click_url + "/score", json={"rows": [huge]}, timeout=60)
    assert r.status_code == 413
    assert f"{MAX_BODY_BYTES:,} bytes" in r.json()["error"]


def test_the_wrong_models_request_shape(click_url, topk_url, criteo_rows):
    r = requests.post(click_url + "/score", json={"user_id": 5, "k": 3}, timeout=30)
    assert r.status_code == 422
    r = requests.post(topk_url + "/score", json={"rows": criteo_rows[1][:1]}, timeout=30)
    assert r.status_code == 422
    r = post(topk_url, '{"user_id": ' + "7" * 100 + "}")
    assert r.status_code == 400


def test_idle_and_stalled_clients_do_not_stop_the_others(click_url, criteo_rows):
    stalled = [
        connect(click_url),  # connects, sends nothing
        connect(click_url),
        connect(click_url, b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"),
        connect(click_url, b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"),
    ]
    try:
        start = time.perf_counter()
        r = requests.post(click_url + "/score", json={"rows": criteo_rows[1][:1]}, timeout=10)
        assert r.status_code == 200
        # not held behind the stalled connections (they would hold it for the keep-alive time)
        assert time.perf_counter() - start < KEEP_ALIVE_S
        assert requests.get(click_url + "/", timeout=10).status_code == 200
        # a connection that never sends is closed by the server after the keep-alive time
        stalled[0].settimeout(KEEP_ALIVE_S + 10)
        assert stalled[0].recv(1) == b""
    finally:
        for s in stalled:
            s.close()


def test_clients_stalled_mid_body_hold_no_thread(click_url, criteo_rows):
    """8 clients (as many as the worker's threads) send half a body and stall: the others are
    answered while they wait, and each is answered 408 once its time is up."""
    head = b"POST /score HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    stalled = [connect(click_url, head + b'{"rows": [') for _ in range(DEFAULT_THREADS)]
    try:
        with requests.Session() as http:
            for _ in range(5):
                r = http.post(click_url + "/score", json={"rows": criteo_rows[1][:1]}, timeout=5)
                assert r.status_code == 200
        for s in stalled:  # still waiting: nothing answered them yet
            s.setblocking(False)
            with pytest.raises(BlockingIOError):
                s.recv(1)
            s.settimeout(REQUEST_READ_TIMEOUT_S + 10)
        answer = stalled[0].recv(4096)
        assert answer.startswith(b"HTTP/1.1 408 ")
        assert b"did not arrive whole" in answer.split(b"\r\n\r\n", 1)[1]
    finally:
        for s in stalled:
            s.close()


@pytest.mark.parametrize("chunked", [False, True])
def test_a_request_sent_in_pieces_is_answered_once_whole(click_url, criteo_rows, chunked):
    body = json.dumps({"rows": criteo_rows[1][:1]}).encode()
    if chunked:
        framing = b"Transfer-Encoding: chunked"
        cut = len(body) // 2
        pieces = [b"%x\r\n%s\r\n" % (len(p), p) for p in (body[:cut], body[cut:])]
        pieces[-1] += b"0\r\n\r\n"
    else:
        framing = b"Content-Length: %d" % len(body)
        pieces = [body[:10], body[10:]]
    with connect(click_url, b"POST /score HTTP/1.1\r\nHost: x\r\n" + framing, timeout=10) as s:
        for piece in [b"\r\n\r\n", *pieces]:
            time.sleep(0.3)
            s.sendall(piece)
        answer = b""
        while b'"probabilities"' not in answer:
            answer += s.recv(65536)
    assert answer.startswith(b"HTTP/1.1 200 OK")


def test_expect_continue_is_answered_before_the_body(click_url, criteo_rows):
    body = json.dumps({"rows": criteo_rows[1][:1]}).encode()
    head = b"POST /score HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n"
    with connect(click_url, head % len(body), timeout=10) as s:
        assert s.recv(4096).startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        s.sendall(body)
        answer = b""
        while b'"probabilities"' not in answer:
            answer += s.recv(65536)
    assert b"HTTP/1.1 200 OK" in answer


def test_a_killed_worker_is_replaced_under_load(click_model_dir, criteo_rows, tmp_path):
    """kill -9 of the only worker while 4 clients send requests: the next answer comes from
    its replacement, forked with the model already loaded: the model is loaded once, in the
    server's first process (how fast: ``benchmarks/serving.py``, about 0.3 s here; a fresh
    worker that imports the server and loads the model took 6-9 s under load)."""
    answered: list[tuple[float, float]] = []  # (sent, answered) of each 200
    stop = threading.Event()

    def load(url: str) -> None:
        with requests.Session() as http:
            while not stop.is_set():
                sent = time.monotonic()
                with contextlib.suppress(requests.RequestException):
                    r = http.post(url + "/score", json={"rows": criteo_rows[1][:1]}, timeout=30)
                    if r.status_code == 200:
                        answered.append((sent, time.monotonic()))

    log = tmp_path / "server.log"
    with scoring_server(click_model_dir, workers=1, log=log) as url:
        clients = [threading.Thread(target=load, args=(url,)) for _ in range(4)]
        for c in clients:
            c.start()
        try:
            while len(answered) < 20:
                time.sleep(0.05)
            (worker,) = server_workers(url)
            killed_at = time.monotonic()
            worker.kill()
            worker.wait(10)
            dead_at = time.monotonic()  # what is sent from now on, the replacement answers
            while not (after := [done for sent, done in answered if sent > dead_at]):
                assert time.monotonic() - killed_at < 30, "no answer after the kill"
                time.sleep(0.01)
            (replacement,) = server_workers(url)
        finally:
            stop.set()
            for c in clients:
                c.join()
    assert replacement.pid != worker.pid
    assert after
    assert log.read_text().count("Invoking user's init function") == 1  # Azure ML server's line


def test_a_broken_chunked_body_is_refused_or_closed(click_url):
    with connect(click_url, BROKEN_CHUNKED) as s:
        s.settimeout(KEEP_ALIVE_S + 10)
        assert refused_or_closed(s.recv(4096))


def test_connections_are_kept_alive(click_url, criteo_rows):
    with requests.Session() as http:
        first = http.post(click_url + "/score", json={"rows": criteo_rows[1][:1]}, timeout=10)
        pool = next(iter(http.adapters["http://"].poolmanager.pools._container.values()))
        second = http.post(click_url + "/score", json={"rows": criteo_rows[1][:1]}, timeout=10)
        assert first.headers.get("Connection", "").lower() != "close"
        assert second.status_code == 200
        assert pool.num_connections == 1  # the second request reused the first's socket


def test_stopping_closes_idle_connections_at_once(click_model_dir):
    """SIGTERM with a client kept alive after its answer and one that has sent nothing yet:
    both connections are closed at once and the service stops (gunicorn's worker left them
    open until its 30 s graceful timeout ran out)."""
    stopped = threading.Event()
    with contextlib.ExitStack() as server:
        url = server.enter_context(scoring_server(click_model_dir))
        with (
            connect(url, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") as kept,
            connect(url) as silent,
        ):
            assert read_answer(kept).startswith(b"HTTP/1.1 200")
            stopping = threading.Thread(target=lambda: (server.close(), stopped.set()))
            stopping.start()
            for s in (kept, silent):
                s.settimeout(2 * KEEP_ALIVE_S)  # a hang guard: at once is well under a second
                assert s.recv(1) == b""
        stopping.join(2 * KEEP_ALIVE_S)
    assert stopped.is_set()


def test_cosmos_down_answers_the_popular_list_marked_and_quickly(tmp_path):
    popular = [{"itemId": 42, "score": 1.0, "rank": 1}]
    folder = save_topk_bundle(tmp_path / "b", [], popular, "v9")
    with contextlib.ExitStack() as serving:
        with cosmos() as endpoint:
            settings = CosmosSettings(
                endpoint=endpoint,
                key=COSMOS_KEY,
                connection_verify=False,
                database="d" + uuid.uuid4().hex[:8],
            )
            recs = pd.DataFrame({"userID": [5], "itemID": [1], "prediction": [2.0]})
            RecommendationStore(settings, create=True).write(recs, "v9")
            url = serving.enter_context(scoring_server(folder, env=_cosmos_env(settings)))
            personal = post(url, '{"user_id": 5}').json()
            # the container goes away under the running service
            admin = CosmosClient(settings.endpoint, COSMOS_KEY, connection_verify=False)
            admin.delete_database(settings.database)
            gone = post(url, '{"user_id": 5}').json()
        start = time.perf_counter()  # the Cosmos DB server is stopped now
        down = post(url, '{"user_id": 5}')
        elapsed = time.perf_counter() - start
    assert personal["source"] == "personal"
    assert gone["source"] == "fallback"
    assert down.status_code == 200
    assert down.json() == {
        "user_id": "5",
        "model_version": "v9",
        "source": "fallback",
        "items": popular,
    }
    # one read with a 0.5 s timeout and no retries (the SDK's default policy would retry the
    # refused connection with back-off for several seconds)
    assert elapsed < 3.0


def _cosmos_env(settings: CosmosSettings) -> dict[str, str]:
    return {
        "RECOMMENDERS_KIT_COSMOS_ENDPOINT": settings.endpoint,
        "RECOMMENDERS_KIT_COSMOS_KEY": COSMOS_KEY,
        "RECOMMENDERS_KIT_COSMOS_DATABASE": settings.database,
        "RECOMMENDERS_KIT_COSMOS_VERIFY": "0",
    }


def test_a_missing_container_fails_the_start(tmp_path, cosmos_endpoint):
    folder = save_topk_bundle(tmp_path / "b", [], [{"itemId": 1, "score": 1.0, "rank": 1}], "v9")
    database = "missing" + uuid.uuid4().hex[:8]
    settings = CosmosSettings(endpoint=cosmos_endpoint, database=database)
    with (
        pytest.raises(RuntimeError, match=rf"Cosmos DB container {database}/topk does not exist"),
        scoring_server(folder, env=_cosmos_env(settings), timeout=60),
    ):
        pass


def _request(method: str, target: bytes, *headers: bytes, body: bytes = b"") -> bytes:
    lines = [method.encode() + b" " + target + b" HTTP/1.1", b"Host: x", b"Connection: close"]
    lines += [*headers, *([b"Content-Length: %d" % len(body)] if method == "POST" else [])]
    return b"\r\n".join(lines) + b"\r\n\r\n" + body


ROW = json.dumps({"rows": [{}]}).encode()


@pytest.mark.parametrize(
    ("request_bytes", "status", "text"),
    [
        (
            _request("POST", b"/score?\xff", b"Content-Type: application/json", body=ROW),
            400,
            "query string is not UTF-8",
        ),
        (_request("GET", b"/\xc3\x28"), 404, ""),
        *[(_request(m, b"/score"), 405, "") for m in ("PUT", "DELETE", "PATCH", "TRACE")],
        (_request("PUT", b"/"), 405, ""),
        (_request("GET", b"/nowhere"), 404, ""),
        (_request("GET", b"/", b"X-Big: " + b"a" * 9000), 431, ""),
        (_request("GET", b"/", *[b"X-%d: 1" % i for i in range(200)]), 431, ""),
        (_request("POST", b"/score", b"Expect: 200-ok", body=ROW), 417, ""),
        (_request("GET", b"/", b"Transfer-Encoding: zip"), 400, "zip"),
        (b"GARBAGE\r\n\r\n", 400, ""),
        (b"GET / HTTP/9.9\r\n\r\n", 400, ""),
    ],
)
def test_every_error_answer_is_the_json_error_body(click_url, request_bytes, status, text):
    """Whatever a client sends, from the request line on: a 4xx (never 5xx) whose body is
    ``{"error": ...}``, from the app, the inference server or gunicorn itself."""
    got, headers, body = raw_answer(click_url, request_bytes)
    assert (got, headers.get("content-type")) == (status, "application/json")
    error = json.loads(body)["error"]
    assert isinstance(error, str)
    assert error
    assert text in error


def test_answers_do_not_grow_with_what_the_client_sent(click_url, topk_url, criteo_rows):
    """Unknown field names are repeated cut to MAX_ECHO_CHARS characters, at most 20 of them;
    a user id over MAX_USER_ID_LENGTH is refused, not echoed."""
    names = {f"{i:02d}" + "n" * 180_000: 1 for i in range(25)}
    answer = post(click_url, json.dumps({"rows": [_row(criteo_rows, **names)]}))
    assert answer.status_code == 422
    assert len(answer.content) < 10_000
    fields = [d["field"] for d in answer.json()["details"]]
    assert len(fields) == 20
    assert all(f.startswith("rows[0].") and f.endswith("...") for f in fields)
    assert {len(f) for f in fields} == {len("rows[0].") + MAX_ECHO_CHARS + 3}
    long_id = "u" * 1_000_000
    answer = post(topk_url, json.dumps({"user_id": long_id, "k": 3}))
    assert answer.status_code == 422
    assert len(answer.content) < 1_000
    assert answer.json()["details"][0]["field"] == "user_id"
    fits = post(topk_url, json.dumps({"user_id": "u" * MAX_USER_ID_LENGTH, "k": 3}))
    assert fits.status_code == 200
    assert fits.json()["user_id"] == "u" * MAX_USER_ID_LENGTH


def _fuzzed_requests() -> st.SearchStrategy[bytes]:
    """Raw requests: a method, a target with arbitrary bytes, a few headers and a body that is
    JSON-like text, a valid request's body mutated, or arbitrary bytes."""
    methods = st.sampled_from([b"GET", b"POST", b"PUT", b"DELETE", b"PATCH", b"HEAD", b"OPTIONS"])
    targets = st.one_of(
        st.sampled_from([b"/", b"/score", b"/swagger.json", b"/score/"]),
        st.binary(min_size=1, max_size=40).map(lambda b: b"/score?" + b.replace(b" ", b"")),
        st.binary(min_size=1, max_size=40).map(lambda b: b"/" + b.replace(b" ", b"")),
    )
    json_like = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=20,
    ).map(lambda v: json.dumps({"rows": [v]} if isinstance(v, dict) else v).encode())
    bodies = st.one_of(json_like, st.binary(max_size=200))
    headers = st.lists(
        st.sampled_from(
            [
                b"Content-Type: application/json",
                b"Content-Type: text/plain",
                b"Expect: x",
                b"Accept: */*",
                b"X-Odd: \xff\xfe",
                b"Transfer-Encoding: chunked",
            ]
        ),
        max_size=3,
    )
    return st.builds(
        lambda m, t, hs, b: (
            b"\r\n".join(
                [
                    m + b" " + t + b" HTTP/1.1",
                    b"Host: x",
                    b"Connection: close",
                    *hs,
                    b"Content-Length: %d" % len(b),
                ]
            )
            + b"\r\n\r\n"
            + b
        ),
        methods,
        targets,
        headers,
        bodies,
    )


def _no_5xx_and_json_errors(url: str, request_bytes: bytes) -> None:
    status, headers, body = raw_answer(url, request_bytes, timeout=10)
    assert status < 500, request_bytes[:200]
    if status >= 400:
        assert headers.get("content-type") == "application/json", request_bytes[:200]
        if not request_bytes.startswith(b"HEAD "):  # a HEAD answer has no body
            assert isinstance(json.loads(body)["error"], str), request_bytes[:200]


FUZZ = settings(max_examples=200, deadline=None, derandomize=True, database=None)


@FUZZ
@given(request_bytes=_fuzzed_requests())
def test_fuzzed_requests_to_the_click_service(click_url, request_bytes):
    """Seeded (derandomized) and bounded: whatever the request, an answer below 500, and
    every error answer the JSON error body."""
    _no_5xx_and_json_errors(click_url, request_bytes)


@FUZZ
@given(request_bytes=_fuzzed_requests())
def test_fuzzed_requests_to_the_topk_service(topk_url, request_bytes):
    _no_5xx_and_json_errors(topk_url, request_bytes)
