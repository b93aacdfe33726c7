"""Per-user top-k recommendations in Azure Cosmos DB (SQL API), partitioned by ``/userId``.

Documents have the format of :mod:`recommenders_kit.storage.topk`:
``{id, userId, items: [{itemId, score, rank}], model_version, updated_at}``, one per user and
model version, so several versions live side by side and the serving side names the one it
serves.

Writes are idempotent and cheap to repeat: each batch first reads the stored documents
(``read_items``, one request per batch) and upserts only the users whose list changed, so a
rerun of the same write changes nothing (not even ``updated_at``). Requests in a batch run
concurrently; throttled requests (HTTP 429) are retried by the client after the
``x-ms-retry-after-ms`` the service sends (``throttle_retries`` / ``throttle_wait_s``).

From Spark, :meth:`RecommendationStore.write_spark` groups the lists on the executors and
each partition writes its own users with its own client: nothing goes through the driver.

Example::

    settings = CosmosSettings(endpoint="https://<account>.documents.azure.com:443/",
                              key=os.environ["COSMOS_KEY"])
    store = RecommendationStore(settings, create=True)
    store.write(topk_frame, model_version="als-2026-11-22")
    # WriteStats(users=943, written=943, unchanged=0)
    store.get(196, "als-2026-11-22")["items"][0]
    # {'itemId': 50, 'score': 1.02, 'rank': 1}
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
import weakref
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_PREDICTION_COL,
    DEFAULT_USER_COL,
)
from recommenders_kit.errors import InputError, MissingResourceError, StoreUnavailableError
from recommenders_kit.settings import COSMOS_ENV as _ENV
from recommenders_kit.settings import env_flag, env_value
from recommenders_kit.storage.topk import (
    check_model_version,
    document_id,
    make_document,
    now_iso,
    topk_documents,
)

if TYPE_CHECKING:
    from pyspark.sql import DataFrame as SparkDataFrame

logger = logging.getLogger(__name__)
#: Seconds between two checks that the container still exists (made when a read finds
#: nothing, since Cosmos DB answers 404 both for a missing document and a missing container).
CONTAINER_CHECK_S = 10.0
_OWNER_MISSING = 1003  # Cosmos DB's sub-status of a 404 whose container does not exist
_UNVERIFIED: set[str] = set()
_STORED = ("id", "userId", "model_version", "items")  # the fields a rewrite compares
#: How long a fork waits for a client's background threads (see :func:`_finish_client_threads`).
FORK_WAIT_S = 10.0
_CLIENT_THREADS: weakref.WeakSet[threading.Thread] = weakref.WeakSet()


@dataclass(frozen=True)
class CosmosSettings:
    """Where the store lives and how to reach it; picklable, so Spark executors get a copy.

    ``key`` is the account key (or a resource token); without one the client authenticates
    with ``DefaultAzureCredential`` (managed identity, Azure CLI login, ...). The key never
    appears in ``repr``. ``connection_verify=False`` only for a local emulator with a
    self-signed certificate. Writes retry throttled requests (``throttle_*``); reads
    (:meth:`RecommendationStore.get`, what the scoring service calls) wait at most
    ``read_timeout_s`` seconds, without retries, then raise ``StoreUnavailableError``.
    """

    endpoint: str
    key: str | None = field(default=None, repr=False)
    database: str = "recommendations"
    container: str = "topk"
    connection_verify: bool = True
    batch_size: int = 100
    max_concurrency: int = 8
    throttle_retries: int = 9
    throttle_wait_s: float = 60.0
    read_timeout_s: float = 0.5

    @classmethod
    def from_env(cls, **overrides: Any) -> CosmosSettings:
        """Settings from ``RECOMMENDERS_KIT_COSMOS_ENDPOINT`` / ``_KEY`` / ``_DATABASE`` /
        ``_CONTAINER`` / ``_VERIFY`` (``0`` to skip TLS verification), then ``overrides``."""
        endpoint = env_value(_ENV + "ENDPOINT")
        if not endpoint:
            raise InputError(f"{_ENV}ENDPOINT is not set")
        settings = cls(
            endpoint=endpoint,
            key=env_value(_ENV + "KEY"),
            database=env_value(_ENV + "DATABASE") or cls.database,
            container=env_value(_ENV + "CONTAINER") or cls.container,
            connection_verify=env_flag(_ENV + "VERIFY", default=True),
        )
        return replace(settings, **overrides)


@dataclass(frozen=True)
class WriteStats:
    """What a write did: users seen, documents upserted, documents already up to date."""

    users: int
    written: int
    unchanged: int

    def __add__(self, other: WriteStats) -> WriteStats:
        return WriteStats(*(a + b for a, b in zip(self._tuple(), other._tuple(), strict=True)))

    def _tuple(self) -> tuple[int, int, int]:
        return self.users, self.written, self.unchanged


class RecommendationStore:
    """Read and write per-user top-k lists in one Cosmos DB container.

    Args:
        settings: :class:`CosmosSettings`.
        create: create the database and the container (partition key ``/userId``) if missing;
            otherwise a missing one is an error that names it.
        **client_kwargs: passed to ``azure.cosmos.CosmosClient`` (e.g. ``transport``).
    """

    def __init__(self, settings: CosmosSettings, create: bool = False, **client_kwargs: Any):
        from azure.cosmos import PartitionKey, exceptions

        self.settings = settings
        self._client_kwargs = client_kwargs
        self._checked = (-CONTAINER_CHECK_S, True)  # (when, whether) the container existed
        s = settings
        if not s.connection_verify:
            _quiet_unverified_tls(s.endpoint)
        self._opened = (os.getpid(), *self._connect())
        try:
            if create:
                db = self._opened[1].create_database_if_not_exists(s.database)
                db.create_container_if_not_exists(
                    s.container, partition_key=PartitionKey(path="/userId")
                )
            else:
                self._container.read()
        except exceptions.CosmosResourceNotFoundError:
            raise MissingResourceError(
                f"Cosmos DB container {s.database}/{s.container} does not exist at {s.endpoint}; "
                "create it (partition key /userId) or pass create=True"
            ) from None

    def _connect(self) -> tuple[Any, Any]:
        """A Cosmos DB client and its proxy of the container (no request sent)."""
        from azure.cosmos import CosmosClient

        s = self.settings
        credential: Any = s.key
        if credential is None:
            from azure.identity import DefaultAzureCredential

            credential = DefaultAzureCredential()
        running = set(threading.enumerate())
        client = CosmosClient(
            s.endpoint,
            credential=credential,
            connection_verify=s.connection_verify,
            retry_throttle_total=s.throttle_retries,
            retry_throttle_backoff_max=s.throttle_wait_s,
            **self._client_kwargs,
        )
        _CLIENT_THREADS.update(t for t in threading.enumerate() if _checks_endpoints(t, running))
        return client, client.get_database_client(s.database).get_container_client(s.container)

    @property
    def _container(self) -> Any:
        """The container's proxy of this process: a forked process (a web server's worker,
        forked once the model loaded) opens its own connections, never shares its parent's."""
        if self._opened[0] != os.getpid():
            self._opened = (os.getpid(), *self._connect())
        return self._opened[2]

    def __repr__(self) -> str:
        return f"RecommendationStore({self.settings!r})"

    # ------------------------------------------------------------ writing

    def write(
        self,
        recommendations: pd.DataFrame,
        model_version: str,
        *,
        k: int | None = None,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
    ) -> WriteStats:
        """Store each user's top ``k`` (all rows if None) of a pandas frame of scored items."""
        docs = topk_documents(
            recommendations,
            model_version,
            k=k,
            col_user=col_user,
            col_item=col_item,
            col_prediction=col_prediction,
        )
        return self.write_documents(docs)

    def write_documents(self, documents: Iterable[dict[str, Any]]) -> WriteStats:
        """Upsert documents in batches, skipping those already stored with the same lists."""
        total = WriteStats(0, 0, 0)
        batch: list[dict[str, Any]] = []
        with ThreadPoolExecutor(self.settings.max_concurrency) as pool:
            for doc in documents:
                batch.append(doc)
                if len(batch) == self.settings.batch_size:
                    total += self._write_batch(batch, pool)
                    batch = []
            if batch:
                total += self._write_batch(batch, pool)
        return total

    def _write_batch(self, docs: list[dict[str, Any]], pool: ThreadPoolExecutor) -> WriteStats:
        stored = {
            doc["id"]: doc
            for doc in self._container.read_items([(d["id"], d["userId"]) for d in docs])
        }
        changed = [d for d in docs if not _same(stored.get(d["id"]), d)]
        list(pool.map(self._container.upsert_item, changed))
        return WriteStats(len(docs), len(changed), len(docs) - len(changed))

    def write_spark(
        self,
        recommendations: SparkDataFrame,
        model_version: str,
        *,
        k: int | None = None,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
    ) -> WriteStats:
        """Store the top ``k`` per user of a Spark frame; each partition writes its users.

        Only the three counters of :class:`WriteStats` come back to the driver.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        from recommenders_kit._validate import require_spark_frame

        require_spark_frame(
            recommendations, [col_user, col_item, col_prediction], "recommendations"
        )
        check_model_version(model_version)
        ranked = recommendations.withColumn(
            "_rank",
            F.row_number().over(
                Window.partitionBy(col_user).orderBy(F.desc(col_prediction), F.asc(col_item))
            ),
        )
        if k is not None:
            ranked = ranked.where(F.col("_rank") <= k)
        lists = ranked.groupBy(col_user).agg(
            F.sort_array(F.collect_list(F.struct("_rank", col_item, col_prediction))).alias("_l")
        )
        settings, updated_at = self.settings, now_iso()

        def write_partition(rows: Iterable[Any]) -> Iterator[tuple[int, int, int]]:
            docs = (
                make_document(row[0], ((e[1], e[2]) for e in row[1]), model_version, updated_at)
                for row in rows
            )
            yield RecommendationStore(settings).write_documents(docs)._tuple()

        counts = lists.rdd.mapPartitions(write_partition).collect()  # one tuple per partition
        return sum((WriteStats(*c) for c in counts), WriteStats(0, 0, 0))

    # ------------------------------------------------------------ reading

    def get(self, user: Any, model_version: str) -> dict[str, Any] | None:
        """``user``'s document for ``model_version``, or None if there is none.

        Raises :class:`~recommenders_kit.errors.StoreUnavailableError` when Cosmos DB does
        not answer within ``read_timeout_s`` or the container is gone (a missing document and
        a missing container both answer 404: the container is checked, at most every
        :data:`CONTAINER_CHECK_S` seconds)."""
        from azure.cosmos import exceptions

        with self._unavailable_as_error():
            try:
                return self._container.read_item(
                    document_id(user, model_version), str(user), **self._read_options()
                )
            except exceptions.CosmosResourceNotFoundError as e:
                if e.sub_status == _OWNER_MISSING or not self._container_exists():
                    gone = f"Cosmos DB container {self._where()} is gone"
                    raise StoreUnavailableError(gone) from None
                return None

    def get_many(self, users: Iterable[Any], model_version: str) -> dict[str, dict[str, Any]]:
        """Documents of the users that have one, keyed by ``userId`` (a string)."""
        keys = [(document_id(u, model_version), str(u)) for u in users]
        out: dict[str, dict[str, Any]] = {}
        with self._unavailable_as_error():
            for start in range(0, len(keys), self.settings.batch_size):
                chunk = keys[start : start + self.settings.batch_size]
                docs = self._container.read_items(chunk, **self._read_options())
                out.update({doc["userId"]: doc for doc in docs})
        return out

    def _read_options(self) -> dict[str, Any]:
        wait = self.settings.read_timeout_s
        return {"timeout": wait, "retry_total": 0, "connection_timeout": wait, "read_timeout": wait}

    @contextlib.contextmanager
    def _unavailable_as_error(self) -> Iterator[None]:
        from azure.core.exceptions import AzureError
        from azure.cosmos import exceptions

        try:
            yield
        except exceptions.CosmosHttpResponseError as e:
            if e.status_code is not None and e.status_code < 500 and e.status_code != 429:
                raise
            answer = f"Cosmos DB {self._where()} answered {e.status_code}"
            raise StoreUnavailableError(answer) from None
        except AzureError as e:  # refused, timed out, reset
            raise StoreUnavailableError(
                f"Cosmos DB {self._where()} did not answer within "
                f"{self.settings.read_timeout_s} s ({type(e).__name__})"
            ) from None

    def _container_exists(self) -> bool:
        from azure.cosmos import exceptions

        now = time.monotonic()
        if now - self._checked[0] >= CONTAINER_CHECK_S:
            try:
                self._container.read(**self._read_options())
                self._checked = (now, True)
            except exceptions.CosmosResourceNotFoundError:
                self._checked = (now, False)
        return self._checked[1]

    def _where(self) -> str:
        return f"{self.settings.database}/{self.settings.container} at {self.settings.endpoint}"

    def versions(self) -> dict[str, int]:
        """Model version -> number of users stored with it."""
        query = "SELECT c.model_version FROM c"
        counts: dict[str, int] = {}
        for row in self._container.query_items(query, enable_cross_partition_query=True):
            counts[row["model_version"]] = counts.get(row["model_version"], 0) + 1
        return counts

    def delete_version(self, model_version: str) -> int:
        """Delete every user's list of ``model_version``; returns how many were deleted."""
        check_model_version(model_version)
        rows = list(
            self._container.query_items(
                "SELECT c.id, c.userId FROM c WHERE c.model_version = @v",
                parameters=[{"name": "@v", "value": model_version}],
                enable_cross_partition_query=True,
            )
        )
        with ThreadPoolExecutor(self.settings.max_concurrency) as pool:
            list(pool.map(lambda r: self._container.delete_item(r["id"], r["userId"]), rows))
        return len(rows)


