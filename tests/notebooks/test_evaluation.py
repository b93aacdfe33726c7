"""The evaluation notebook: the hand-worked example (checked in the notebook itself against
the numbers in its table), real lists, beyond-accuracy metrics, pandas equal to Spark."""

from __future__ import annotations

import math

import pytest

from tests.notebooks.conftest import run_notebook

pytestmark = [pytest.mark.notebooks, pytest.mark.spark, pytest.mark.slow]


def test_every_metric_as_the_notebook_explains_it(offline_cache, tmp_path):
    record = run_notebook(
        "03_evaluate/evaluation.ipynb", tmp_path, MOVIELENS_SIZE="100k", SPARK_MASTER="local[2]"
    )
    hand = record["hand_worked"]
    log2 = math.log2
    assert hand["precision_at_k"] == pytest.approx(0.5)
    assert hand["ndcg_at_k"] == pytest.approx(
        ((1 + 1 / log2(4)) / (1 + 1 / log2(3) + 1 / log2(4)) + 1 / log2(3)) / 2
    )
    assert hand["mrr_at_k"] == pytest.approx(0.75)
    m = record["metrics"]
    assert m["precision_at_k"] >= 0.40  # the one-machine ALS, stratified split
    assert m["map"] < m["map_at_k"]
    assert record["largest_engine_difference"] < 1e-9
    beyond = record["beyond"]
    assert beyond["ALS"]["catalog_coverage"] > 5 * beyond["most popular"]["catalog_coverage"]
    assert beyond["ALS"]["precision_at_k"] > beyond["most popular"]["precision_at_k"]
