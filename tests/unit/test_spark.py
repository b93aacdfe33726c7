"""start_or_get_spark on a real local session, and staging cached files for executors."""

from __future__ import annotations

import pytest

from recommenders_kit.datasets._spark_io import spark_readable_path
from recommenders_kit.spark import _local_cores, is_local, start_or_get_spark

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
