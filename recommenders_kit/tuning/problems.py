"""The sweeps the CLI and the Azure ML trial script run: an objective on a named data set, and
the test rows the sweep never sees.

* :func:`movielens`: a recommender (ALS, EASE, popularity) on MovieLens (Spark or pandas),
  75/25 random split; the objective validates inside the 75%
  (:func:`~recommenders_kit.tuning.objectives.holdout`);
* :func:`criteo_lightgbm`: the click model on the Criteo sample or generated rows, the first
  80% (row order) for the sweep.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from recommenders_kit._validate import require_choice
from recommenders_kit.constants import DEFAULT_K, DEFAULT_SPLIT_SEED
from recommenders_kit.datasets.movielens import DEFAULT_SIZE
from recommenders_kit.errors import InputError
from recommenders_kit.models import RECOMMENDERS
from recommenders_kit.models.als import engine_name
from recommenders_kit.tuning.objectives import LightGBMObjective, RecommenderObjective, holdout

if TYPE_CHECKING:
    import pandas as pd

#: The share of the Criteo rows kept out of a LightGBM sweep as its test rows (the last ones).
CRITEO_TEST_FRACTION = 0.2
#: The Criteo data a sweep runs on: the real sample, or generated rows.
CRITEO_DATA = ("sample", "generated")
#: How many rows ``"generated"`` means unless told otherwise.
GENERATED_ROWS = 100_000


def movielens(
    size: str = DEFAULT_SIZE,
    model: str = "als",
    engine: str = "spark",
    split_seed: int = DEFAULT_SPLIT_SEED,
    k: int = DEFAULT_K,
    spark: Any = None,
    **kwargs: Any,
) -> tuple[RecommenderObjective, Any]:
    """:func:`holdout` of recommender ``model`` on MovieLens ``size`` (75/25), loaded for
    ``engine``: ``"spark"`` (the session ``spark``, else
    :func:`~recommenders_kit.spark.start_or_get_spark`) or ``"pandas"`` (alias
    ``"implicit"``)."""
    from recommenders_kit.datasets import movielens as data

    require_choice(model, list(RECOMMENDERS), "model")  # before any download
    if engine_name(engine) == "pandas":
        ratings = data.load_pandas_df(size)
    else:
        from recommenders_kit.spark import start_or_get_spark

        data.download(size)  # a missing or malformed file fails before Spark starts
        ratings = data.load_spark_df(spark or start_or_get_spark(f"tune-{model}"), size)
    return holdout(ratings, split_seed, model=model, k=k, **kwargs)


def criteo_lightgbm(
    data: str = CRITEO_DATA[0], rows: int = GENERATED_ROWS, seed: int = 0, **kwargs: Any
) -> tuple[LightGBMObjective, pd.DataFrame]:
    """The LightGBM objective on the Criteo ``sample`` or ``rows`` generated rows: the first
    80% (row order) for the sweep, the last :data:`CRITEO_TEST_FRACTION` returned as the test
    rows."""
    if data == "sample":
        from recommenders_kit.datasets import criteo

        frame = criteo.load_pandas_df("sample")
    elif data == "generated":
        from recommenders_kit.datasets.criteo_synthetic import generate

        frame, _ = generate(rows, seed=seed)
    else:
        raise InputError(f"data must be one of {list(CRITEO_DATA)}, got {data!r}")
    cut = int(len(frame) * (1 - CRITEO_TEST_FRACTION))
    return LightGBMObjective(frame.iloc[:cut], **kwargs), frame.iloc[cut:]
