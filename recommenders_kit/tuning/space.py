"""Search spaces, defined once for local sweeps (Optuna) and Azure ML sweep jobs.

Each dimension knows how to ask an Optuna trial for a value (``suggest``), what the Azure ML
sweep distribution is (``to_azure``), and how to read back a value an Azure ML trial receives
on its command line (``parse``)::

    space = {"rank": IntUniform(5, 100), "reg_param": LogUniform(1e-3, 1.0)}
    params = sample(space, trial)                  # locally
    job = sweep_job(space, ...)                    # the same space in the cloud
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from recommenders_kit._validate import require_choice
from recommenders_kit.errors import InputError
from recommenders_kit.models import RECOMMENDERS


@dataclass(frozen=True)
class Choice:
    """One of ``values`` (categorical)."""

    values: tuple

    def __post_init__(self) -> None:
        if not self.values:
            raise InputError("Choice needs at least one value")

    def suggest(self, trial: Any, name: str) -> Any:
        return trial.suggest_categorical(name, list(self.values))

    def to_azure(self):
        from azure.ai.ml.sweep import Choice as AzureChoice

        # booleans as "true"/"false": the SDK would otherwise write them as 1/0
        return AzureChoice(values=[_text(v) for v in self.values])

    def parse(self, text: str) -> Any:
        for value in self.values:
            if text == _text(value) or text == str(value):
                return value
        raise InputError(f"{text!r} is not one of {list(self.values)}")


@dataclass(frozen=True)
class Uniform:
    """A float drawn uniformly from [low, high]."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _require_bounds(self)

    def suggest(self, trial: Any, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high)

    def to_azure(self):
        from azure.ai.ml.sweep import Uniform as AzureUniform

        return AzureUniform(min_value=self.low, max_value=self.high)

    def parse(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise InputError(f"{text!r} is not a number") from None


@dataclass(frozen=True)
class LogUniform(Uniform):
    """A float whose logarithm is uniform on [log low, log high] (``low > 0``)."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.low <= 0:
            raise InputError(f"LogUniform needs low > 0, got {self.low}")

    def suggest(self, trial: Any, name: str) -> float:
        return trial.suggest_float(name, self.low, self.high, log=True)

    def to_azure(self):
        from azure.ai.ml.sweep import LogUniform as AzureLogUniform

        # Azure ML's LogUniform takes the bounds of the exponent (natural log)
        return AzureLogUniform(min_value=math.log(self.low), max_value=math.log(self.high))


@dataclass(frozen=True)
class IntUniform:
    """An integer drawn uniformly from [low, high]."""

    low: int
    high: int

    def __post_init__(self) -> None:
        _require_bounds(self)

    def suggest(self, trial: Any, name: str) -> int:
        return trial.suggest_int(name, self.low, self.high)

    def to_azure(self):
        from azure.ai.ml.sweep import Choice as AzureChoice

        # spelled out: Azure ML's integer distributions (Randint, QUniform) start at 0 or
        # hand the command a float ("12.0")
        return AzureChoice(values=list(range(self.low, self.high + 1)))

    def parse(self, text: str) -> int:
        try:
            value = float(text)  # Azure ML may hand an integer over as "12.0"
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or value != int(value):
            raise InputError(f"{text!r} is not an integer")
        return int(value)


Dimension = Choice | Uniform | LogUniform | IntUniform


def _require_bounds(dim: Uniform | IntUniform) -> None:
    if not dim.low < dim.high:
        raise InputError(f"{type(dim).__name__} needs low < high, got {dim.low}, {dim.high}")


def _text(value: Any) -> Any:
    return str(value).lower() if isinstance(value, bool) else value


def sample(space: dict[str, Dimension], trial: Any) -> dict[str, Any]:
    """One value per dimension from an Optuna trial."""
    return {name: dim.suggest(trial, name) for name, dim in space.items()}


def parse(space: dict[str, Dimension], pairs: list[str]) -> dict[str, Any]:
    """``["rank=12", "implicit_prefs=true"]`` -> ``{"rank": 12, "implicit_prefs": True}``,
    each value read by its dimension (the type; bounds are the sampler's business, so a
    narrower or wider space over the same names reads the same); errors name the parameter."""
    params = {}
    for pair in pairs:
        name, sep, text = pair.partition("=")
        if not sep or not name:
            raise InputError(f"a parameter takes name=value, got {pair!r}")
        if name not in space:
            raise InputError(f"unknown parameter {name!r}; the space has {sorted(space)}")
        try:
            params[name] = space[name].parse(text)
        except ValueError as e:
            raise InputError(f"parameter {name}: {e}") from None
    return params


#: ALS: rank, regularisation, implicit confidence scale, iterations, and the feedback kind.
ALS_SPACE: dict[str, Dimension] = {
    "rank": IntUniform(5, 100),
    "reg_param": LogUniform(1e-3, 1.0),
    "alpha": LogUniform(0.1, 50.0),
    "max_iter": IntUniform(5, 20),
    "implicit_prefs": Choice((True, False)),
}

#: ALS on one machine (``implicit``): its regularisation is not scaled by the number of
#: ratings (see :mod:`recommenders_kit.models.als.pandas`), hence far larger values.
ALS_IMPLICIT_SPACE: dict[str, Dimension] = {
    "rank": IntUniform(16, 200),
    "reg_param": LogUniform(1.0, 300.0),
    "alpha": LogUniform(0.1, 20.0),
    "max_iter": IntUniform(5, 25),
}

#: LightGBM click model: tree shape, learning rate, leaf size, column sampling, and the
#: encoders' rare-value threshold.
LIGHTGBM_SPACE: dict[str, Dimension] = {
    "num_leaves": IntUniform(15, 255),
    "learning_rate": LogUniform(0.01, 0.3),
    "min_data_in_leaf": IntUniform(10, 500),
    "feature_fraction": Uniform(0.5, 1.0),
    "min_count": IntUniform(1, 100),
}

#: EASE: the L2 penalty on the Gram matrix's diagonal, and what an interaction counts for.
EASE_SPACE: dict[str, Dimension] = {
    "lam": LogUniform(10.0, 5000.0),
    "weighting": Choice(("binary", "rating")),
}

#: Popularity: count the rows, or sum the ratings (two trials cover it).
POPULARITY_SPACE: dict[str, Dimension] = {"weighting": Choice(("binary", "rating"))}

#: The search space of each objective kind: the recommenders (``als``, ``ease``,
#: ``popularity``; the Spark engine's for ALS) and ``lightgbm``.
SPACES: dict[str, dict[str, Dimension]] = {
    "als": ALS_SPACE,
    "ease": EASE_SPACE,
    "popularity": POPULARITY_SPACE,
    "lightgbm": LIGHTGBM_SPACE,
}


def recommender_space(model: str, engine: str) -> dict[str, Dimension]:
    """The search space of recommender ``model`` on ``engine`` (``"spark"`` or ``"pandas"``):
    the kind's, except one-machine ALS's own (:data:`ALS_IMPLICIT_SPACE`).

    >>> sorted(recommender_space("ease", "pandas"))
    ['lam', 'weighting']
    """
    require_choice(model, list(RECOMMENDERS), "model")
    if (model, engine) == ("als", "pandas"):
        return ALS_IMPLICIT_SPACE
    return SPACES[model]
