"""Hyperparameter sweeps with experiment tracking, locally and as Azure ML sweep jobs.

* :mod:`~recommenders_kit.tuning.space`: search spaces (``Choice``, ``Uniform``,
  ``LogUniform``, ``IntUniform``) defined once, turned into Optuna suggestions locally and
  into Azure ML sweep distributions in the cloud; ``ALS_SPACE`` and ``LIGHTGBM_SPACE``.
* :mod:`~recommenders_kit.tuning.objectives`: what a trial trains and measures (ALS: nDCG@k
  on a validation split carved from train; LightGBM: validation AUC), with intermediate
  values for pruning.
* :mod:`~recommenders_kit.tuning.problems`: those objectives on MovieLens and Criteo, with the
  test rows the sweep never sees.
* :mod:`~recommenders_kit.tuning.sweep`: :func:`run_sweep`: the optimizer, budgets, pruning,
  and MLflow tracking of every trial.
* :mod:`~recommenders_kit.tuning.azureml`: the same space and objective as an Azure ML sweep
  job (:mod:`~recommenders_kit.tuning.trial` is its command-line entry point).

Why Optuna (not hyperopt): define-by-run trials that report intermediate values, so bad
trials are pruned while they train (median pruning); a seeded TPE sampler for repeatable
sweeps; time and trial budgets in one call; an SQL storage that several workers can share;
parameter importance and plots out of the box; and it is actively maintained.
"""
