"""Spark loaders read the cached files with a schema and agree with the pandas loaders."""

from __future__ import annotations

import pandas as pd
import pytest

from recommenders_kit.datasets import criteo, movielens
from tests.support.data import read_shared

pytestmark = pytest.mark.spark


def test_movielens_100k_spark_equals_pandas(spark, ml100k):
    sdf = movielens.load_spark_df(spark, "100k")
    assert [f.dataType.simpleString() for f in sdf.schema.fields] == [
        "int",
        "int",
        "float",
        "bigint",
    ]
    assert sdf.count() == 100_000
    got = sdf.toPandas().sort_values(["userID", "itemID"]).reset_index(drop=True)
    want = ml100k.sort_values(["userID", "itemID"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def test_movielens_spark_with_titles_and_custom_schema(spark):
    from pyspark.sql import types as T

    schema = T.StructType([T.StructField(n, T.LongType()) for n in ["u", "i", "r", "t"]])
    sdf = movielens.load_spark_df(spark, "1m", schema=schema, col_title="title", col_year="y")
    row = sdf.filter("u = 1 and i = 1193").first()
    assert row["r"] == 5
    assert row["title"].startswith("One Flew")
    assert row["y"] == 1975
    with pytest.raises(ValueError, match="schema must have 4 fields"):
        movielens.load_spark_df(spark, "100k", schema=T.StructType(schema.fields[:2]))


def test_movielens_csv_format_on_spark(spark):
    sdf = movielens.load_spark_df(spark, "20m")
    assert sdf.count() == 100_836
    assert sdf.agg({"rating": "min"}).first()[0] == 0.5


def test_criteo_spark_equals_pandas_including_short_rows(spark):
    sdf = criteo.load_spark_df(spark, "sample")
    got = sdf.toPandas()
    want = criteo.load_pandas_df("sample")
    assert got.shape == (1000, 40)
    assert got["label"].sum() == 205
    for col in want.columns:
        left = [None if pd.isna(v) else v for v in want[col].tolist()]
        right = [None if pd.isna(v) else v for v in got[col].tolist()]
        assert right == left, col


def test_criteo_spark_rejects_rows_with_too_many_fields(spark, tmp_path):
    lines = read_shared("criteo/train_head.txt").decode().split("\n")[:5]
    lines[2] = lines[2] + "\t" * (40 - lines[2].count("\t")) + "extra"
    path = tmp_path / "bad.txt"
    path.write_text("\n".join(lines))
    with pytest.raises(Exception, match="bad.txt: expected 40 fields, found 41: 0\t2"):
        criteo.read_spark_file(spark, path.as_uri()).collect()


def test_criteo_spark_rejects_a_non_integer_and_a_bad_label(spark, tmp_path):
    lines = read_shared("criteo/train_head.txt").decode().split("\n")[:5]
    for fix, message in [
        ("0\tx", "field 'int00' is not a valid bigint"),
        ("7\t1", "field 'label' is not a valid int"),
    ]:
        bad = list(lines)
        bad[1] = fix + bad[1][bad[1].index("\t", 2) :]
        path = tmp_path / "bad.txt"
        path.write_text("\n".join(bad))
        with pytest.raises(Exception, match=message):
            criteo.read_spark_file(spark, path.as_uri()).collect()
