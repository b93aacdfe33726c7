"""The generated Criteo rows: reproducible, the planted model's base rate and ceiling, and
the parquet writer's files (one planted model for all, complete files only)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets.criteo import DEFAULT_HEADER
from recommenders_kit.datasets.criteo_synthetic import PROBABILITY_COL, generate, write_parquet
from recommenders_kit.evaluation.pandas.classification import roc_auc


def test_generate_is_reproducible_and_calibrated():
    frame, p = generate(20_000, seed=3)
    again, p_again = generate(20_000, seed=3)
    pd.testing.assert_frame_equal(frame, again)
    np.testing.assert_array_equal(p, p_again)
    assert list(frame.columns) == list(DEFAULT_HEADER)
    assert abs(p.mean() - 0.25) < 1e-6  # the intercept is calibrated on these rows
    assert abs(frame["label"].mean() - 0.25) < 0.015
    assert 0.7 < roc_auc(frame["label"].to_numpy().astype(bool), p) < 0.9
    assert not generate(20_000, seed=4)[0].equals(frame)


def test_write_parquet_files(tmp_path):
    files = write_parquet(tmp_path / "a", 25_000, rows_per_file=10_000, seed=1, progress=False)
    assert [f.rsplit("/", 1)[1] for f in files] == [f"part-0000{i}.parquet" for i in range(3)]
    frames = [pd.read_parquet(f) for f in files]
    assert [len(f) for f in frames] == [10_000, 10_000, 5_000]
    assert all(list(f.columns) == [*DEFAULT_HEADER, PROBABILITY_COL] for f in frames)
    assert isinstance(frames[0]["cat05"].dtype, pd.CategoricalDtype)
    assert not list((tmp_path / "a").glob(".*"))  # no temporary file left behind
    # the same arguments write the same rows; the files differ from one another
    again = write_parquet(tmp_path / "b", 25_000, rows_per_file=10_000, seed=1, progress=False)
    for f, g in zip(files, again, strict=True):
        pd.testing.assert_frame_equal(pd.read_parquet(f), pd.read_parquet(g))
    assert not frames[0]["int00"].equals(frames[1]["int00"])
    # one planted model for every file: a value's effect on the logit is the same in each
    rows = pd.concat(frames)
    logit = np.log(rows[PROBABILITY_COL] / (1 - rows[PROBABILITY_COL]))
    by_file = [
        logit[i * 10_000 : (i + 1) * 10_000].groupby(f["cat08"].to_numpy()).mean()
        for i, f in enumerate(frames[:2])
    ]
    assert np.corrcoef(by_file[0], by_file[1])[0, 1] > 0.95
    assert abs(rows[PROBABILITY_COL].mean() - 0.25) < 0.01
    assert abs(rows["label"].mean() - 0.25) < 0.015
    labels = rows["label"].to_numpy().astype(bool)
    assert 0.7 < roc_auc(labels, rows[PROBABILITY_COL].to_numpy()) < 0.9


def test_write_parquet_failure_leaves_only_complete_files(tmp_path, monkeypatch):
    write = pd.DataFrame.to_parquet
    calls = []

    def disk_full_on_second_file(frame, path, **kwargs):
        calls.append(path)
        if len(calls) == 1:
            return write(frame, path, **kwargs)
        Path(path).write_bytes(b"PAR1 half a file")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", disk_full_on_second_file)
    with pytest.raises(OSError, match="No space left"):
        write_parquet(tmp_path, 3_000, rows_per_file=1_000, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["part-00000.parquet"]
    assert len(pd.read_parquet(tmp_path / "part-00000.parquet")) == 1_000


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="n_rows must be >= 1"):
        generate(0)
    with pytest.raises(ValueError, match="base_rate"):
        generate(10, base_rate=1.0)
    with pytest.raises(ValueError, match="rows_per_file must be >= 1"):
        write_parquet(tmp_path, 10, rows_per_file=0)
    assert not list(tmp_path.iterdir())
