"""One place to get a SparkSession: local by default, any cluster by configuration.

On Databricks (or anywhere a session already runs) :func:`start_or_get_spark` returns the
running session untouched, so notebooks and jobs run unchanged on a cluster. Locally it starts
``local[*]`` with defaults sized for one machine.

Environment:
    ``SPARK_MASTER``: master URL used when ``master`` is not given.
    ``RECOMMENDERS_KIT_SPARK_UI=0``: turn the Spark UI off (the tests do).
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import weakref
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

from recommenders_kit.errors import SetupError
from recommenders_kit.settings import SPARK_MASTER_ENV, SPARK_UI_ENV, env_flag, env_value

if TYPE_CHECKING:
    import pandas as pd
    from pyspark.sql import DataFrame as SparkDataFrame
    from pyspark.sql import SparkSession

log = logging.getLogger(__name__)

#: Maven coordinates (on Maven Central) of SynapseML's LightGBM module for Spark 3.5 /
#: Scala 2.12, which is all ``models.lightgbm.spark`` needs. The full bundle,
#: ``com.microsoft.azure:synapseml_2.12:1.1.0``, works as well (Databricks: Libraries > Maven).
SYNAPSEML_PACKAGE = "com.microsoft.azure:synapseml-lightgbm_2.12:1.1.0"

#: Rows of local data in a query plan from which :func:`detach_local_rows` re-roots a frame.
LOCAL_ROWS_LIMIT = 10_000


def _local_cores(master: str) -> int:
    """The worker threads of a ``local``, ``local[n]``, ``local[*]`` or ``local[n, f]``
    master."""
    if master == "local":
        return 1
    match = re.fullmatch(r"local\[(\d+|\*)(?:,\s*\d+)?\]", master)
    if match and match.group(1) != "*":
        return int(match.group(1))
    return os.cpu_count() or 1


def start_or_get_spark(
    app_name: str = "recommenders_kit",
    master: str | None = None,
    memory: str = "4g",
    config: Mapping[str, str] | None = None,
    packages: Sequence[str] | None = None,
) -> SparkSession:
    """Return the active SparkSession, or start one.

    Args:
        app_name: application name shown in the Spark UI and logs.
        master: master URL; defaults to ``$SPARK_MASTER``, else ``local[*]``. When a session
            is already running (Databricks, spark-submit, an earlier call) and no master is
            given, that session is returned as it is.
        memory: driver memory for a session started here (e.g. ``"8g"``).
        config: extra Spark settings, applied last (they win over the defaults below).
        packages: Maven coordinates to put on the classpath (``spark.jars.packages``), e.g.
            ``[SYNAPSEML_PACKAGE]``; they are resolved from Maven Central into the Ivy cache.

    Local defaults: shuffle partitions = 2 x cores (Spark's default of 200 is far too many on
    one machine), Arrow transfers on, driver bound to 127.0.0.1, Python workers using this
    interpreter.

    Example::

        from recommenders_kit.spark import start_or_get_spark
        spark = start_or_get_spark(master="local[2]")
    """
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None and master is None:
        _warn_missing_packages(active, packages)
        return active

    master = master or env_value(SPARK_MASTER_ENV) or "local[*]"
    settings: dict[str, str] = {
        "spark.driver.memory": memory,
        "spark.sql.execution.arrow.pyspark.enabled": "true",
        "spark.sql.session.timeZone": "UTC",
    }
    if master.startswith("local"):
        settings.update(
            {
                "spark.sql.shuffle.partitions": str(2 * _local_cores(master)),
                "spark.default.parallelism": str(2 * _local_cores(master)),
                "spark.driver.host": "127.0.0.1",
                "spark.driver.bindAddress": "127.0.0.1",
                # local tasks run in the driver JVM: iterative jobs (ALS) need deep stacks
                "spark.driver.extraJavaOptions": "-Xss16m",
            }
        )
        os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
        os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    if not env_flag(SPARK_UI_ENV, default=True):
        settings["spark.ui.enabled"] = "false"
    if packages:
        settings["spark.jars.packages"] = ",".join(packages)
    settings.update(dict(config or {}))

    builder = SparkSession.builder.appName(app_name).master(master)
    for key, value in settings.items():
        builder = builder.config(key, value)
    spark = builder.getOrCreate()
    _warn_missing_packages(spark, packages)
    return spark


def _warn_missing_packages(spark: SparkSession, packages: Sequence[str] | None) -> None:
    if not packages:
        return
    loaded = spark.conf.get("spark.jars.packages", "") or ""
    missing = [p for p in packages if p not in loaded]
    if missing:
        log.warning(
            "the running Spark session was started without %s; install them on the cluster "
            "(Databricks: Libraries > Maven) or restart the session",
            missing,
        )


def active_spark() -> SparkSession:
    """The active Spark session; :class:`~recommenders_kit.errors.SetupError` if none."""
    from pyspark.sql import SparkSession

    spark = SparkSession.getActiveSession()
    if spark is None:
        raise SetupError("no active Spark session: start one with start_or_get_spark()")
    return spark


def small_to_pandas(frame: SparkDataFrame) -> pd.DataFrame:
    """A small Spark frame (a model's aggregates: one row per item or item pair, never the
    interactions) as pandas on the driver."""
    return cast("pd.DataFrame", frame.toPandas())


def is_local(spark: SparkSession) -> bool:
    """Whether the session runs on this machine only (driver and executors share a disk)."""
    return (spark.sparkContext.master or "").startswith("local")


def _driver_jvm(spark: SparkSession) -> tuple[Any, Any]:
    """(py4j JVM view, JavaSparkContext) of a running session's driver."""
    context = spark.sparkContext
    jvm, jsc = context._jvm, context._jsc
    if jvm is None or jsc is None:
        raise SetupError("the Spark session is stopped")
    return jvm, jsc


