"""The click model as Spark SQL and as a pipeline of JVM stages: the probabilities of the native
scorer (lightgbm 4.x) to 1e-9, with unseen categories and missing values, through MLlib
persistence, and LightGBM's decision rules (missing values, zeros, categorical sets) checked
on values chosen to hit each branch."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pyspark.ml import PipelineModel

from recommenders_kit.datasets import criteo
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.models.lightgbm import sql as sql_module
from recommenders_kit.models.lightgbm.pandas import FeatureEncoder, LightGBMClickModel
from recommenders_kit.models.lightgbm.sql import (
    ClickSQL,
    click_probability,
    double,
    quoted,
    spark_pipeline,
    string,
)

pytestmark = [pytest.mark.spark, pytest.mark.slow]


@pytest.fixture(scope="module")
def rows():
    """Training rows, and 10,000 later rows: unseen categories and missing values in both."""
    frame, _ = generate(18_000, seed=3)
    test = frame.iloc[8_000:]
    assert test[criteo.CAT_COLS].isna().any().any()
    assert test[criteo.INT_COLS].isna().any().any()
    return frame.iloc[:8_000], test


@pytest.fixture(scope="module")
def model(rows):
    """All three encodings, and zeros read as missing (every kind of split appears)."""
    encoder = FeatureEncoder(methods=("ordinal", "count", "target"), min_count=5)
    params = {"zero_as_missing": True, "num_leaves": 15}
    return LightGBMClickModel(encoder, params=params, num_boost_round=30, progress=False).fit(
        rows[0]
    )


def _spark_rows(spark, frame: pd.DataFrame):
    """``frame`` as Spark rows that are not a local relation, like rows read from files: on
    local rows the optimizer would evaluate the whole encoding on the driver, interpreted
    (``ConvertToLocalRelation``), which takes longer than scoring them."""
    raw = frame.drop(columns="label").astype(dict.fromkeys(criteo.CAT_COLS, object))
    rows = raw.where(raw.notna(), None).assign(_row=np.arange(len(raw)))
    return spark.createDataFrame(rows).repartition(2)


def test_the_pipeline_scores_as_the_native_model_and_survives_mllib_persistence(
    spark, rows, model, tmp_path
):
    native = model.predict_proba(rows[1])
    pipeline = spark_pipeline(model, spark)
    assert [type(s).__name__ for s in pipeline.stages] == [
        "SQLTransformer",
        "VectorAssembler",
        "LightGBMClassificationModel",
    ]
    frame = _spark_rows(spark, rows[1])
    scored = pipeline.transform(frame).select("_row", click_probability()).toPandas()
    np.testing.assert_allclose(scored.sort_values("_row")["probability"], native, atol=1e-9)
    pipeline.write().save(str(tmp_path / "pipeline"))
    loaded = PipelineModel.load(str(tmp_path / "pipeline"))
    again = loaded.transform(frame).select("_row", click_probability()).toPandas()
    np.testing.assert_allclose(again.sort_values("_row")["probability"], native, atol=1e-9)


def test_the_pipeline_is_an_mlflow_spark_model(spark, rows, model, tmp_path):
    import mlflow.spark

    folder = str(tmp_path / "mlflow")
    mlflow.spark.save_model(spark_pipeline(model, spark), folder, pip_requirements=["pyspark"])
    loaded = mlflow.spark.load_model(folder)
    sample = rows[1].iloc[:500]
    got = loaded.transform(_spark_rows(spark, sample)).select("_row", click_probability())
    scored = got.toPandas().sort_values("_row")["probability"]
    np.testing.assert_allclose(scored, model.predict_proba(sample), atol=1e-9)


def test_sql_features_and_trees_equal_the_encoder_and_lightgbm(spark, rows, model):
    sql = ClickSQL(model, spark)
    frame = _spark_rows(spark, rows[1])
    cats = list(model.encoder.categorical_cols)
    with_positions = frame.selectExpr(
        "*", *[f"{sql.position(c, quoted(c))} AS _p_{c}" for c in cats]
    )
    features = sql.features(
        lambda c: f"coalesce(CAST({quoted(c)} AS DOUBLE), double('NaN'))", lambda c: f"_p_{c}"
    )
    encoded = with_positions.selectExpr("_row", f"array({', '.join(features)}) AS x")
    scored = (
        encoded.selectExpr("_row", "x", f"{sql.probability(lambda j: f'x[{j}]')} AS p")
        .toPandas()
        .sort_values("_row")
    )
    expected = model.encoder.transform(rows[1]).to_numpy()
    np.testing.assert_array_equal(np.stack(scored["x"].to_numpy()), expected)
    np.testing.assert_allclose(scored["p"], model.predict_proba(rows[1]), atol=1e-9)


def _tree_scores(spark, sql: ClickSQL, x: np.ndarray) -> np.ndarray:
    """The trees' probabilities (SQL) of feature rows ``x``, in their order."""
    rows = spark.createDataFrame(
        [(i, row.tolist()) for i, row in enumerate(x)], "i int, x array<double>"
    ).repartition(2)
    scored = rows.selectExpr("i", f"{sql.probability(lambda j: f'x[{j}]')} AS p")
    return scored.toPandas().sort_values("i")["p"].to_numpy()


def test_trees_on_values_at_every_branch(spark, model):
    """Zeros, values just around zero, NaN, negative and fractional codes, huge values: the
    trees give LightGBM's own answers for feature rows no encoder would write."""
    sql = ClickSQL(model, spark)
    rng = np.random.default_rng(0)
    n, width = 2_000, len(sql.feature_names)
    choices = np.array([0.0, -0.0, 1e-36, -1e-36, np.nan, -1.0, -0.5, 0.5, 1.0, 2.0, 7.0, 1e12])
    x = np.where(
        rng.random((n, width)) < 0.5,
        rng.choice(choices, size=(n, width)),
        rng.normal(0, 50, (n, width)).round(1),
    )
    expected = model.model.predict(x, num_iteration=model.meta.best_iteration)
    np.testing.assert_allclose(_tree_scores(spark, sql, x), expected, atol=1e-12)


def test_long_sums_are_chained_in_the_same_order(spark, model, monkeypatch):
    """Trees added in chains of 7 (one step of ``aggregate`` each) give the very same doubles
    as one chain of all of them: the order of the additions is LightGBM's either way."""
    sql = ClickSQL(model, spark)
    x = model.encoder.transform(generate(300, seed=8)[0]).to_numpy()
    single = _tree_scores(spark, sql, x)
    monkeypatch.setattr(sql_module, "TREES_PER_CHAIN", 7)
    chains = -(-len(sql.trees) // 7)
    assert chains > 1
    assert f"aggregate(sequence(0, {chains - 1})" in sql.probability(lambda j: f"x[{j}]")
    np.testing.assert_array_equal(_tree_scores(spark, sql, x), single)
    np.testing.assert_allclose(single, model.predict_proba(generate(300, seed=8)[0]), atol=1e-12)


def test_literals_are_exact_and_quoted(spark):
    values = [0.1, -2.5e-300, 1e308, float("nan"), float("inf"), 123456789.123456789]
    text = "it's a \\ back'slash"
    row = spark.sql(f"SELECT array({', '.join(map(double, values))}) AS v, {string(text)} AS s")
    got = row.first()
    assert got["s"] == text
    np.testing.assert_array_equal(np.array(got["v"]), np.array(values))
