"""AUC and logloss against hand-worked values and scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn import metrics as skm

from recommenders_kit.evaluation.classification import auc, logloss


def test_hand_worked():
    # positives score .35 and .8, negatives .1 and .4: of the 4 pairs, 3 are ordered right
    assert auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == 0.75
    # a tie between a positive and a negative counts one half
    assert auc([0, 1], [0.5, 0.5]) == 0.5
    assert logloss([1, 0], [0.8, 0.4]) == pytest.approx(-(math.log(0.8) + math.log(0.6)) / 2)


def test_clipping_keeps_logloss_finite():
    assert logloss([1], [0.0]) == pytest.approx(-math.log(1e-15))
    assert logloss([1], [0.0], eps=1e-7) == pytest.approx(-math.log(1e-7))


@pytest.mark.parametrize("seed", range(3))
def test_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, 5000)
    s = np.round(rng.random(5000) * 0.5 + y * 0.2, 2)  # ties
    assert auc(y, s) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    p = np.clip(s, 0, 1)
    assert logloss(y, p) == pytest.approx(skm.log_loss(y, np.clip(p, 1e-15, 1 - 1e-15)), abs=1e-12)


def test_errors():
    with pytest.raises(ValueError, match="both classes"):
        auc([1, 1], [0.2, 0.3])
    with pytest.raises(ValueError, match="only 0 and 1"):
        auc([0, 2], [0.2, 0.3])
    with pytest.raises(ValueError, match="equal length"):
        logloss([0, 1], [0.2])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        logloss([0, 1], [0.2, 1.3])
    with pytest.raises(ValueError, match="NaN"):
        auc([0, 1], [0.2, float("nan")])
