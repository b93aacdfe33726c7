"""Every model class follows one protocol, checked by behaviour: constructor keywords spelled
out, ``get_params()``, ``fit`` returning ``self``, one output frame shape, ``save`` returning
where it wrote, ``load`` giving the same answers, one error before ``fit``."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.models.als import pandas as als_pandas
from recommenders_kit.models.als import spark as als_spark
from recommenders_kit.models.base import ClickModel, NotFittedError, Recommender
from recommenders_kit.models.lightgbm import pandas as lgb_pandas
from recommenders_kit.models.lightgbm import spark as lgb_spark

RECOMMENDERS = [
    pytest.param(als_pandas.ALSRecommender, "pandas", id="als.pandas"),
    pytest.param(als_spark.ALSRecommender, "spark", id="als.spark", marks=pytest.mark.spark),
]
CLICK_MODELS = [
    pytest.param(lgb_pandas.LightGBMClickModel, "pandas", id="lightgbm.pandas"),
    pytest.param(
        lgb_spark.LightGBMClickModel, "spark", id="lightgbm.spark", marks=pytest.mark.spark
    ),
]
RATINGS = pd.DataFrame(
    {
        "userID": np.repeat(np.arange(12), 6),
        "itemID": (np.arange(72) * 7) % 20,
        "rating": (np.arange(72) % 5 + 1).astype(float),
    }
)


def _frame(engine: str, frame: pd.DataFrame, request):
    if engine == "pandas":
        return frame
    return request.getfixturevalue("spark").createDataFrame(frame)


def _pandas(frame) -> pd.DataFrame:
    return frame if isinstance(frame, pd.DataFrame) else frame.toPandas()


@pytest.mark.parametrize("cls", [p.values[0] for p in RECOMMENDERS + CLICK_MODELS])
def test_constructor_keywords_are_spelled_out(cls):
    parameters = inspect.signature(cls.__init__).parameters.values()
    assert all(p.kind is p.POSITIONAL_OR_KEYWORD for p in list(parameters)[1:]), cls
    assert all(p.default is not p.empty for p in list(parameters)[1:]), cls
    names = [p.name for p in parameters]
    assert not [n for n in names if n.endswith("_col")], "column keywords are spelled col_*"
    model = cls()
    assert list(model.get_params()) == names[1:]
    assert type(model)(**model.get_params()).get_params() == model.get_params()


@pytest.mark.parametrize(("cls", "engine"), RECOMMENDERS)
def test_recommender_protocol(cls, engine, tmp_path, request):
    model = cls(rank=4, max_iter=3)
    assert isinstance(model, Recommender)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.recommend_k_items()
    train = _frame(engine, RATINGS, request)
    assert model.fit(train) is model
    recs = _pandas(model.recommend_k_items(k=3))
    assert list(recs.columns) == ["userID", "itemID", "prediction"]
    assert recs.groupby("userID").size().le(3).all()
    assert recs["userID"].nunique() == 12
    assert recs.merge(RATINGS, on=["userID", "itemID"]).empty  # seen items left out
    pairs = _frame(engine, RATINGS[["userID", "itemID"]].head(5), request)
    assert list(_pandas(model.predict(pairs)).columns) == ["userID", "itemID", "prediction"]
    where = model.save(tmp_path / "model")
    assert isinstance(where, str)
    assert Path(where).exists()
    loaded = cls.load(where).set_seen(train)
    key = ["userID", "itemID"]
    got = _pandas(loaded.recommend_k_items(k=3)).sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(got, recs.sort_values(key).reset_index(drop=True))


@pytest.mark.parametrize(("cls", "engine"), CLICK_MODELS)
def test_click_model_protocol(cls, engine, tmp_path, request):
    rows, _ = generate(3000, seed=2)
    model = cls(encoder=_encoder(engine), num_boost_round=20, progress=False)
    assert isinstance(model, ClickModel)
    with pytest.raises(NotFittedError, match="not fitted"):
        model.feature_importance()
    train, test = rows.iloc[:2400], rows.iloc[2400:]
    if engine == "spark":
        from recommenders_kit.datasets import criteo

        spark = request.getfixturevalue("spark")
        train, test = criteo.to_spark(spark, train), criteo.to_spark(spark, test)
    assert model.fit(train) is model
    scores = model.evaluate(test)
    assert sorted(scores) == ["auc", "logloss"]
    assert 0.5 < scores["auc"] <= 1
    assert set(model.feature_importance().index) == set(model.encoder.feature_names)
    where = model.save(tmp_path / "model")
    assert isinstance(where, str)
    assert sorted(p.name for p in Path(where).iterdir()) == [
        "encoder.json",
        "meta.json",
        "model.txt",
    ]
    assert cls.load(where).evaluate(test) == pytest.approx(scores, abs=1e-9)


def _encoder(engine: str):
    module = lgb_pandas if engine == "pandas" else lgb_spark
    return module.FeatureEncoder(min_count=5)
