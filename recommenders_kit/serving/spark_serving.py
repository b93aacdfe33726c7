"""Serve a model with SynapseML's Spark Serving: HTTP requests as rows of a Spark stream.

The same service as the Azure ML one (:mod:`recommenders_kit.serving.server`) — the same
request and response JSON, the same limits and error bodies, the same probabilities — but
its HTTP server is SynapseML's streaming source and each answer goes back through its sink.
This is how the personalization scenario runs the model developed on Databricks in
production: one local-mode Spark per container, a Kubernetes Deployment of such containers
behind a Service (``deploy/spark-serving`` in the repository: Dockerfile and manifests).

How a request is answered depends on the model:

* a **click model** is answered by Spark SQL alone
  (:mod:`recommenders_kit.serving.spark_click`): the request checks, the saved encoders and
  LightGBM's trees as expressions (:class:`~recommenders_kit.models.lightgbm.sql.ClickSQL`),
  so no Python runs per request and the continuous mode answers as requests arrive;
* a **top-k bundle** is answered by the library's own scorer in a pandas UDF
  (:func:`~recommenders_kit.serving.scorers.respond`, the code of the Azure ML entry
  script): its lists may live in Cosmos DB, which Spark SQL cannot read per request.

Either way a bad request is a row answered 4xx: it never fails the query.

Modes (``mode``; their latency and throughput: ``python -m benchmarks.serving`` and the
README):

* ``"auto"`` (default): continuous for a click model, micro-batch for a top-k bundle;
* ``"micro-batch"``: ``distributedServer()``; the requests waiting when a batch starts are
  answered by one Spark job, so latency is that of a Spark job whatever the batch's size,
  and throughput grows with concurrent clients. (``server()``, the other micro-batch
  source, reads request bodies inside the batch: a client that left mid-body failed the
  whole query.)
* ``"continuous"``: ``continuousServer()``: rows flow through the query as they arrive
  (milliseconds), but a Python UDF receives its rows only at the end of an epoch, so the
  top-k bundle's answers wait about one epoch (:data:`EPOCH_MS`; a click model's epochs are
  :data:`CLICK_EPOCH_MS`).

Both sources read request bodies one at a time: a client that stops mid-request holds the
others up to :data:`REQUEST_READ_TIMEOUT_S` seconds, then its connection is closed (with those
of the requests that waited that long; their clients see a reset). Bodies are read whole
before the UDF sees them; over ``MAX_BODY_BYTES`` they are refused (413) after reading.
``GET /score`` answers ``{"status": "Healthy", "model_version": ...}`` through the stream, so
a Kubernetes probe fails when the stream is dead; ``POST /score`` scores.

    recommenders-kit serve --engine spark --model-dir models/criteo --port 8898

From Python, :func:`~recommenders_kit.serving.launch.background` with ``engine="spark"``.
"""

from __future__ import annotations

import contextlib
import http
import json
import logging
import shutil
import signal
import tempfile
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pandas as pd

from recommenders_kit._validate import require_choice
from recommenders_kit.errors import InputError
from recommenders_kit.models.lightgbm.sql import ClickSQL
from recommenders_kit.serving import spark_click
from recommenders_kit.serving.launch import SPARK_MODES
from recommenders_kit.serving.scorers import NOT_A_POST, ClickScorer, load_scorer, respond

if TYPE_CHECKING:
    from pyspark.sql import Column, DataFrame, SparkSession
    from pyspark.sql.streaming import StreamingQuery
    from pyspark.sql.types import DataType

#: The path requests go to (``POST /score``), as on the Azure ML service.
API = "score"
#: Epoch length of the continuous mode, in milliseconds, for a top-k bundle (its Python UDF
#: answers at the end of each epoch) and for a click model (answered as requests arrive; the
#: end of an epoch holds the answers up for ~0.4 s, measured, so its epochs are long).
EPOCH_MS, CLICK_EPOCH_MS = 1000, 300_000
#: Seconds between two checks for a stop signal while :func:`run` serves.
STOP_CHECK_S = 1
#: Seconds a client has to send its whole request before its connection is closed.
REQUEST_READ_TIMEOUT_S = 5
_JAVA_OPTIONS = (
    # without it, every answer waited ~40 ms for the client's delayed ACK (Nagle's algorithm)
    "-Dsun.net.httpserver.nodelay=true"
    # SynapseML's servers read request bodies one at a time: bound a stalled client
    f" -Dsun.net.httpserver.maxReqTime={REQUEST_READ_TIMEOUT_S}"
)
#: Spark settings of the serving session: one partition per batch of requests (more only add
#: tasks for a handful of rows), and the JDK HTTP server's settings above.
SESSION_CONFIG = {
    "spark.sql.shuffle.partitions": "1",
    "spark.default.parallelism": "1",
    "spark.driver.extraJavaOptions": _JAVA_OPTIONS,
    "spark.executor.extraJavaOptions": _JAVA_OPTIONS,
}
log = logging.getLogger(__name__)

