"""What both metric engines share: metric names, argument checks, the ideal DCG (internal).

The pandas (:mod:`recommenders_kit.evaluation.pandas`) and Spark
(:mod:`recommenders_kit.evaluation.spark`) engines define each metric as its own function
with the same signature; the checks they run at their edge live here so that the two cannot
accept different arguments or word their errors differently.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from recommenders_kit._validate import require_choice, require_positive_int
from recommenders_kit.errors import InputError

RELEVANCY_METHODS = ("top_k", "by_threshold")
#: nDCG's gain of a relevant item: 1, its rating, or ``2 ** rating - 1``.
SCORE_TYPES = ("binary", "raw", "exp")
#: nDCG's discount logarithm; DCG / IDCG is the same with either (the base cancels out).
DISCOUNT_TYPES = ("loge", "log2")

#: Ranking metrics, in the order of the module docstrings.
RANKING_METRICS = (
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "map_at_k",
    "map",
    "r_precision_at_k",
    "hit_ratio_at_k",
    "mrr_at_k",
)
#: Rating (pointwise) metrics.
RATING_METRICS = ("rmse", "mae", "rsquared", "exp_var")
#: What ``evaluate()`` computes when no metrics are named.
DEFAULT_METRICS = ("map", "ndcg_at_k", "precision_at_k", "recall_at_k")

#: Probabilities are clipped to ``[LOGLOSS_EPS, 1 - LOGLOSS_EPS]`` by ``logloss``.
LOGLOSS_EPS = 1e-15


def check_ranking_args(k: int, relevancy_method: str) -> None:
    """``k`` is an int >= 1 and ``relevancy_method`` one of :data:`RELEVANCY_METHODS`."""
    require_positive_int(k, "k")
    require_choice(relevancy_method, RELEVANCY_METHODS, "relevancy_method")


def check_ndcg_args(score_type: str, discfun_type: str) -> None:
    """``score_type`` one of :data:`SCORE_TYPES`, ``discfun_type`` of :data:`DISCOUNT_TYPES`."""
    require_choice(score_type, SCORE_TYPES, "score_type")
    require_choice(discfun_type, DISCOUNT_TYPES, "discfun_type")


def check_eps(eps: float) -> None:
    """``logloss``'s clipping bound lies in (0, 0.5)."""
    if not 0 < eps < 0.5:
        raise InputError(f"eps must be in (0, 0.5), got {eps}")


def check_metric_names(metrics: str | Iterable[str]) -> list[str]:
    """``metrics`` as a list of known metric names, or ``ValueError`` naming the unknown ones
    and the valid ones."""
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    valid = sorted(RANKING_METRICS + RATING_METRICS)
    unknown = [m for m in names if m not in valid]
    if unknown or not names:
        raise InputError(f"metrics must name some of {valid}, unknown: {unknown}")
    return names


def ideal_dcg(k: int) -> list[float]:
    """``[IDCG of 0 hits, of 1 hit, ..., of k hits]``: the best DCG with that many hits,
    ``sum over ranks r = 1..n of 1 / log2(1 + r)``."""
    out = [0.0]
    for rank in range(1, k + 1):
        out.append(out[-1] + 1.0 / math.log2(rank + 1))
    return out
