"""Evaluation metrics: rating, ranking, classification and beyond-accuracy.

pandas/numpy implementations live in ``rating``, ``ranking``, ``classification`` and
``beyond``; ``spark`` holds the same metrics over Spark DataFrames. :func:`evaluate` computes
several metrics in one call, sharing the work they have in common.
"""

from recommenders_kit.evaluation.evaluate import evaluate

__all__ = ["evaluate"]
