"""Alternating least squares, one module per engine (the twin rule):

* :mod:`~recommenders_kit.models.als.spark`: Spark ALS, explicit or implicit feedback, for
  data on a cluster;
* :mod:`~recommenders_kit.models.als.pandas`: implicit-feedback ALS on one machine (the
  ``implicit`` package), the same methods and output frames on pandas.

Each module has its ``ALSRecommender`` and its ``RECOMMENDED_TOP_K`` configuration;
:func:`to_pandas` turns a model of either engine into the pandas one (the same lists, no JVM).
"""

from typing import Any

import numpy as np

from recommenders_kit.errors import InputError, InputTypeError
from recommenders_kit.models.als._common import Factors
from recommenders_kit.models.base import require_fitted

#: The engines, by the name the quickstart, the sweeps and the CLI take (``engine=``): the
#: names of the twin modules.
ENGINES = ("spark", "pandas")
#: Other names accepted for an engine: ``implicit`` (the package the pandas twin trains with).
ENGINE_ALIASES = {"implicit": "pandas"}


def engine_name(engine: str) -> str:
    """The engine ``engine`` names, an alias resolved; ``InputError`` for anything else.

    >>> engine_name("implicit"), engine_name("spark")
    ('pandas', 'spark')
    """
    name = ENGINE_ALIASES.get(engine, engine)
    if name not in ENGINES:
        choices = [*ENGINES, *ENGINE_ALIASES]
        raise InputError(f"engine must be one of {choices}, got {engine!r}")
    return name


def to_pandas(model: Any) -> Any:
    """The pandas twin of a fitted ALS model of either engine: the same factors and training
    pairs, held in numpy on this machine, so ``recommend_k_items`` gives the same lists
    without a JVM (what an MLflow model of a Spark-trained ALS serves). A pandas model is
    returned as it is.

    The factors and the training pairs come to the driver: they are the model, as a
    one-machine scorer needs it (MovieLens 1M: 9,746 factor rows and 1M pairs). A Spark model
    loaded without its training pairs gives a model without them (see ``set_seen``). The
    parameters both engines share are kept; Spark's own (``nonnegative``, ...) only shaped the
    training and are dropped.
    """
    from recommenders_kit.models.als import pandas as als_pandas
    from recommenders_kit.models.als import spark as als_spark

    if isinstance(model, als_pandas.ALSRecommender):
        return model
    if not isinstance(model, als_spark.ALSRecommender):
        raise InputTypeError(f"model must be an ALSRecommender, got {type(model).__name__}")
    als = require_fitted(model.model, model)
    users = _factor_frame(als.userFactors)
    items = _factor_frame(als.itemFactors)
    params = model.get_params()
    shared = als_pandas.ALSRecommender().get_params().keys() & params.keys()
    out = als_pandas.ALSRecommender(**{k: params[k] for k in shared})
    out.model = Factors(users[0], items[0], users[1], items[1])
    out.fingerprint = model.fingerprint
    if model.seen is not None:
        out.set_seen(model.seen.select(model.col_user, model.col_item).toPandas())
    return out


def _factor_frame(factors: Any) -> tuple[np.ndarray, np.ndarray]:
    """(ids sorted, float32 factor rows in that order) of a Spark ALS factor frame."""
    frame = factors.orderBy("id").toPandas()
    ids = frame["id"].to_numpy(dtype=np.int64)
    rows = np.array(frame["features"].tolist(), dtype=np.float32).reshape(len(ids), -1)
    return ids, rows
