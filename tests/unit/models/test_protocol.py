"""Every model class follows one protocol, checked by behaviour: constructor keywords spelled
out, ``get_params()``, copies that share nothing, ``fit`` returning ``self``, the fitted state
under the same names on both engines, one output frame shape, ``save`` returning where it
wrote, an interrupted save that keeps the old model, ``load`` giving the same answers and the
same parameters, one error before ``fit``."""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.models import base
from recommenders_kit.models.als import pandas as als_pandas
from recommenders_kit.models.als import spark as als_spark
from recommenders_kit.models.base import ClickModel, NotFittedError, Params, Recommender, clone
from recommenders_kit.models.ease import pandas as ease_pandas
from recommenders_kit.models.ease import spark as ease_spark
from recommenders_kit.models.lightgbm import pandas as lgb_pandas
from recommenders_kit.models.lightgbm import spark as lgb_spark
from recommenders_kit.models.lightgbm._common import ModelMeta
from recommenders_kit.models.popularity import pandas as pop_pandas
from recommenders_kit.models.popularity import spark as pop_spark

SPARK = pytest.mark.spark

_ALS, _ALS_OTHER = {"rank": 4, "max_iter": 3, "seed": 5}, {"reg_param": 0.25}
_EASE, _RATING = {"lam": 5.0}, {"weighting": "rating"}
#: (class, engine, small parameters, other parameters)
RECOMMENDERS = [
    pytest.param(als_pandas.ALSRecommender, "pandas", _ALS, _ALS_OTHER, id="als.pandas"),
    pytest.param(als_spark.ALSRecommender, "spark", _ALS, _ALS_OTHER, id="als.spark", marks=SPARK),
    pytest.param(pop_pandas.PopularityRecommender, "pandas", {}, _RATING, id="popularity.pandas"),
    pytest.param(
        pop_spark.PopularityRecommender, "spark", {}, _RATING, id="popularity.spark", marks=SPARK
    ),
    pytest.param(ease_pandas.EASERecommender, "pandas", _EASE, _RATING, id="ease.pandas"),
    pytest.param(ease_spark.EASERecommender, "spark", _EASE, _RATING, id="ease.spark", marks=SPARK),
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
    assert _plain(type(model)(**model.get_params()).get_params()) == _plain(model.get_params())


@pytest.mark.parametrize(("cls", "engine", "small", "other"), RECOMMENDERS)
def test_recommender_protocol(cls, engine, small, other, tmp_path, request):
    model = cls(**small)
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


def _plain(params: dict) -> dict:
    """Parameters with nested models (a click model's encoder) as (class, their parameters)."""
    return {
        k: (type(v), _plain(v.get_params())) if isinstance(v, Params) else v
        for k, v in params.items()
    }


def _raise(error: Exception):
    """A function that raises ``error`` whatever it is called with: a failure injected."""

    def fail(*args, **kwargs):
        raise error

    return fail


OTHER_RATINGS = RATINGS.assign(itemID=(RATINGS["itemID"] * 3 + 1) % 20, rating=1.0)


def _fitted_recommender(cls, engine, request, small, frame=RATINGS, **kw):
    model = cls(**small, **kw)
    assert all(getattr(model, name) is None for name in base.RECOMMENDER_STATE)
    model.fit(_frame(engine, frame, request))
    assert all(getattr(model, name) is not None for name in base.RECOMMENDER_STATE)
    return model


def _recs(model, k=3) -> pd.DataFrame:
    key = ["userID", "itemID"]
    return _pandas(model.recommend_k_items(k=k)).sort_values(key).reset_index(drop=True)


@pytest.mark.parametrize(("cls", "engine", "small", "other"), RECOMMENDERS)
def test_recommender_copies_share_nothing(cls, engine, small, other, request):
    model = _fitted_recommender(cls, engine, request, small)
    before = _recs(model)
    copy = type(model)(**model.get_params())
    assert copy.model is None
    copy.fit(_frame(engine, OTHER_RATINGS, request))
    pd.testing.assert_frame_equal(_recs(model), before)


@pytest.mark.parametrize(("cls", "engine", "small", "other"), RECOMMENDERS)
def test_recommender_interrupted_save_keeps_the_old_model(
    cls, engine, small, other, tmp_path, request
):
    model = _fitted_recommender(cls, engine, request, small, **other)
    where = model.save(tmp_path / "model")
    newer = _fitted_recommender(cls, engine, request, small, frame=OTHER_RATINGS)
    newer.get_params = _raise(OSError("disk full"))  # called once the arrays are written
    with pytest.raises(OSError, match="disk full"):
        newer.save(where, overwrite=True)
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    loaded = cls.load(where).set_seen(_frame(engine, RATINGS, request))
    pd.testing.assert_frame_equal(_recs(loaded), _recs(model))
    assert _plain(loaded.get_params()) == _plain(model.get_params())


def _click_rows(engine, request, seed):
    rows, _ = generate(1500, seed=seed)
    if engine == "pandas":
        return rows, rows
    from recommenders_kit.datasets import criteo

    return rows, criteo.to_spark(request.getfixturevalue("spark"), rows)


def _probabilities(model, engine, rows) -> np.ndarray:
    scored = model.predict_proba(rows)
    if engine == "pandas":
        return scored
    return scored.select("probability").toPandas()["probability"].to_numpy()


@pytest.mark.parametrize(("cls", "engine"), CLICK_MODELS)
def test_click_model_copies_share_nothing(cls, engine, tmp_path, request):
    encoder = _encoder(engine)
    model = cls(encoder=encoder, params={"num_leaves": 15}, num_boost_round=10, progress=False)
    assert model.model is None
    assert model.meta is None
    _, train = _click_rows(engine, request, seed=3)
    model.fit(train)
    assert all(getattr(model, name) is not None for name in base.CLICK_MODEL_STATE)
    assert encoder.stats is None  # the model fitted its own copy of the encoder
    _, test = _click_rows(engine, request, seed=4)
    before = _probabilities(model, engine, test)
    _, other = _click_rows(engine, request, seed=5)
    copy = clone(model)
    assert copy.model is None
    assert copy.encoder.stats is None
    copy.fit(other)
    np.testing.assert_array_equal(_probabilities(model, engine, test), before)

    # an interrupted save keeps the old model; load gives back the parameters saved
    where = model.save(tmp_path / "model")
    failing = ModelMeta.to_json  # written last, after the trees and the encoder
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(ModelMeta, "to_json", _raise(OSError("full")))
        with pytest.raises(OSError, match="full"):
            copy.save(where, overwrite=True)
    assert ModelMeta.to_json is failing
    assert [p.name for p in tmp_path.iterdir()] == ["model"]
    loaded = cls.load(where)
    np.testing.assert_allclose(_probabilities(loaded, engine, test), before, rtol=1e-12)
    assert _plain(loaded.get_params()) == _plain(model.get_params())
