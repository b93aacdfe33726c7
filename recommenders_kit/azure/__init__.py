"""Azure services: Blob Storage (artefacts), Cosmos DB (top-k store), Azure ML (deploy).

* :mod:`~recommenders_kit.azure.blob`: files, folders and DataFrames in a container;
* :mod:`~recommenders_kit.azure.cosmos`: per-user top-k lists, written from pandas or Spark;
* :mod:`~recommenders_kit.azure.ml`: register models, build environments, deploy endpoints.

Each module imports its Azure SDK only when used (``pip install recommenders_kit[azure]``).
"""
