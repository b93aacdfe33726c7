"""RecommendationStore against a real Cosmos DB SQL API server started by the tests."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid

import numpy as np
import pandas as pd
import pytest
import requests
from azure.core.pipeline.transport import RequestsTransport, RequestsTransportResponse

from recommenders_kit.errors import MissingResourceError
from recommenders_kit.storage.cosmos import CosmosSettings, RecommendationStore, WriteStats
from tests.support.local_servers import COSMOS_KEY

N_USERS, K = 2000, 10


@pytest.fixture
def settings(cosmos_endpoint) -> CosmosSettings:
    return CosmosSettings(
        endpoint=cosmos_endpoint,
        key=COSMOS_KEY,
        database="db" + uuid.uuid4().hex[:8],
        container="topk",
        connection_verify=False,
    )


def _recommendations(n_users: int, k: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(1, n_users + 1), k + 2)
    items = rng.integers(1, 1700, len(users))
    scores = np.round(rng.random(len(users)), 6)
    frame = pd.DataFrame({"userID": users, "itemID": items, "prediction": scores})
    return frame.drop_duplicates(["userID", "itemID"]).sample(frac=1, random_state=seed)


def _expected(frame: pd.DataFrame, k: int) -> dict[str, list[dict]]:
    """Each user's top k by a plain loop: sort (score desc, item asc), rank from 1."""
    out = {}
    for user, rows in frame.groupby("userID"):
        pairs = sorted(zip(rows.itemID, rows.prediction, strict=True), key=lambda p: (-p[1], p[0]))
        out[str(user)] = [
            {"itemId": int(i), "score": float(s), "rank": r}
            for r, (i, s) in enumerate(pairs[:k], start=1)
        ]
    return out


def test_two_thousand_users_written_read_back_and_rewritten_idempotently(settings):
    store = RecommendationStore(settings, create=True)
    frame = _recommendations(N_USERS, K, seed=0)
    stats = store.write(frame, "v1", k=K)
    assert stats == WriteStats(users=N_USERS, written=N_USERS, unchanged=0)

    expected = _expected(frame, K)
    docs = store.get_many(range(1, N_USERS + 1), "v1")
    assert len(docs) == N_USERS
    assert {u: d["items"] for u, d in docs.items()} == expected
    assert docs["7"]["id"] == "7|v1"
    assert docs["7"]["model_version"] == "v1"
    assert store.get(7, "v1")["items"] == expected["7"]
    assert store.get(N_USERS + 1, "v1") is None  # unknown user: None, not an error
    assert store.get(7, "v2") is None

    etags = {u: d["_etag"] for u, d in docs.items()}
    assert store.write(frame, "v1", k=K) == WriteStats(N_USERS, 0, N_USERS)
    again = store.get_many(range(1, N_USERS + 1), "v1")
    assert {u: d["_etag"] for u, d in again.items()} == etags  # nothing was rewritten

    changed = frame.copy()
    changed.loc[changed.userID <= 5, "prediction"] += 10.0
    assert store.write(changed, "v1", k=K) == WriteStats(N_USERS, 5, N_USERS - 5)
    assert store.get(3, "v1")["items"] == _expected(changed[changed.userID == 3], K)["3"]


def test_versions_side_by_side_and_delete_one(settings):
    store = RecommendationStore(settings, create=True)
    store.write(_recommendations(30, 3, seed=1), "v1", k=3)
    store.write(_recommendations(20, 3, seed=2), "v2", k=3)
    assert store.versions() == {"v1": 30, "v2": 20}
    assert store.delete_version("v1") == 30
    assert store.versions() == {"v2": 20}
    assert store.get(1, "v1") is None
    assert store.get(1, "v2") is not None
    with pytest.raises(ValueError, match="model_version"):
        store.delete_version("bad/version")


class ThrottlingTransport(RequestsTransport):
    """Answers 429 with a retry-after to every ``every``-th upsert, as throttled Cosmos DB does."""

    def __init__(self, every: int, retry_after_ms: int, **kwargs):
        super().__init__(**kwargs)
        self.every, self.retry_after_ms = every, retry_after_ms
        self.writes = self.throttled = 0

    def send(self, request, **kwargs):
        if request.headers.get("x-ms-documentdb-is-upsert") == "True":
            self.writes += 1
            if self.writes % self.every == 0:
                self.throttled += 1
                raw = requests.Response()
                raw.status_code = 429
                raw.headers.update(
                    {
                        "x-ms-retry-after-ms": str(self.retry_after_ms),
                        "x-ms-substatus": "3200",
                        "content-type": "application/json",
                    }
                )
                raw._content = json.dumps({"code": "429", "message": "Request rate is large"})
                raw._content = raw._content.encode()
                raw.request, raw.url = request, request.url
                return RequestsTransportResponse(request, raw)
        return super().send(request, **kwargs)


