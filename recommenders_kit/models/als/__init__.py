"""Alternating least squares, one module per engine (the twin rule):

* :mod:`~recommenders_kit.models.als.spark`: Spark ALS, explicit or implicit feedback, for
  data on a cluster;
* :mod:`~recommenders_kit.models.als.pandas`: implicit-feedback ALS on one machine (the
  ``implicit`` package), the same methods and output frames on pandas.

Each module has its ``ALSRecommender`` and its ``RECOMMENDED_TOP_K`` configuration.
"""

from recommenders_kit.errors import InputError

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
