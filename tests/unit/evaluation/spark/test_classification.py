"""Spark AUC and logloss agree with the pandas ones."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev

pytestmark = pytest.mark.spark


def test_classification_agrees(spark):
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 3000)
    p = np.round(np.clip(rng.random(3000) * 0.7 + y * 0.3, 0, 1), 2)
    pdf = pd.DataFrame({"label": y, "prediction": p})
    sdf = spark.createDataFrame(pdf)
    assert sev.auc(sdf) == pytest.approx(pev.auc(pdf), abs=1e-9)
    assert sev.logloss(sdf) == pytest.approx(pev.logloss(pdf), abs=1e-9)
    with pytest.raises(ValueError, match="both classes"):
        sev.auc(sdf.where("label = 1"))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (pd.DataFrame({"label": [0, 2], "prediction": [0.2, 0.3]}), "only 0 and 1"),
        (pd.DataFrame({"label": [0, 1], "prediction": [0.2, float("nan")]}), "NaN"),
        (pd.DataFrame({"label": [1, 1], "prediction": [0.2, 0.3]}), "both classes"),
    ],
)
def test_bad_input_gives_the_pandas_message(spark, frame, message):
    with pytest.raises(ValueError, match=message):
        pev.auc(frame)
    with pytest.raises(ValueError, match=message):
        sev.auc(spark.createDataFrame(frame))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]"):
        sev.logloss(spark.createDataFrame(frame.assign(label=[0, 1], prediction=[0.2, 1.3])))
