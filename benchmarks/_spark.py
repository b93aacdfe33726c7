"""Spark sessions for the benchmarks: local[2], then the loopback standalone cluster.

One SparkContext per process: the local session is stopped before the cluster's starts. Both
get the same driver settings (the first one launches the driver JVM), the SynapseML jars and
few shuffle partitions (2 cores either way).
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def session(master: str, memory: str = "6g") -> Iterator[Any]:
    """A session on ``local[2]`` or on a fresh loopback cluster of two 1-core workers; stopped
    (with its cluster and its checkpoint folder) on exit."""
    from recommenders_kit.spark import SYNAPSEML_PACKAGE, start_or_get_spark
    from tests.support.spark_cluster import cluster_session, standalone_cluster

    with contextlib.ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        if master == "cluster":
            cluster = stack.enter_context(standalone_cluster(tmp, workers=2, memory="4g"))
            spark = cluster_session(cluster, "bench-cluster", **{"spark.executor.memory": "3g"})
        else:
            spark = start_or_get_spark(
                "bench",
                master=master,
                memory=memory,
                packages=[SYNAPSEML_PACKAGE],
                config={"spark.driver.extraJavaOptions": "-Xss16m"},
            )
        spark.sparkContext.setLogLevel("ERROR")
        spark.sparkContext.setCheckpointDir((tmp / "checkpoints").as_uri())
        try:
            yield spark
        finally:
            spark.stop()


def parquet_frame(spark: Any, frame: Any, folder: Path, name: str) -> Any:
    """``frame`` written as parquet and read back by Spark (how a job's input arrives), cached."""
    path = folder / f"{name}.parquet"
    if not path.exists():
        frame.to_parquet(path, index=False)
    data = spark.read.parquet(str(path)).cache()
    data.count()
    return data
