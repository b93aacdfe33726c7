"""Alternating least squares, one module per engine (the twin rule):

* :mod:`~recommenders_kit.models.als.spark`: Spark ALS, explicit or implicit feedback, for
  data on a cluster;
* :mod:`~recommenders_kit.models.als.pandas`: implicit-feedback ALS on one machine (the
  ``implicit`` package), the same methods and output frames on pandas.

Each module has its ``ALSRecommender`` and its ``RECOMMENDED_TOP_K`` configuration.
"""

#: The engines, by the name the quickstart, the sweeps and the CLI take (``engine=``).
ENGINES = ("spark", "implicit")
