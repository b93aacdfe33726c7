"""The twin rule, checked: a pandas model and its Spark twin fitted on the same rows give the
same lists, scores and errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

KEY = ["userID", "itemID"]
#: training rows whose bad variants the twins must refuse alike
GOOD = pd.DataFrame({"userID": [1, 1, 2], "itemID": [3, 4, 5], "rating": [1.0, 2.0, 5.0]})
#: (frame, call(model class, engine's frame), error): the same on both engines
BAD_INPUT = [
    pytest.param(GOOD.iloc[:0], lambda cls, data: cls().fit(data), "data is empty", id="empty"),
    pytest.param(
        GOOD.astype({"itemID": float}),
        lambda cls, data: cls().fit(data),
        "needs integer ids",
        id="float ids",
    ),
    pytest.param(
        GOOD, lambda cls, data: cls().fit(data).recommend_k_items(k=0), "k must be", id="k=0"
    ),
]


def to_spark(spark, frame: pd.DataFrame):
    """``frame`` as a Spark frame with the same column types (empty frames too)."""
    types = {"int32": "int", "int64": "bigint", "float32": "float", "float64": "double"}
    schema = ", ".join(f"{name} {types[str(t)]}" for name, t in frame.dtypes.items())
    return spark.createDataFrame(frame, schema)


def assert_same_error(spark, pandas_cls, spark_cls, frame, call, error) -> None:
    for cls, data in ((pandas_cls, frame), (spark_cls, to_spark(spark, frame))):
        with pytest.raises(ValueError, match=error):
            call(cls, data)


def _by_user(recs: pd.DataFrame) -> dict:
    ordered = recs.sort_values(["userID", "prediction", "itemID"], ascending=[True, False, True])
    return ordered.groupby("userID")["itemID"].apply(list).to_dict()


def assert_twins_agree(pandas_model, spark_model, frame: pd.DataFrame, spark, k: int = 5):
    """Fit both on ``frame``; compare every user's top ``k`` (items in order, scores to
    float32 precision), the lists of users asked by id (one unknown) and pair scores."""
    pandas_model.fit(frame)
    spark_model.fit(to_spark(spark, frame))
    ours, theirs = pandas_model.recommend_k_items(k=k), spark_model.recommend_k_items(k=k)
    theirs = theirs.toPandas()
    assert _by_user(ours) == _by_user(theirs)
    merged = ours.merge(theirs, on=KEY)
    np.testing.assert_allclose(merged.prediction_x, merged.prediction_y, rtol=1e-5, atol=1e-7)
    asked = pd.DataFrame({"userID": [*frame["userID"].unique()[:3], 10**12]})
    some = pandas_model.recommend_k_items(asked, k=k)
    assert _by_user(some) == _by_user(
        spark_model.recommend_k_items(to_spark(spark, asked), k=k).toPandas()
    )
    unknown = pd.DataFrame({"userID": [10**12], "itemID": [frame["itemID"].iloc[0]]})
    pairs = pd.concat([frame[KEY].head(20), unknown], ignore_index=True)
    ours = pandas_model.predict(pairs).sort_values(KEY).reset_index(drop=True)
    theirs = spark_model.predict(to_spark(spark, pairs)).toPandas()
    theirs = theirs.sort_values(KEY).reset_index(drop=True)
    assert ours[KEY].to_numpy().tolist() == theirs[KEY].to_numpy().tolist()
    np.testing.assert_allclose(ours.prediction, theirs.prediction, rtol=1e-5, atol=1e-7)
