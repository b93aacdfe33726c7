"""The named sweep problems refuse a bad name before loading any data or starting Spark."""

from __future__ import annotations

import pytest

from recommenders_kit.tuning.problems import criteo_lightgbm, movielens


def test_an_unknown_recommender_is_named_before_any_download(tmp_path, monkeypatch):
    monkeypatch.setenv("RECOMMENDERS_KIT_CACHE", str(tmp_path))  # empty: a load would fail
    monkeypatch.setenv("RECOMMENDERS_KIT_OFFLINE", "1")
    with pytest.raises(ValueError, match="model must be one of .*'ease'.*got 'bpr'"):
        movielens("100k", model="bpr", engine="pandas")
    assert list(tmp_path.iterdir()) == []


def test_unknown_criteo_data_is_named():
    with pytest.raises(ValueError, match="data must be one of"):
        criteo_lightgbm("everything")
