"""Criteo click prediction with LightGBM, one module per engine (the twin rule):

* :mod:`~recommenders_kit.models.lightgbm.pandas`: ``FeatureEncoder`` and
  ``LightGBMClickModel`` on one machine (the ``lightgbm`` package);
* :mod:`~recommenders_kit.models.lightgbm.spark`: the same two classes on Spark (SynapseML).

Both write and read the same model folder, so a model trained on Spark is served by the
scoring service exactly as one trained on pandas.
"""
