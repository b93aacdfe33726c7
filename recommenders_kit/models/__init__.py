"""Models: Spark ALS (``als``) and the LightGBM click model (``lightgbm``)."""
