"""The pandas twins: feature encoders (hand-worked, out-of-fold brute force, JSON) and the
LightGBM model (real Criteo rows end to end, generated data near the ceiling)."""

from __future__ import annotations

import re
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets import criteo
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.evaluation.pandas import auc
from recommenders_kit.models.lightgbm.pandas import FeatureEncoder, LightGBMClickModel

# category c: a x3 (2 clicks), b x2 (1 click), z x1 (rare at min_count=2), one missing.
TRAIN = pd.DataFrame(
    {
        "c": ["a", "a", "a", "b", "b", "z", None],
        "n": pd.array([1, None, 3, 4, 5, 6, 7], dtype="Int64"),
        "label": [1, 0, 1, 1, 0, 0, 1],
        "fold": [0, 1, 0, 1, 0, 1, 0],
    }
)
NEW = pd.DataFrame({"c": ["b", "a", "unseen", None], "n": [1.5, None, 0, 2], "label": 0})
PRIOR = 4 / 7


def encoder(**kw):
    return FeatureEncoder(
        categorical_cols=["c"],
        numeric_cols=["n"],
        min_count=2,
        smoothing=1.0,
        n_folds=2,
        col_fold="fold",
        **kw,
    )


def test_hand_worked_ordinal_and_count():
    enc = encoder(methods=("ordinal", "count")).fit(TRAIN)
    out = enc.transform(NEW)
    assert list(out.columns) == ["n", "c", "c_count"]
    # a is most frequent -> 1, b -> 2, unseen -> 0, missing -> NaN (LightGBM's missing)
    assert out["c"].tolist()[:3] == [2, 1, 0]
    assert np.isnan(out["c"].iloc[3])
    assert out["c_count"].tolist()[:3] == [2.0, 3.0, 0.0]
    assert np.isnan(out["c_count"].iloc[3])
    assert out["n"].iloc[0] == 1.5
    assert np.isnan(out["n"].iloc[1])
    assert enc.transform(TRAIN)["c"].tolist()[:6] == [1, 1, 1, 2, 2, 0]  # z is rare -> 0


def test_hand_worked_target_encoding():
    enc = encoder(methods=("target",))
    train_out = enc.fit_transform(TRAIN)["c_te"].tolist()
    # out of fold, m = 1, prior 4/7:
    #   rows 0, 2 (a, fold 0): other fold's a = row 1 (0 clicks / 1) -> (0 + 4/7) / 2 = 2/7
    #   row 1 (a, fold 1): rows 0, 2 (2 / 2) -> (2 + 4/7) / 3 = 6/7
    #   row 3 (b, fold 1): row 4 (0 / 1) -> 2/7;  row 4 (b, fold 0): row 3 (1 / 1) -> 11/14
    #   z (rare) and missing -> prior
    assert train_out == pytest.approx([2 / 7, 6 / 7, 2 / 7, 2 / 7, 11 / 14, PRIOR, PRIOR])
    # other splits use all training rows: a (2+4/7)/(3+1) = 9/14, b (1+4/7)/(2+1) = 11/21
    assert enc.transform(NEW)["c_te"].tolist() == pytest.approx([11 / 21, 9 / 14, PRIOR, PRIOR])


def test_out_of_fold_matches_a_brute_force_loop():
    rng = np.random.default_rng(0)
    n = 400
    train = pd.DataFrame(
        {
            "c": rng.choice(list("abcdefgh"), n),
            "n": rng.random(n),
            "label": rng.integers(0, 2, n),
            "fold": rng.integers(0, 4, n),
        }
    )
    enc = FeatureEncoder(
        categorical_cols=["c"],
        numeric_cols=["n"],
        methods=("target",),
        min_count=1,
        n_folds=4,
        smoothing=5.0,
        col_fold="fold",
    )
    got = enc.fit_transform(train)["c_te"].to_numpy()
    prior = train["label"].mean()
    for i, row in train.iterrows():
        others = train[(train["c"] == row["c"]) & (train["fold"] != row["fold"])]
        assert got[i] == pytest.approx((others["label"].sum() + 5 * prior) / (len(others) + 5))


def test_own_label_never_reaches_own_feature_beyond_the_prior():
    enc = encoder(methods=("target",))
    flipped = TRAIN.assign(label=[0, 0, 1, 1, 0, 0, 1])  # row 0's label flipped
    a = enc.fit_transform(TRAIN)["c_te"].iloc[0]
    b = enc.fit_transform(flipped)["c_te"].iloc[0]
    # only the prior moves (4/7 -> 3/7): (0 + p) / 2 for both
    assert (a, b) == pytest.approx((PRIOR / 2, (3 / 7) / 2))


def test_json_round_trip_and_real_criteo_rows():
    rows = criteo.load_pandas_df("sample")
    enc = FeatureEncoder(methods=("ordinal", "count", "target"), min_count=3)
    train_x = enc.fit_transform(rows.iloc[:800])
    assert train_x.shape == (800, 13 + 3 * 26)
    back = FeatureEncoder.from_json(enc.to_json())
    pd.testing.assert_frame_equal(back.transform(rows.iloc[800:]), enc.transform(rows.iloc[800:]))
    assert back.categorical_features == criteo.CAT_COLS