def _finish_client_threads() -> None:
    """Before this process forks, wait for the threads Cosmos DB clients started with them.

    A new client checks the account's endpoints over TLS in a background thread. A process
    forked while that thread is inside OpenSSL inherits OpenSSL's lock held, and its first TLS
    connection then spins forever: a web service worker, forked with the model (and its store)
    loaded, answered nothing and burnt a core. Forks wait for those threads, at most
    :data:`FORK_WAIT_S` seconds each.
    """
    for thread in list(_CLIENT_THREADS):
        if thread is not threading.current_thread():
            thread.join(FORK_WAIT_S)


def _checks_endpoints(thread: threading.Thread, running: set[threading.Thread]) -> bool:
    """Whether ``thread`` is new since ``running`` and runs a task that ends (the endpoint
    check, which also waits for the probes it gives the client's thread pool); the pool's
    idle workers (the standard library names them ``ThreadPoolExecutor-*``) live as long as
    the client."""
    return thread not in running and not thread.name.startswith("ThreadPoolExecutor")


os.register_at_fork(before=_finish_client_threads)


def _quiet_unverified_tls(endpoint: str) -> None:
    """Say once that TLS is not verified, instead of urllib3 warning on every request."""
    import warnings

    from urllib3.exceptions import InsecureRequestWarning

    if endpoint not in _UNVERIFIED:
        _UNVERIFIED.add(endpoint)
        logger.warning("TLS certificate of %s is not verified (local emulator only)", endpoint)
    warnings.simplefilter("ignore", InsecureRequestWarning)


def _same(stored: dict[str, Any] | None, doc: dict[str, Any]) -> bool:
    return stored is not None and all(stored.get(f) == doc[f] for f in _STORED)
