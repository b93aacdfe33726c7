"""The scoring web service: Azure ML entry script, request schemas, model kinds, local server.

* :mod:`~recommenders_kit.serving.score`: ``init()`` / ``run(raw)`` for Azure ML;
* :mod:`~recommenders_kit.serving.schema`: the requests and responses (pydantic), limits;
* :mod:`~recommenders_kit.serving.scorers`: click probabilities and top-k lookup;
* :mod:`~recommenders_kit.serving.bundle`: the top-k serving bundle (lists, popularity);
* :mod:`~recommenders_kit.serving.server`: Azure ML's inference server on this machine;
* :mod:`~recommenders_kit.serving.spark_serving`: the same answers from Spark Serving;
* :mod:`~recommenders_kit.serving.launch`: either server, here or in a child process.
"""
