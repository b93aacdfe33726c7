"""Feature encoders: a hand-worked example, out-of-fold brute force, JSON, Spark equality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets import criteo
from recommenders_kit.models.lightgbm.features import FeatureEncoder

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
        fold_col="fold",
        **kw,
    )


def test_hand_worked_ordinal_and_count():
    enc = encoder(methods=("ordinal", "count")).fit(TRAIN)
    out = enc.transform(NEW)
    assert list(out.columns) == ["n", "c", "c_count"]
    # a is most frequent -> 1, b -> 2, unseen -> 0, missing -> NaN (LightGBM's missing)
    assert out["c"].tolist()[:3] == [2, 1, 0] and np.isnan(out["c"].iloc[3])
    assert out["c_count"].tolist()[:3] == [2.0, 3.0, 0.0] and np.isnan(out["c_count"].iloc[3])
    assert out["n"].iloc[0] == 1.5 and np.isnan(out["n"].iloc[1])
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
        fold_col="fold",
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
    with pytest.raises(ValueError, match=r"record 1 lacks column\(s\) \['c'\]"):
        enc = encoder().fit(TRAIN)
        enc.transform_records([{"c": "a", "n": 1}, {"n": 2}])


@pytest.mark.parametrize(
    "data, message",
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


@pytest.mark.spark
def test_spark_encoding_equals_pandas(spark):
    rows = criteo.load_pandas_df("sample")
    rows["fold"] = np.arange(len(rows)) % 5
    train, test = rows.iloc[:800], rows.iloc[800:]
    kw = dict(methods=("ordinal", "count", "target"), min_count=3, fold_col="fold")
    pandas_enc = FeatureEncoder(**kw)
    want_train, want_test = pandas_enc.fit_transform(train), pandas_enc.transform(test)
    strain = spark.createDataFrame(_spark_ready(train)).cache()
    stest = spark.createDataFrame(_spark_ready(test))
    spark_enc = FeatureEncoder(**kw).fit_spark(strain)
    assert spark_enc.stats == pandas_enc.stats and spark_enc.prior == pytest.approx(
        pandas_enc.prior
    )
    for frame, want, oof in [(strain, want_train, True), (stest, want_test, False)]:
        got = spark_enc.transform_spark(frame, out_of_fold=oof)
        got = got.toPandas().sort_values("_row").reset_index(drop=True)[want.columns]
        pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_dtype=False)


def _spark_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype({c: "float64" for c in criteo.INT_COLS}).astype({"label": "int32"})
    return out.assign(_row=np.arange(len(frame)))  # to restore the order after the joins
