"""The data-preparation notebook: the three splitters on real MovieLens 100k, pandas and
Spark, with the properties the notebook shows."""

from __future__ import annotations

import pytest

from tests.notebooks.conftest import run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.spark, pytest.mark.slow]


def test_the_splits_do_what_the_notebook_says(offline_cache, tmp_path):
    record = run_notebook(
        "01_prepare_data/data_split.ipynb", tmp_path, MOVIELENS_SIZE="100k", SPARK_MASTER="local[2]"
    )
    assert record["rows"] == 100_000
    assert record["test_rows"]["random"] == 25_000
    # per user, within one rating of 25%: the same counts on both engines
    for name in ("chronological", "stratified"):
        assert record["test_rows"][name] == record["spark_test_rows"][name]
        assert 24_000 < record["test_rows"][name] < 25_500
    low, high = record["stratified_share_range"]
    assert 0.2 <= low <= 0.25 <= high <= 0.3
    assert record["chronological_no_leak"] is True
    assert abs(record["spark_test_rows"]["random"] - 25_000) < 500  # Spark's split is approximate
