"""Rating metrics against a hand-worked example and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from recommenders_kit.evaluation.pandas import evaluate, rating

# pairs present in both: (1,1): 4 vs 3, (1,2): 2 vs 2, (2,1): 5 vs 3; (2,9) and (3,3) unmatched
TRUE = pd.DataFrame({"userID": [1, 1, 2, 2], "itemID": [1, 2, 1, 9], "rating": [4.0, 2, 5, 1]})
PRED = pd.DataFrame({"userID": [1, 1, 2, 3], "itemID": [1, 2, 1, 3], "prediction": [3.0, 2, 3, 4]})


def test_hand_worked_example():
    # errors 1, 0, 2: rmse = sqrt(5/3), mae = 1; ratings 4, 2, 5 (mean 11/3)
    assert rating.rmse(TRUE, PRED) == pytest.approx(math.sqrt(5 / 3))
    assert rating.mae(TRUE, PRED) == pytest.approx(1.0)
    ss_tot = (4 - 11 / 3) ** 2 + (2 - 11 / 3) ** 2 + (5 - 11 / 3) ** 2
    assert rating.rsquared(TRUE, PRED) == pytest.approx(1 - 5 / ss_tot)
    # residuals 1, 0, 2: variance 2/3; variance of ratings ss_tot / 3
    assert rating.exp_var(TRUE, PRED) == pytest.approx(1 - (2 / 3) / (ss_tot / 3))


def test_matches_sklearn_on_random_data():
    rng = np.random.default_rng(0)
    true = pd.DataFrame(
        {
            "userID": np.repeat(np.arange(50), 20),
            "itemID": np.tile(np.arange(20), 50),
            "rating": rng.integers(1, 6, 1000).astype(float),
        }
    )
    pred = true.sample(frac=0.8, random_state=1).rename(columns={"rating": "prediction"})
    pred["prediction"] = pred["prediction"] + rng.normal(0, 1, len(pred))
    merged = true.merge(pred, on=["userID", "itemID"])
    y, p = merged["rating"], merged["prediction"]
    got = evaluate(true, pred, metrics=["rmse", "mae", "rsquared", "exp_var"])
    assert got["rmse"] == pytest.approx(math.sqrt(skm.mean_squared_error(y, p)), abs=1e-12)
    assert got["mae"] == pytest.approx(skm.mean_absolute_error(y, p), abs=1e-12)
    assert got["rsquared"] == pytest.approx(skm.r2_score(y, p), abs=1e-12)
    assert got["exp_var"] == pytest.approx(skm.explained_variance_score(y, p), abs=1e-12)


def test_same_column_name_in_both_frames():
    pred = PRED.rename(columns={"prediction": "rating"})
    assert rating.mae(TRUE, pred, col_prediction="rating") == pytest.approx(1.0)


def test_errors():
    with pytest.raises(ValueError, match="share no"):
        rating.rmse(TRUE, PRED.assign(userID=99))
    with pytest.raises(ValueError, match="duplicate"):
        rating.rmse(TRUE, pd.concat([PRED, PRED]))
    with pytest.raises(ValueError, match="NaN"):
        rating.rmse(TRUE, PRED.assign(prediction=np.nan))
    with pytest.raises(ValueError, match=r"rating_true is missing column\(s\) \['stars'\]"):
        rating.rmse(TRUE, PRED, col_rating="stars")
    with pytest.raises(TypeError, match="pandas DataFrame"):
        rating.mae(TRUE.to_numpy(), PRED)
