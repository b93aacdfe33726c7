"""Search-space dimensions: what Optuna draws, what Azure ML receives, what a trial reads."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest

from recommenders_kit.models import RECOMMENDERS
from recommenders_kit.tuning.space import (
    ALS_IMPLICIT_SPACE,
    ALS_SPACE,
    EASE_SPACE,
    LIGHTGBM_SPACE,
    POPULARITY_SPACE,
    SPACES,
    Choice,
    IntUniform,
    LogUniform,
    Uniform,
    parse,
    recommender_space,
    sample,
)

SPACE = {
    "rank": IntUniform(5, 9),
    "reg": LogUniform(1e-3, 1.0),
    "frac": Uniform(0.5, 1.0),
    "implicit": Choice((True, False)),
}


def _draws(space, n=400):
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=3))
    draws = []

    def objective(trial):
        draws.append(sample(space, trial))
        return 0.0

    study.optimize(objective, n_trials=n)
    return draws


def test_draws_stay_in_bounds_with_the_right_types_and_scale():
    draws = _draws(SPACE)
    ranks = [d["rank"] for d in draws]
    assert all(isinstance(r, int) for r in ranks)
    assert set(ranks) == {5, 6, 7, 8, 9}
    reg = np.array([d["reg"] for d in draws])
    assert reg.min() >= 1e-3
    assert reg.max() <= 1.0
    # log-uniform: the median of the draws sits near the geometric mean (0.0316), far below
    # the arithmetic mean of the bounds (0.5)
    assert 0.01 < np.median(reg) < 0.1
    frac = np.array([d["frac"] for d in draws])
    assert frac.min() >= 0.5
    assert frac.max() <= 1.0
    assert 0.7 < np.median(frac) < 0.8
    assert {d["implicit"] for d in draws} == {True, False}


def test_fixed_trial_values_pass_through():
    values = {"rank": 7, "reg": 0.05, "frac": 0.9, "implicit": False}
    assert sample(SPACE, optuna.trial.FixedTrial(values)) == values


def test_azure_distributions():
    from azure.ai.ml.sweep import Choice as AzureChoice
    from azure.ai.ml.sweep import LogUniform as AzureLogUniform
    from azure.ai.ml.sweep import Uniform as AzureUniform

    rank, reg, frac, implicit = (SPACE[n].to_azure() for n in SPACE)
    assert isinstance(rank, AzureChoice)
    assert rank.values == [5, 6, 7, 8, 9]
    # Azure ML's LogUniform takes the natural-log bounds: exp(uniform(min, max))
    assert isinstance(reg, AzureLogUniform)
    assert (reg.min_value, reg.max_value) == pytest.approx((math.log(1e-3), 0.0))
    assert isinstance(frac, AzureUniform)
    assert (frac.min_value, frac.max_value) == (0.5, 1.0)
    assert isinstance(implicit, AzureChoice)
    assert implicit.values == ["true", "false"]


def test_parse_reads_what_an_azure_trial_receives():
    got = parse(SPACE, ["rank=7.0", "reg=0.002", "frac=0.75", "implicit=true"])
    assert got == {"rank": 7, "reg": 0.002, "frac": 0.75, "implicit": True}
    assert type(got["rank"]) is int
    assert parse(SPACE, ["implicit=False"]) == {"implicit": False}
    with pytest.raises(ValueError, match="unknown parameter 'rnk'"):
        parse(SPACE, ["rnk=3"])
    with pytest.raises(ValueError, match="parameter rank: '7.5' is not an integer"):
        parse(SPACE, ["rank=7.5"])
    with pytest.raises(ValueError, match="parameter implicit: 'yes' is not one of"):
        parse(SPACE, ["implicit=yes"])
    with pytest.raises(ValueError, match="name=value"):
        parse(SPACE, ["rank"])


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Uniform(1.0, 1.0), "low < high"),
        (lambda: IntUniform(5, 2), "low < high"),
        (lambda: LogUniform(0.0, 1.0), "low > 0"),
        (lambda: Choice(()), "at least one value"),
    ],
)
def test_bad_bounds(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_library_spaces():
    assert SPACES == {
        "als": ALS_SPACE,
        "ease": EASE_SPACE,
        "popularity": POPULARITY_SPACE,
        "lightgbm": LIGHTGBM_SPACE,
    }
    assert set(SPACES) - {"lightgbm"} == set(RECOMMENDERS)  # every recommender can be tuned
    assert recommender_space("als", "pandas") is ALS_IMPLICIT_SPACE
    assert recommender_space("als", "spark") is ALS_SPACE
    assert recommender_space("ease", "pandas") is recommender_space("ease", "spark")
    with pytest.raises(ValueError, match="model must be one of"):
        recommender_space("bpr", "pandas")
    assert set(ALS_SPACE) == {"rank", "reg_param", "alpha", "max_iter", "implicit_prefs"}
    assert set(LIGHTGBM_SPACE) == {
        "num_leaves",
        "learning_rate",
        "min_data_in_leaf",
        "feature_fraction",
        "min_count",
    }