def hadoop_path(spark: SparkSession, uri: str) -> tuple[Any, Any]:
    """(Hadoop FileSystem, Hadoop Path) of ``uri`` through the session's configuration: any
    scheme the cluster knows (``dbfs:``, ``abfss:``, ``hdfs:``, ``s3a:``, ``file:``)."""
    jvm, jsc = _driver_jvm(spark)
    path = jvm.org.apache.hadoop.fs.Path(uri)
    return path.getFileSystem(jsc.hadoopConfiguration()), path


def driver_temp_dir(spark: SparkSession, prefix: str) -> str:
    """A new folder ``<prefix>-<uuid>`` in the driver's local directory that the driver JVM
    deletes when it exits (Spark's shutdown hook): however the Python process ends, a killed
    notebook kernel included (its JVM then sees its input close and exits)."""
    jvm, jsc = _driver_jvm(spark)
    utils = jvm.org.apache.spark.util.Utils
    return str(utils.createTempDir(utils.getLocalDir(jsc.sc().conf()), prefix).getPath())


def detach_local_rows(frame: SparkDataFrame, min_rows: int = LOCAL_ROWS_LIMIT) -> SparkDataFrame:
    """``frame``, or the same rows (same partitions, same order) re-rooted on an RDD when its
    query plan holds ``min_rows`` or more rows of local data.

    ``spark.createDataFrame(pandas_df)`` (or a list) puts the rows into the query plan itself
    (a ``LocalRelation``). Spark then compares and hashes those rows whenever it plans a query
    over the frame (its cache lookup among others), which at a million rows costs more than
    the query's own work (``benchmarks/evaluation.py``). Re-rooted, the plan is small, and the
    rows pass once more through the executors (from the cache when the frame is cached).
    Frames read from files and streaming frames are returned as they are. The re-rooted frame
    is remembered for as long as ``frame`` lives: passing the same frame again returns the same
    re-rooted one, without planning over the local rows again (that planning is what a first
    metric call of a session paid for, ``benchmarks/evaluation.py``).

    Example::

        truth = detach_local_rows(spark.createDataFrame(test_pdf))
    """
    from pyspark.sql import DataFrame

    with _detached_lock:
        known = _detached.get(frame)
        if known is not None:
            return known
        if frame.isStreaming or _local_rows(frame) < min_rows:
            return frame
        session = frame.sparkSession
        jframe = session._jsparkSession.createDataFrame(frame._jdf.toJavaRDD(), frame._jdf.schema())
        rerooted = DataFrame(jframe, session)
        _detached[frame] = rerooted
        return rerooted


#: re-rooted frames by the frame they came from (weak keys: an entry lives as long as its frame)
_detached: weakref.WeakKeyDictionary[SparkDataFrame, SparkDataFrame] = weakref.WeakKeyDictionary()
_detached_lock = threading.Lock()


def source_files(frame: SparkDataFrame) -> tuple[str, ...] | None:
    """The files ``frame`` reads, as Spark lists them now (Spark refreshes the listing when it
    writes to them), or None when its data could change unseen: a leaf of its plan that is
    neither rows held by Spark (local data, an RDD, a range) nor files (a JDBC source, a
    streaming or V2 table). A result computed from ``frame`` may be reused while this stays
    the same and not None.

    Example::

        source_files(spark.read.parquet("ratings.parquet"))
        # ('file:///data/ratings.parquet/part-00000-....parquet',)
    """
    files: list[str] = []
    for leaf in _leaves(frame):
        name = leaf.nodeName()
        if name == "LogicalRelation" and leaf.relation().getClass().getSimpleName() == (
            "HadoopFsRelation"
        ):
            files += list(leaf.relation().location().inputFiles())
        elif name not in _FIXED_LEAVES:
            return None
    return tuple(files)


#: plan leaves whose rows cannot change under a frame
_FIXED_LEAVES = frozenset({"LocalRelation", "LogicalRDD", "Range", "OneRowRelation"})


def _local_rows(frame: SparkDataFrame) -> int:
    """Rows held by the ``LocalRelation`` leaves of ``frame``'s analysed plan."""
    return sum(leaf.data().size() for leaf in _leaves(frame) if leaf.nodeName() == "LocalRelation")


def _leaves(frame: SparkDataFrame) -> list[Any]:
    """The leaves of ``frame``'s analysed plan (JVM plan nodes)."""
    leaves = frame._jdf.queryExecution().analyzed().collectLeaves()
    return [leaves.apply(i) for i in range(leaves.size())]
