"""Out of core: the click model trained and scored from parquet files, a row group at a time,
equals the in-memory model on the same rows (encoder statistics, encoded values, trees,
probabilities), and bad files stop it with their name."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets.criteo_synthetic import PROBABILITY_COL, write_parquet
from recommenders_kit.datasets.parquet import ParquetRows
from recommenders_kit.models.lightgbm._encoder import encode_frame
from recommenders_kit.models.lightgbm.pandas import (
    FeatureEncoder,
    LightGBMClickModel,
    parquet_rows,
    training_folds,
)

# few bin-construction samples: LightGBM samples rows to find its bins, as it does on big data
PARAMS = {"min_data_in_leaf": 50, "num_leaves": 15, "bin_construct_sample_cnt": 3_000}


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """12,000 generated rows in 4 files; each file in row groups of 1,400 rows."""
    folder = tmp_path_factory.mktemp("criteo")
    for path in write_parquet(folder, 12_000, rows_per_file=3_000, seed=2, progress=False):
        pd.read_parquet(path).to_parquet(path, row_group_size=1_400, index=False)
    return folder


@pytest.fixture(scope="module")
def frame(files):
    """The same rows as one frame (categoricals as plain strings)."""
    rows = pd.concat([pd.read_parquet(f) for f in sorted(files.glob("*.parquet"))])
    cats = rows.select_dtypes("category").columns
    return rows.astype(dict.fromkeys(cats, object)).reset_index(drop=True)


def settings(**kw):
    return {"methods": ("ordinal", "count", "target"), "min_count": 3, **kw}


@pytest.mark.parametrize("kw", [{}, {"col_fold": "fold"}], ids=["drawn folds", "fold column"])
def test_streaming_encoder_fit_equals_the_in_memory_fit(files, frame, tmp_path, kw):
    if kw:  # a fold column, written into copies of the files
        for i, path in enumerate(sorted(files.glob("*.parquet"))):
            part = pd.read_parquet(path)
            part.assign(fold=np.arange(len(part)) % 5).to_parquet(tmp_path / f"p{i}.parquet")
        source, frame = tmp_path, frame.assign(fold=np.arange(len(frame)) % 3_000 % 5)
    else:
        source = files
    streamed = FeatureEncoder(**settings(**kw)).fit(source)
    whole = FeatureEncoder(**settings(**kw)).fit(frame)
    assert streamed.stats == whole.stats  # the prior and every column's statistics
    pd.testing.assert_frame_equal(streamed.transform(frame), whole.transform(frame))
    # the training rows' out-of-fold target features use the same folds, block by block
    rows = parquet_rows(streamed, source, streamed.training_columns)
    blocks = [
        encode_frame(streamed.stats, block, folds)
        for block, folds in zip(rows.blocks(), training_folds(streamed, rows), strict=True)
    ]
    pd.testing.assert_frame_equal(pd.concat(blocks), whole.fit_transform(frame))


def test_model_from_parquet_equals_the_in_memory_model(files, frame, tmp_path):
    def model():
        return LightGBMClickModel(
            FeatureEncoder(**settings()), params=PARAMS, num_boost_round=40, progress=False
        )

    whole, streamed = model().fit(frame), model().fit(files)
    assert streamed.encoder.stats == whole.encoder.stats
    assert streamed.model.dump_model()["tree_info"] == whole.model.dump_model()["tree_info"]
    assert streamed.meta == whole.meta
    p = whole.predict_proba(frame)
    np.testing.assert_array_equal(streamed.predict_proba(files), p)
    np.testing.assert_array_equal(streamed.predict_proba(sorted(files.glob("*.parquet"))), p)
    assert streamed.evaluate(files) == whole.evaluate(frame)
    # a row range as train and another as valid: what a held-out tail is
    rows = ParquetRows(files)
    ranged = model().fit(rows.slice(0, 9_000), valid=rows.slice(9_000, 12_000))
    assert ranged.meta == model().fit(frame.iloc[:9_000], frame.iloc[9_000:]).meta
    # the saved folder loads into a model that scores parquet the same
    loaded = LightGBMClickModel.load(streamed.save(tmp_path / "m"))
    np.testing.assert_array_equal(loaded.predict_proba(files), p)
    # the true probabilities ride along in the files without disturbing the reader
    assert PROBABILITY_COL not in streamed.encoder.feature_names


def test_a_bad_chunk_stops_the_run_with_its_name(files, tmp_path):
    for path in sorted(files.glob("*.parquet"))[:2]:
        (tmp_path / path.name).write_bytes(path.read_bytes())
    bad = pd.read_parquet(files / "part-00002.parquet")
    bad.assign(int03=bad["int03"].astype(str)).to_parquet(tmp_path / "part-00002.parquet")
    model = LightGBMClickModel(params=PARAMS, num_boost_round=5, progress=False)
    with pytest.raises(ValueError, match="part-00002.parquet: column 'int03' holds string"):
        model.fit(tmp_path)
    bad.assign(label=bad["label"] * 2).to_parquet(tmp_path / "part-00002.parquet")
    with pytest.raises(ValueError, match=r"part-00002.parquet, row group 0: label must hold"):
        model.fit(tmp_path)
    with pytest.raises(FileNotFoundError, match="missing.parquet: no such parquet file"):
        model.fit([tmp_path / "part-00000.parquet", tmp_path / "missing.parquet"])
    (tmp_path / "part-00002.parquet").write_bytes(b"PAR1 cut short")
    with pytest.raises(ValueError, match="part-00002.parquet: not a readable parquet file"):
        model.fit(tmp_path)
    assert model.model is None
