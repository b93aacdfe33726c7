"""Evaluation metrics: rating, ranking, classification and beyond-accuracy.

Two engines with the same functions (names, signatures, meaning, values to 1e-9):

* :mod:`recommenders_kit.evaluation.pandas`: pandas frames on one machine, vectorised numpy;
* :mod:`recommenders_kit.evaluation.spark`: Spark DataFrames, computed by the executors.

Each engine has the modules ``rating``, ``ranking``, ``classification`` and ``beyond``, and an
``evaluate()`` that computes several metrics sharing the work they have in common::

    from recommenders_kit.evaluation.pandas import evaluate, ndcg_at_k
    from recommenders_kit.evaluation.spark import evaluate, ndcg_at_k   # the same on Spark
"""
