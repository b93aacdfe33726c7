"""The public signatures of the metrics, shared by the pandas and Spark modules (internal).

Each engine supplies ``compute(name, rating_true, rating_pred, **arguments)``; these factories
wrap it in a function with the metric's name and the library's keyword arguments, so both
engines expose exactly the same functions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from recommenders_kit.constants import (
    DEFAULT_ITEM_COL,
    DEFAULT_K,
    DEFAULT_PREDICTION_COL,
    DEFAULT_RATING_COL,
    DEFAULT_THRESHOLD,
    DEFAULT_USER_COL,
)


def ranking_metric(name: str, compute: Callable[..., float], doc: str) -> Callable[..., float]:
    def metric(
        rating_true: Any,
        rating_pred: Any,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
        relevancy_method: str = "top_k",
        k: int = DEFAULT_K,
        threshold: float = DEFAULT_THRESHOLD,
    ) -> float:
        return compute(
            name,
            rating_true,
            rating_pred,
            k=k,
            relevancy_method=relevancy_method,
            threshold=threshold,
            col_user=col_user,
            col_item=col_item,
            col_prediction=col_prediction,
        )

    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = doc
    return metric


def rating_metric(name: str, compute: Callable[..., float], doc: str) -> Callable[..., float]:
    def metric(
        rating_true: Any,
        rating_pred: Any,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
    ) -> float:
        return compute(
            name,
            rating_true,
            rating_pred,
            col_user=col_user,
            col_item=col_item,
            col_rating=col_rating,
            col_prediction=col_prediction,
        )

    metric.__name__ = metric.__qualname__ = name
    metric.__doc__ = doc
    return metric


DEFAULT_METRICS = ("map", "ndcg_at_k", "precision_at_k", "recall_at_k")


def evaluator(
    ranking_names: Iterable[str],
    rating_names: Iterable[str],
    ranking_values: Callable[..., dict[str, float]],
    rating_values: Callable[..., dict[str, float]],
    doc: str,
) -> Callable[..., dict[str, float]]:
    """An ``evaluate()`` for one engine: ``ranking_values(rating_true, rating_pred, names,
    k=..., relevancy_method=..., threshold=..., col_*)`` and ``rating_values(rating_true,
    rating_pred, names, col_*)`` each compute several metrics from one shared merge."""
    ranking_names, rating_names = set(ranking_names), set(rating_names)

    def evaluate(
        rating_true: Any,
        rating_pred: Any,
        metrics: Sequence[str] = DEFAULT_METRICS,
        k: int = DEFAULT_K,
        relevancy_method: str = "top_k",
        threshold: float = DEFAULT_THRESHOLD,
        col_user: str = DEFAULT_USER_COL,
        col_item: str = DEFAULT_ITEM_COL,
        col_rating: str = DEFAULT_RATING_COL,
        col_prediction: str = DEFAULT_PREDICTION_COL,
    ) -> dict[str, float]:
        metrics = check_metric_names(metrics, ranking_names, rating_names)
        result: dict[str, float] = {}
        wanted = [m for m in metrics if m in ranking_names]
        if wanted:
            result.update(
                ranking_values(
                    rating_true,
                    rating_pred,
                    wanted,
                    k=k,
                    relevancy_method=relevancy_method,
                    threshold=threshold,
                    col_user=col_user,
                    col_item=col_item,
                    col_prediction=col_prediction,
                )
            )
        wanted = [m for m in metrics if m in rating_names]
        if wanted:
            result.update(
                rating_values(
                    rating_true,
                    rating_pred,
                    wanted,
                    col_user=col_user,
                    col_item=col_item,
                    col_rating=col_rating,
                    col_prediction=col_prediction,
                )
            )
        return {m: result[m] for m in metrics}

    evaluate.__doc__ = doc
    return evaluate


def check_metric_names(metrics: Sequence[str], *known: Iterable[str]) -> list[str]:
    """``metrics`` as a list, or ``ValueError`` naming the unknown ones and the valid ones."""
    metrics = list(metrics)
    valid = sorted(set().union(*known))
    unknown = [m for m in metrics if m not in valid]
    if unknown or not metrics:
        raise ValueError(f"metrics must name some of {valid}, unknown: {unknown}")
    return metrics