_ANSWER_TYPE = "status int, reason string, body string"
_scorers: dict[str, Any] = {}


def answer_rows(model_dir: str, methods: pd.Series, bodies: pd.Series) -> pd.DataFrame:
    """``(status, reason, body)`` rows for request methods and raw bodies; the scorer of
    ``model_dir`` is loaded once per Python worker."""
    if model_dir not in _scorers:
        _scorers[model_dir] = load_scorer(model_dir)
    scorer = _scorers[model_dir]
    rows = []
    for method, raw in zip(methods, bodies, strict=True):
        if method == "GET":
            status, body = 200, {"status": "Healthy", "model_version": scorer.model_version}
        elif method != "POST":
            status, body = 405, NOT_A_POST
        else:
            status, body = respond(scorer, raw if raw is not None else b"")
        rows.append((status, http.HTTPStatus(status).phrase, json.dumps(body)))
    return pd.DataFrame(rows, columns=["status", "reason", "body"])


def _answer(model_dir: str, method: Column, content: Column) -> Column:
    from pyspark.sql import functions as F

    @F.pandas_udf(_ANSWER_TYPE)  # type: ignore[call-overload]
    def answer(methods: pd.Series, bodies: pd.Series) -> pd.DataFrame:
        return answer_rows(model_dir, methods, bodies)

    return answer(method, content)


def _reason(status: Column) -> Column:
    """The reason phrase of each status the service answers."""
    from pyspark.sql import functions as F

    phrases = {s: http.HTTPStatus(s).phrase for s in (200, 400, 405, 413, 422, 500)}
    return F.create_map(*[F.lit(x) for kv in phrases.items() for x in kv])[status]


def _reply(answer: Column, response_type: DataType) -> Column:
    """SynapseML's HTTP response struct (``HTTPResponseData``, ``response_type``) for an answer
    column: built field by field, then cast to the sink's exact type (nullability included:
    the sink refuses anything else)."""
    from pyspark.sql import functions as F

    def header(name: str, value: Any) -> Column:
        return F.struct(F.lit(name).alias("name"), F.lit(value).cast("string").alias("value"))

    content = F.encode(answer["body"], "UTF-8")
    return F.struct(
        F.array().cast("array<struct<name:string,value:string>>").alias("headers"),
        F.struct(
            content.alias("content"),
            F.lit(None).cast("struct<name:string,value:string>").alias("contentEncoding"),
            F.length(content).cast("long").alias("contentLength"),
            header("Content-Type", "application/json").alias("contentType"),
            F.lit(False).alias("isChunked"),
            F.lit(False).alias("isRepeatable"),
            F.lit(False).alias("isStreaming"),
        ).alias("entity"),
        F.struct(
            F.struct(
                F.lit("HTTP").alias("protocol"),
                F.lit(1).alias("major"),
                F.lit(1).alias("minor"),
            ).alias("protocolVersion"),
            F.coalesce(answer["status"], F.lit(500)).alias("statusCode"),
            answer["reason"].alias("reasonPhrase"),
        ).alias("statusLine"),
        F.lit(None).cast("string").alias("locale"),
    ).cast(response_type)


def _response_type(requests: DataFrame) -> DataType:
    """The type SynapseML's sink expects in the reply column, as its own ``makeReply`` builds
    (quietly: it wraps its result the way pyspark 3 deprecated, which warns twice)."""
    from pyspark.sql import functions as F

    with_text: Any = requests.withColumn("_", F.lit(""))  # makeReply: added by synapse.ml.io
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "Deprecated in 3.0.0", FutureWarning, "pyspark")
        warnings.filterwarnings(
            "ignore", "DataFrame constructor is internal", UserWarning, "pyspark"
        )
        return with_text.makeReply("_").schema["reply"].dataType


def _formats(mode: str) -> tuple[str, str]:
    """SynapseML's streaming source and sink of a mode (what its ``distributedServer()`` /
    ``continuousServer()`` helpers name)."""
    from synapse.ml.io import IOImplicits  # importing it also adds makeReply

    if mode == "micro-batch":
        return IOImplicits.distributed_serving_source, IOImplicits.distributed_serving_sink
    return IOImplicits.continuous_serving_source, IOImplicits.continuous_serving_sink