def test_throttled_writes_are_retried_after_the_servers_delay(settings):
    RecommendationStore(settings, create=True)
    transport = ThrottlingTransport(every=4, retry_after_ms=50, connection_verify=False)
    store = RecommendationStore(settings, transport=transport)
    frame = _recommendations(200, 3, seed=3)
    start = time.perf_counter()
    assert store.write(frame, "v1", k=3) == WriteStats(200, 200, 0)
    elapsed = time.perf_counter() - start
    # every throttled upsert was sent again, and only those: 200 documents, 200 + t requests
    assert transport.throttled >= 50
    assert transport.writes == 200 + transport.throttled
    # each throttled request waited its 50 ms (8 in flight at a time: >= 50 * 50 ms / 8)
    assert elapsed >= transport.throttled * 0.05 / settings.max_concurrency
    docs = RecommendationStore(settings).get_many(range(1, 201), "v1")
    assert {u: d["items"] for u, d in docs.items()} == _expected(frame, 3)


class SlowBackgroundTransport(RequestsTransport):
    """Sends the requests of threads other than its creator's 0.5 s late, and counts those
    in flight."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.owner, self.lock = threading.current_thread(), threading.Lock()
        self.delayed = self.in_flight = 0

    def send(self, request, **kwargs):
        if threading.current_thread() is self.owner:
            return super().send(request, **kwargs)
        with self.lock:
            self.delayed += 1
            self.in_flight += 1
        try:
            time.sleep(0.5)
            return super().send(request, **kwargs)
        finally:
            with self.lock:
                self.in_flight -= 1


def test_a_fork_waits_for_the_clients_background_checks(settings):
    """A client checks the account's endpoints over TLS in threads of its own; a process
    forked while one was inside OpenSSL spun forever on its first TLS connection (a web
    service worker forked with the store loaded)."""
    RecommendationStore(settings, create=True)
    transport = SlowBackgroundTransport(connection_verify=False)
    RecommendationStore(settings, transport=transport)
    deadline = time.monotonic() + 5
    while not transport.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)
    assert transport.in_flight  # the client's endpoint check is under way
    child = os.fork()
    if child == 0:  # the child leaves at once: only the parent's view matters
        os._exit(0)
    assert transport.in_flight == 0  # the fork waited for the check to finish
    assert transport.delayed >= 1
    os.waitpid(child, 0)


def test_spark_frame_written_by_the_executors(spark, settings):
    store = RecommendationStore(settings, create=True)
    frame = _recommendations(300, 5, seed=4)
    sdf = spark.createDataFrame(frame).repartition(4)
    assert store.write_spark(sdf, "spark-v1", k=5) == WriteStats(300, 300, 0)
    docs = store.get_many(range(1, 301), "spark-v1")
    assert {u: d["items"] for u, d in docs.items()} == _expected(frame, 5)
    assert store.write_spark(sdf, "spark-v1", k=5) == WriteStats(300, 0, 300)


def test_missing_container_and_hidden_key(settings):
    with pytest.raises(
        MissingResourceError, match=f"{settings.database}/topk does not exist.*create=True"
    ):
        RecommendationStore(settings)
    assert COSMOS_KEY not in repr(settings)


def test_settings_from_environment(monkeypatch, cosmos_endpoint):
    monkeypatch.setenv("RECOMMENDERS_KIT_COSMOS_ENDPOINT", cosmos_endpoint)
    monkeypatch.setenv("RECOMMENDERS_KIT_COSMOS_KEY", COSMOS_KEY)
    monkeypatch.setenv("RECOMMENDERS_KIT_COSMOS_VERIFY", "0")
    s = CosmosSettings.from_env(container="other")
    assert (s.endpoint, s.key, s.connection_verify, s.container) == (
        cosmos_endpoint,
        COSMOS_KEY,
        False,
        "other",
    )
    monkeypatch.delenv("RECOMMENDERS_KIT_COSMOS_ENDPOINT")
    with pytest.raises(ValueError, match="RECOMMENDERS_KIT_COSMOS_ENDPOINT"):
        CosmosSettings.from_env()


def test_a_forked_process_reads_over_its_own_connections(settings):
    """A web server that opens the store, then forks its workers (gunicorn ``--preload``):
    parent and child read at the same time, each gets the documents it asked for."""
    store = RecommendationStore(settings, create=True)
    frame = _recommendations(100, K, seed=3)
    store.write(frame, "v1", k=K)
    expected = _expected(frame, K)
    users = list(range(1, 101)) * 2
    assert store.get(1, "v1")["items"] == expected["1"]  # a connection is open in the pool
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:  # the child reports whether every answer was its own, then leaves
        answer = b"0"
        try:
            answer = (
                b"1"
                if all(store.get(u, "v1")["items"] == expected[str(u)] for u in users)
                else answer
            )
        finally:
            os.write(write_end, answer)
            os._exit(0)
    parents = all(store.get(u, "v1")["items"] == expected[str(u)] for u in reversed(users))
    os.waitpid(child, 0)
    assert parents
    assert os.read(read_end, 1) == b"1"
