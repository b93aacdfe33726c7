"""Models: ALS (``als``) and the LightGBM click model (``lightgbm``), each with a pandas and a
Spark twin; ``base`` holds the protocols every model follows."""
