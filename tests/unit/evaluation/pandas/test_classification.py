"""AUC and logloss against hand-worked values and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn import metrics as skm

from recommenders_kit.evaluation.pandas.classification import auc, checked_arrays, logloss


def frame(labels, scores) -> pd.DataFrame:
    return pd.DataFrame({"label": labels, "prediction": scores})


def test_hand_worked():
    # positives score .35 and .8, negatives .1 and .4: of the 4 pairs, 3 are ordered right
    assert auc(frame([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])) == 0.75
    # a tie between a positive and a negative counts one half
    assert auc(frame([0, 1], [0.5, 0.5])) == 0.5
    want = -(math.log(0.8) + math.log(0.6)) / 2
    assert logloss(frame([1, 0], [0.8, 0.4])) == pytest.approx(want)


def test_clipping_keeps_logloss_finite():
    assert logloss(frame([1], [0.0])) == pytest.approx(-math.log(1e-15))
    assert logloss(frame([1], [0.0]), eps=1e-7) == pytest.approx(-math.log(1e-7))


def test_custom_columns():
    data = frame([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]).rename(columns={"label": "click"})
    assert auc(data.rename(columns={"prediction": "p"}), col_label="click", col_prediction="p") == (
        0.75
    )


@pytest.mark.parametrize("seed", range(3))
def test_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 5000)
    s = np.round(rng.random(5000) * 0.5 + y * 0.2, 2)  # ties
    assert auc(frame(y, s)) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    p = np.clip(s, 0, 1)
    want = skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15))
    assert logloss(frame(y, p)) == pytest.approx(want, abs=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="both classes"):
        auc(frame([1, 1], [0.2, 0.3]))
    with pytest.raises(ValueError, match="only 0 and 1"):
        auc(frame([0, 2], [0.2, 0.3]))
    with pytest.raises(ValueError, match="equal length"):
        checked_arrays([0, 1], [0.2])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        logloss(frame([0, 1], [0.2, 1.3]))
    with pytest.raises(ValueError, match="NaN"):
        auc(frame([0, 1], [0.2, float("nan")]))
    with pytest.raises(ValueError, match="is empty"):
        auc(frame([], []))
    with pytest.raises(ValueError, match=r"missing column\(s\) \['prediction'\]"):
        auc(frame([0, 1], [0.2, 0.3]).drop(columns="prediction"))
    with pytest.raises(ValueError, match=r"eps must be in \(0, 0.5\)"):
        logloss(frame([0, 1], [0.2, 0.3]), eps=0.7)
