"""Where data, models and recommendations are kept: the top-k document format and its stores.

* :mod:`~recommenders_kit.storage.topk`: top-k documents, the ``TopKStore`` protocol, the
  local store;
* :mod:`~recommenders_kit.storage.cosmos`: per-user top-k lists in Azure Cosmos DB;
* :mod:`~recommenders_kit.storage.blob`: files, folders and DataFrames in Azure Blob Storage.

Each module imports its Azure SDK only when used (``pip install recommenders_kit[azure]``).
"""
