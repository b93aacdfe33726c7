"""Make a file in the local data cache readable by Spark executors (internal).

On a local session the executors share the driver's disk, so the cached file is read in
place. On a cluster the driver's disk is invisible to the executors: the file is copied once,
through Hadoop's FileSystem API (so any scheme the cluster knows works: ``dbfs:``,
``abfss:``, ``hdfs:``, ``s3a:``), to a shared directory.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from recommenders_kit.errors import InputError, StorageError
from recommenders_kit.settings import SPARK_DATA_ENV, env_value
from recommenders_kit.spark import hadoop_path, is_local

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def spark_readable_path(
    spark: SparkSession, local_path: Path, spark_data_path: str | None = None
) -> str:
    """A URI of ``local_path`` that every executor of ``spark`` can read."""
    shared = spark_data_path or env_value(SPARK_DATA_ENV)
    if not shared:
        if is_local(spark):
            return local_path.resolve().as_uri()
        raise InputError(
            f"spark_data_path is required on a cluster (master "
            f"{spark.sparkContext.master!r}): executors cannot read the driver's {local_path}. "
            f"Pass a shared directory such as 'dbfs:/tmp/recommenders_kit' or set "
            f"${SPARK_DATA_ENV}"
        )
    relative = f"{local_path.parent.name}/{local_path.name}"  # e.g. ml-20m/ratings.csv
    fs, target = hadoop_path(spark, shared.rstrip("/") + "/" + relative)
    size = local_path.stat().st_size
    if not (fs.exists(target) and fs.getFileStatus(target).getLen() == size):
        _, staging = hadoop_path(spark, target.toString() + f".{os.getpid()}.tmp")
        _, source = hadoop_path(spark, local_path.resolve().as_uri())
        fs.copyFromLocalFile(False, True, source, staging)
        fs.delete(target, False)
        if not fs.rename(staging, target):
            raise StorageError(f"could not move {staging} to {target}")
    return target.toString()
