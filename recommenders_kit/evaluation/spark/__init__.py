"""Every metric on Spark DataFrames, and :func:`evaluate` for several at once.

The pandas twin of this package is :mod:`recommenders_kit.evaluation.pandas`: the same names,
signatures and values.
"""

from recommenders_kit.evaluation.spark.beyond import (
    catalog_coverage,
    distributional_coverage,
    diversity,
    novelty,
)
from recommenders_kit.evaluation.spark.classification import auc, logloss
from recommenders_kit.evaluation.spark.evaluate import evaluate
from recommenders_kit.evaluation.spark.ranking import (
    hit_ratio_at_k,
    map,  # noqa: A004 - the metric's established name
    map_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    r_precision_at_k,
    recall_at_k,
)
from recommenders_kit.evaluation.spark.rating import exp_var, mae, rmse, rsquared

__all__ = [
    "auc",
    "catalog_coverage",
    "distributional_coverage",
    "diversity",
    "evaluate",
    "exp_var",
    "hit_ratio_at_k",
    "logloss",
    "mae",
    "map",
    "map_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "novelty",
    "precision_at_k",
    "r_precision_at_k",
    "recall_at_k",
    "rmse",
    "rsquared",
]