def test_records_encode_exactly_as_frames():
    enc = encoder(methods=("ordinal", "count", "target")).fit(TRAIN)
    records = NEW.to_dict("records")  # NaN for the missing number and None for the category
    records[1]["n"] = None
    np.testing.assert_array_equal(enc.transform_records(records), enc.transform(NEW).to_numpy())
    rows = criteo.load_pandas_df("sample")  # nullable integers: pd.NA in the records
    enc = FeatureEncoder(methods=("ordinal", "count", "target"), min_count=3).fit(rows[:800])
    np.testing.assert_array_equal(
        enc.transform_records(rows[800:].to_dict("records")), enc.transform(rows[800:]).to_numpy()
    )
    enc = encoder().fit(TRAIN)
    with pytest.raises(ValueError, match=r"record 1 lacks column\(s\) \['c'\]"):
        enc.transform_records([{"c": "a", "n": 1}, {"n": 2}])


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (TRAIN.drop(columns="c"), r"missing column\(s\) \['c'\]"),
        (
            TRAIN.assign(n=pd.array([None] * 7, dtype="Int64")),
            r"column\(s\) \['n'\] are missing in every",
        ),
        (TRAIN.assign(label=[1, 0, 2, 1, 0, 0, 1]), "label must hold only 0 and 1"),
    ],
)
def test_bad_training_data(data, message):
    with pytest.raises(ValueError, match=message):
        encoder().fit(data)


def test_bad_arguments():
    with pytest.raises(ValueError, match="methods must be one of"):
        FeatureEncoder(methods=("onehot",))
    with pytest.raises(ValueError, match="n_folds must be >= 2"):
        FeatureEncoder(methods=("target",), n_folds=1)
    with pytest.raises(RuntimeError, match="not fitted"):
        encoder().transform(NEW)
    with pytest.raises(ValueError, match="fold must hold integers 0 .. 1"):
        encoder(methods=("target",)).fit_transform(TRAIN.assign(fold=5))


def test_real_rows_through_the_whole_pipeline(tmp_path):
    rows = criteo.load_pandas_df("sample")
    train, test = rows.iloc[:800], rows.iloc[800:]
    model = LightGBMClickModel(
        FeatureEncoder(methods=("ordinal", "count"), min_count=3),
        params={"min_data_in_leaf": 20, "num_leaves": 15},
        num_boost_round=200,
        progress=False,
    ).fit(train)
    scores = model.evaluate(test)
    assert 0.5 < scores["auc"] <= 1
    assert 0 < scores["logloss"] < 1
    p = model.predict_proba(test)
    assert p.shape == (200,)
    assert ((p > 0) & (p < 1)).all()
    folder = Path(model.save(tmp_path / "model"))
    assert {f.name for f in folder.iterdir()} == {"model.txt", "encoder.json", "meta.json"}
    np.testing.assert_allclose(LightGBMClickModel.load(folder).predict_proba(test), p, rtol=1e-12)
    # records (the scoring service's path) give the same probabilities as the frame
    np.testing.assert_array_equal(model.predict_proba(test.to_dict("records")), p)
    # the text model is plain LightGBM: no pickle, no library needed to read it
    booster = lgb.Booster(model_file=str(folder / "model.txt"))
    np.testing.assert_allclose(booster.predict(model.encoder.transform(test)), p, rtol=1e-12)
    assert set(model.feature_importance().index) == set(model.encoder.feature_names)


def test_generated_data_gets_close_to_the_ceiling():
    frame, prob = generate(40_000, seed=5)
    train, test = frame.iloc[:32_000], frame.iloc[32_000:]
    model = LightGBMClickModel(progress=False).fit(train)
    ceiling = auc(test.assign(prediction=prob[32_000:]))
    got = model.evaluate(test)["auc"]
    assert ceiling - 0.04 < got <= ceiling + 0.005
    assert model.meta.best_iteration < 1000  # early stopping stopped it


def test_errors(tmp_path):
    with pytest.raises(RuntimeError, match="not fitted"):
        LightGBMClickModel().predict_proba(criteo.load_pandas_df("sample"))
    with pytest.raises(ValueError, match="valid_fraction"):
        LightGBMClickModel(valid_fraction=1.5)
    with pytest.raises(FileNotFoundError, match="model.txt is missing"):
        LightGBMClickModel.load(tmp_path)


def test_an_early_stop_ends_the_bar_at_the_rounds_boosted(capsys):
    """Not frozen part-way ("4% 44/1000"), which reads as a crash in a stored notebook."""
    frame, _ = generate(8_000, seed=3)
    model = LightGBMClickModel(progress=True, early_stopping_rounds=5).fit(
        frame.iloc[:6_000], frame.iloc[6_000:]
    )
    frames = [f for f in capsys.readouterr().err.split("\r") if f.startswith("boosting")]
    done, total = re.search(r"(\d+)/(\d+)", frames[-1]).groups()
    assert done == total
    assert int(done) < 1000  # stopped early
    assert int(done) >= model.meta.best_iteration
