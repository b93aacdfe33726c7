"""start_or_get_spark on a real local session, and staging cached files for executors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from recommenders_kit.datasets._spark_io import spark_readable_path
from recommenders_kit.spark import (
    _local_cores,
    _local_rows,
    detach_local_rows,
    is_local,
    source_files,
    start_or_get_spark,
)

pytestmark = pytest.mark.spark


def test_local_defaults(spark):
    conf = spark.sparkContext.getConf()
    assert spark.sparkContext.master == "local[2]"
    assert spark.conf.get("spark.sql.shuffle.partitions") == "4"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.driver.host") == "127.0.0.1"
    assert is_local(spark)


def test_returns_the_running_session(spark):
    assert start_or_get_spark() is spark


def test_local_cores_parsing():
    assert _local_cores("local") == 1
    assert _local_cores("local[3]") == 3
    assert _local_cores("local[5, 2]") == 5
    assert _local_cores("local[*]") >= 1


def test_running_session_without_requested_packages_warns(spark, caplog):
    start_or_get_spark(packages=["com.example:not-loaded:1.0"])
    assert "com.example:not-loaded:1.0" in caplog.text


def test_local_file_is_read_in_place(spark, tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("1,2\n")
    assert spark_readable_path(spark, path) == path.resolve().as_uri()


def test_file_is_staged_to_a_shared_directory_through_hadoop(spark, tmp_path):
    src = tmp_path / "ml-x" / "ratings.csv"
    src.parent.mkdir()
    src.write_text("1,2\n3,4\n")
    shared = (tmp_path / "shared").as_uri()
    uri = spark_readable_path(spark, src, shared)
    assert uri.endswith("shared/ml-x/ratings.csv")
    assert (tmp_path / "shared" / "ml-x" / "ratings.csv").read_text() == "1,2\n3,4\n"
    assert spark.read.csv(uri).count() == 2
    assert spark_readable_path(spark, src, shared) == uri  # second call: no copy needed


def test_local_rows_are_detached_in_order(spark):
    pdf = pd.DataFrame({"a": np.arange(12_000), "b": np.arange(12_000) % 7 / 3})
    frame = spark.createDataFrame(pdf).repartition(3)
    detached = detach_local_rows(frame)
    assert detached is not frame
    assert _local_rows(frame) == 12_000
    assert _local_rows(detached) == 0
    assert detached.rdd.getNumPartitions() == 3
    ids = F.monotonically_increasing_id()
    got = detached.withColumn("o", ids).toPandas()
    want = frame.withColumn("o", ids).toPandas()
    pd.testing.assert_frame_equal(got, want)  # same rows, same partitions and order
    assert detach_local_rows(frame) is detached  # remembered while the frame lives


def test_small_and_file_frames_stay_as_they_are(spark, tmp_path):
    small = spark.createDataFrame(pd.DataFrame({"a": range(100)}))
    assert detach_local_rows(small) is small
    assert detach_local_rows(small, min_rows=50) is not small
    path = str(tmp_path / "rows.parquet")
    pd.DataFrame({"a": np.arange(20_000)}).to_parquet(path)
    from_file = spark.read.parquet(path)
    assert detach_local_rows(from_file) is from_file


def test_source_files_tell_what_a_frame_reads(spark, tmp_path):
    """Rows Spark holds: no files; parquet: its files, a new listing after Spark rewrites them;
    a source whose data Spark cannot list (here parquet read as a V2 table): None."""
    assert source_files(spark.createDataFrame(pd.DataFrame({"a": range(5)}))) == ()
    assert source_files(spark.range(3).select("id")) == ()
    path = tmp_path / "rows.parquet"
    spark.range(10).write.parquet(str(path))
    frame = spark.read.parquet(str(path)).cache()
    before = source_files(frame.where("id > 2"))
    assert before
    assert all(f.endswith(".parquet") and "rows.parquet" in f for f in before)
    assert {Path(f.removeprefix("file:")).name for f in before} == {
        p.name for p in path.glob("part-*.parquet")
    }
    spark.range(20).write.mode("overwrite").parquet(str(path))
    assert source_files(frame) not in (before, None)
    previous = spark.conf.get("spark.sql.sources.useV1SourceList")
    spark.conf.set("spark.sql.sources.useV1SourceList", "")
    try:
        assert source_files(spark.read.parquet(str(path))) is None
    finally:
        spark.conf.set("spark.sql.sources.useV1SourceList", previous)
