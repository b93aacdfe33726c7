"""The Spark twins: the encoder writes the pandas encoder's numbers; SynapseML LightGBM on
local Spark (jars from the Ivy cache) matches the pandas model's quality, and its saved folder
serves the same probabilities from either engine."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.sql import functions as F

from recommenders_kit.datasets import criteo
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.models.lightgbm import _executor
from recommenders_kit.models.lightgbm._executor import arrow_positions
from recommenders_kit.models.lightgbm.pandas import FeatureEncoder, LightGBMClickModel
from recommenders_kit.models.lightgbm.spark import FeatureEncoder as SparkEncoder
from recommenders_kit.models.lightgbm.spark import LightGBMClickModel as SparkModel
from recommenders_kit.models.lightgbm.sql import click_probability, spark_pipeline
from tests.unit.models.lightgbm.test_pandas import TRAIN
from tests.unit.models.lightgbm.test_pandas import encoder as pandas_encoder

pytestmark = pytest.mark.spark


def test_spark_encoding_equals_pandas(spark):
    rows = criteo.load_pandas_df("sample")
    rows["fold"] = np.arange(len(rows)) % 5
    train, test = rows.iloc[:800], rows.iloc[800:]
    kw = {"methods": ("ordinal", "count", "target"), "min_count": 3, "col_fold": "fold"}
    pandas_enc = FeatureEncoder(**kw)
    want_train, want_test = pandas_enc.fit_transform(train), pandas_enc.transform(test)
    strain = spark.createDataFrame(_spark_ready(train)).cache()
    stest = spark.createDataFrame(_spark_ready(test))
    spark_enc = SparkEncoder(**kw).fit(strain)
    assert spark_enc.stats.columns == pandas_enc.stats.columns
    assert spark_enc.stats.prior == pytest.approx(pandas_enc.stats.prior)
    for got, want in [
        (spark_enc.fit_transform(strain), want_train),
        (spark_enc.transform(stest), want_test),
    ]:
        got = got.toPandas().sort_values("_row").reset_index(drop=True)[want.columns]
        pd.testing.assert_frame_equal(got, want.reset_index(drop=True), check_dtype=False)


def test_hand_worked_frame_and_bad_training_rows(spark):
    """The pandas twin's hand-worked frame gives the same numbers; bad rows fail the fit with
    the pandas twin's messages (NaN and null both count as missing)."""
    methods = {"methods": ("ordinal", "count", "target")}
    want = pandas_encoder(**methods).fit_transform(TRAIN)
    train = spark.createDataFrame(TRAIN.astype({"n": "float64"}).assign(_row=range(7)))
    got = spark_encoder(**methods).fit_transform(train).toPandas().sort_values("_row")
    pd.testing.assert_frame_equal(
        got[want.columns].reset_index(drop=True), want.reset_index(drop=True), check_dtype=False
    )
    bad = [
        (train.withColumn("label", F.when(F.col("_row") == 2, 2).otherwise(1)), "label must"),
        (train.withColumn("fold", F.lit(5)), r"fold must hold integers 0 .. 1"),
        (train.withColumn("fold", F.lit(None).cast("int")), r"fold must hold integers 0 .. 1"),
        (train.withColumn("n", F.lit(float("nan"))), r"\['n'\] are missing in every"),
        (train.withColumn("n", F.lit("x")), r"\['n'\] hold \['string'\], not numbers"),
        (train.drop("c"), r"missing column\(s\) \['c'\]"),
    ]
    for frame, message in bad:
        with pytest.raises(ValueError, match=message):
            spark_encoder(**methods).fit(frame)


def test_numeric_columns_missing_everywhere_are_named(spark):
    """The fit's checks count the present values of every column: a numeric column that is
    null or NaN in every row is named, one present in some rows is not."""
    nums = [f"n{i}" for i in range(64)]
    rows = pd.DataFrame({n: np.arange(4.0) for n in nums}).assign(
        c=["a", "b", "a", None], label=[0, 1, 1, 0]
    )
    rows.loc[:, "n63"] = np.nan
    rows.loc[[0, 2], "n62"] = np.nan  # present in two rows: not missing everywhere
    encoder = SparkEncoder(categorical_cols=["c"], numeric_cols=nums, min_count=1)
    with pytest.raises(ValueError, match=r"\['n63'\] are missing in every"):
        encoder.fit(spark.createDataFrame(rows))
    encoder.fit(spark.createDataFrame(rows.drop(columns="n63")).withColumn("n63", F.lit(1.0)))
    assert encoder.stats.columns["c"].values == ("a", "b")