def start(
    spark: SparkSession,
    model_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8898,
    mode: str = "micro-batch",
    checkpoint: str | Path | None = None,
) -> StreamingQuery:
    """Start serving ``model_dir`` (a click model or top-k bundle folder, as for the Azure ML
    service) on ``http://host:port/score``; returns the running streaming query.

    ``checkpoint``: the query's checkpoint folder (required: :func:`run` makes a temporary one).
    The model is loaded once before the stream starts, so a bad folder fails here.
    """
    from pyspark.sql import functions as F

    require_choice(mode, SPARK_MODES, "mode")
    if checkpoint is None:
        raise InputError("checkpoint: give a folder for the query's checkpoint")
    folder = str(Path(model_dir).resolve())
    scorer = load_scorer(folder)  # fail now, in the caller's process, on a bad folder
    jvm = isinstance(scorer, ClickScorer)
    if mode == "auto":
        mode = "continuous" if jvm else "micro-batch"
    source, sink = _formats(mode)
    reader = spark.readStream.format(source).option("host", host).option("port", port)
    if mode == "continuous":
        reader = reader.option("numPartitions", 1)
    requests = reader.option("path", API).option("name", API).load()
    if jvm:
        sql = ClickSQL(cast(ClickScorer, scorer).model, spark)
        answered = spark_click.answers(requests, sql, scorer.model_version)
        answer = F.struct("status", _reason(F.col("status")).alias("reason"), "body")
        replies = answered.select("id", _reply(answer, _response_type(requests)).alias("reply"))
    else:
        answer = _answer(
            folder, requests["request.requestLine.method"], requests["request.entity.content"]
        )
        replies = requests.select("id", _reply(answer, _response_type(requests)).alias("reply"))
    writer = replies.writeStream.format(sink).option("name", API).queryName(API)
    writer = writer.option("checkpointLocation", str(checkpoint))
    if mode == "micro-batch":
        return writer.trigger(processingTime="0 seconds").start()
    return writer.trigger(continuous=f"{CLICK_EPOCH_MS if jvm else EPOCH_MS} milliseconds").start()


def run(
    model_dir: str | Path,
    host: str = "127.0.0.1",
    port: int = 8898,
    mode: str = "micro-batch",
    checkpoint: str | Path | None = None,
) -> None:
    """Start a Spark session and serve ``model_dir`` until the process is stopped (SIGTERM or
    Ctrl-C): then the query and the session stop, the port is released and a temporary
    checkpoint folder (``checkpoint=None``) is removed. A signal while the service starts
    stops it once its Spark session is up; the previous signal handlers are back when this
    returns."""
    from recommenders_kit.spark import SYNAPSEML_PACKAGE, start_or_get_spark

    spark: SparkSession | None = None
    query: StreamingQuery | None = None
    stopping = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        # Raised only while the query is built (a large model takes a while). Interrupted,
        # pyspark's launch leaves its JVM running; and raised inside a call into the JVM while
        # serving, KeyboardInterrupt left py4j's connection half-read (two ERROR tracebacks).
        stopping.set()
        if spark is not None and query is None:
            raise KeyboardInterrupt(f"signal {signum}")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        spark = start_or_get_spark(
            "recommenders_kit-serving",
            memory="2g",
            config=SESSION_CONFIG,
            packages=[SYNAPSEML_PACKAGE],
        )
        # again: the SparkContext set a SIGINT handler of its own, which cancels the jobs
        # through py4j and fails inside another call into the JVM (tracebacks, exit 1)
        signal.signal(signal.SIGINT, on_signal)
        if stopping.is_set():  # a signal came while the session started
            return
        with _checkpoint_folder(checkpoint) as folder:
            query = start(spark, model_dir, host=host, port=port, mode=mode, checkpoint=folder)
            log.info("Spark Serving (%s) on http://%s:%d/%s", mode, host, port, API)
            try:  # short waits: a signal is noticed within one
                while not stopping.is_set() and not query.awaitTermination(STOP_CHECK_S):
                    pass
            finally:
                query.stop()
    except KeyboardInterrupt:
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if spark is not None:
            spark.stop()


@contextlib.contextmanager
def _checkpoint_folder(checkpoint: str | Path | None) -> Iterator[str]:
    if checkpoint is not None:
        yield str(checkpoint)
        return
    folder = tempfile.mkdtemp(prefix="recommenders_kit-serving-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)
