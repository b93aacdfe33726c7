"""Every metric of the pandas engine has a Spark twin that returns the same value on random
data (to 1e-9): the list of metrics comes from the pandas package itself, so a metric added
to one engine only fails here."""

from __future__ import annotations

import inspect

import numpy as np
import pandas as pd
import pytest

from recommenders_kit.evaluation import pandas as pev
from recommenders_kit.evaluation import spark as sev

pytestmark = pytest.mark.spark


def _random_inputs(seed: int) -> dict[str, pd.DataFrame]:
    """Frames by parameter name, with ties and users in one frame only."""
    rng = np.random.default_rng(seed)
    true = pd.DataFrame(
        {"userID": rng.integers(0, 50, 700), "itemID": rng.integers(0, 40, 700)}
    ).drop_duplicates()
    true["rating"] = rng.integers(1, 6, len(true)).astype(float)
    pred = pd.DataFrame(
        {"userID": rng.integers(5, 55, 900), "itemID": rng.integers(0, 45, 900)}
    ).drop_duplicates()
    pred["prediction"] = rng.integers(0, 6, len(pred)) / 2.0  # many ties
    labelled = pd.DataFrame({"label": rng.integers(0, 2, 500)})
    labelled["prediction"] = np.round(rng.random(500) * 0.6 + labelled["label"] * 0.3, 2)
    reco = pred.sort_values(["userID", "prediction"]).groupby("userID").head(4)
    reco = reco[["userID", "itemID"]]
    return {
        "rating_true": true,
        "rating_pred": pred,
        "data": labelled,
        "train_df": true,
        "reco_df": reco,
    }


METRICS = sorted(set(pev.__all__) - {"evaluate"})


def test_the_list_is_complete():
    assert set(METRICS) == set(sev.__all__) - {"evaluate"}
    assert len(METRICS) == 18


@pytest.mark.parametrize("seed", [0, 1])
def test_every_metric_agrees_on_random_data(spark, seed):
    inputs = _random_inputs(seed)
    for name in METRICS:
        parameters = inspect.signature(getattr(pev, name)).parameters
        frames = [inputs[p] for p in parameters if p in inputs]
        want = getattr(pev, name)(*frames)
        got = getattr(sev, name)(*[spark.createDataFrame(f).coalesce(1) for f in frames])
        assert got == pytest.approx(want, abs=1e-9), name


@pytest.mark.parametrize("score_type", ["raw", "exp"])
@pytest.mark.parametrize("relevancy_method", ["top_k", "by_threshold"])
def test_graded_ndcg_agrees(spark, score_type, relevancy_method):
    inputs = _random_inputs(2)
    frames = [inputs["rating_true"], inputs["rating_pred"]]
    kw = {"score_type": score_type, "relevancy_method": relevancy_method, "threshold": 1.0}
    want = pev.ndcg_at_k(*frames, k=5, **kw)
    got = sev.ndcg_at_k(*[spark.createDataFrame(f).coalesce(1) for f in frames], k=5, **kw)
    assert got == pytest.approx(want, abs=1e-9)
    assert want != pytest.approx(pev.ndcg_at_k(*frames, k=5, relevancy_method=relevancy_method))