def test_arrow_positions_decodes_dictionaries_and_marks_missing():
    import pyarrow as pa

    kept = pa.array(["b", "a"])
    for column in (
        pa.array(["a", None, "z", "b"]),
        pa.array(["a", None, "z", "b"]).dictionary_encode(),
    ):
        index, missing = arrow_positions(column, kept)
        assert index.tolist() == [1, -1, -1, 0]
        assert missing.tolist() == [False, True, False, False]


def test_encode_batches_gathers_runs_and_keeps_batch_sizes(monkeypatch):
    """The executors' kernel looks values up a run of batches at a time and gives back the
    batches as they came (same sizes, same order), with the pandas encoder's numbers."""
    import pyarrow as pa

    frame, _ = generate(3000, seed=5)
    encoder = FeatureEncoder(methods=("ordinal", "count"), min_count=3).fit(frame)
    want = encoder.transform(frame)
    table = pa.Table.from_pandas(frame, preserve_index=False)
    table = table.cast(  # as Spark sends them: plain strings, numbers as doubles
        pa.schema(
            [
                (f.name, pa.string() if pa.types.is_dictionary(f.type) else pa.float64())
                for f in table.schema
            ]
        )
    )
    batches = table.to_batches(max_chunksize=250)
    batches.insert(3, batches[0].slice(0, 0))  # an empty batch is dropped
    monkeypatch.setattr(_executor, "LOOKUP_ROWS", 700)
    names = [
        *table.column_names,
        *[n for n in encoder.feature_names if n not in table.column_names],
    ]
    out = list(_executor.encode_batches(encoder.to_json(), None, names, iter(batches)))
    assert [b.num_rows for b in out] == [b.num_rows for b in batches if b.num_rows]
    got = pa.Table.from_batches(out).to_pandas()[want.columns]
    pd.testing.assert_frame_equal(got, want, check_dtype=False)


def spark_encoder(**kw):
    return SparkEncoder(**{**pandas_encoder().get_params(), **kw})


def _spark_ready(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype(dict.fromkeys(criteo.INT_COLS, "float64")).astype({"label": "int32"})
    return out.assign(_row=np.arange(len(frame)))  # to restore the order after the joins


@pytest.mark.slow
def test_synapse_matches_native_quality_and_exports_the_same_model(spark, tmp_path):
    frame, _ = generate(20_000, seed=11)
    train, test = frame.iloc[:16_000], frame.iloc[16_000:]
    params = {"num_leaves": 31, "min_data_in_leaf": 50}
    native = LightGBMClickModel(
        FeatureEncoder(min_count=5), params=params, progress=False, valid_fraction=0.1
    ).fit(train.iloc[:14_400], train.iloc[14_400:])
    syn = SparkModel(SparkEncoder(min_count=5), params=params).fit(
        criteo.to_spark(spark, train.iloc[:14_400]), criteo.to_spark(spark, train.iloc[14_400:])
    )
    stest = criteo.to_spark(spark, test)
    persistent = spark.sparkContext._jsc.getPersistentRDDs
    cached = len(persistent())
    syn_scores = syn.evaluate(stest)
    assert len(persistent()) == cached  # the scores it cached are released
    assert abs(syn_scores["auc"] - native.evaluate(test)["auc"]) < 0.01
    folder = syn.save(tmp_path / "synapse_model")
    served = LightGBMClickModel.load(folder)
    p_served = served.predict_proba(test)
    p_spark = syn.predict_proba(stest).toPandas()["probability"].to_numpy()
    np.testing.assert_allclose(p_served, p_spark, atol=1e-9)
    assert syn.feature_importance().index[0] in syn.encoder.feature_names
    # the SynapseML-trained model as a pipeline of JVM stages scores the same
    piped = spark_pipeline(syn, spark).transform(stest).select(click_probability())
    p_piped = piped.toPandas()["probability"].to_numpy()
    np.testing.assert_allclose(p_piped, p_served, atol=1e-9)


def test_rejects_parameters_without_a_synapse_name():
    with pytest.raises(ValueError, match="no SynapseML equivalent"):
        SparkModel(params={"extra_trees": True})
