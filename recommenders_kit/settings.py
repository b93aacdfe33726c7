"""Every environment variable the library reads, and the one way a yes/no variable is parsed.

=====================================  ======================================================
``RECOMMENDERS_KIT_CACHE``             the data cache directory
``RECOMMENDERS_KIT_OFFLINE``           yes: never download (errors name the file to place)
``RECOMMENDERS_KIT_MIRROR``            a host serving the data archives under their names
``RECOMMENDERS_KIT_SPARK_DATA``        a folder every Spark executor reads (cluster loads)
``RECOMMENDERS_KIT_SPARK_UI``          no: start local Spark sessions without the UI
``RECOMMENDERS_KIT_COSMOS_ENDPOINT``   the Cosmos DB account the scoring service reads
``RECOMMENDERS_KIT_COSMOS_KEY``        its key (else ``DefaultAzureCredential``)
``RECOMMENDERS_KIT_COSMOS_DATABASE``   its database (default ``recommendations``)
``RECOMMENDERS_KIT_COSMOS_CONTAINER``  its container (default ``topk``)
``RECOMMENDERS_KIT_COSMOS_VERIFY``     no: skip TLS verification (a local emulator only)
``RECOMMENDERS_KIT_DEBUG``             yes: the CLI prints tracebacks (as ``--debug``)
``SPARK_MASTER``                       the master of sessions the library starts
``MLFLOW_TRACKING_URI``                where sweeps log (default: ``mlflow.db`` here)
``AZURE_STORAGE_CONNECTION_STRING``    the Blob Storage account when none is passed
``AZUREML_MODEL_DIR``                  the model folder of the scoring service (Azure ML
                                       sets it; ``recommenders-kit serve`` too)
``GUNICORN_CMD_ARGS``                  extra gunicorn options for ``recommenders-kit serve``
``PATH``                               where ``deploy.mlflow.local_server``'s child finds
                                       uvicorn (this Python's scripts are put first)
=====================================  ======================================================

Every read goes through :func:`env_value` or :func:`env_flag` (a test checks that no other
module reads ``os.environ``).
"""

from __future__ import annotations

import os

from recommenders_kit.errors import InputError

CACHE_ENV = "RECOMMENDERS_KIT_CACHE"
OFFLINE_ENV = "RECOMMENDERS_KIT_OFFLINE"
MIRROR_ENV = "RECOMMENDERS_KIT_MIRROR"
SPARK_DATA_ENV = "RECOMMENDERS_KIT_SPARK_DATA"
SPARK_UI_ENV = "RECOMMENDERS_KIT_SPARK_UI"
COSMOS_ENV = "RECOMMENDERS_KIT_COSMOS_"  # + ENDPOINT, KEY, DATABASE, CONTAINER, VERIFY
DEBUG_ENV = "RECOMMENDERS_KIT_DEBUG"
SPARK_MASTER_ENV = "SPARK_MASTER"
MLFLOW_TRACKING_URI_ENV = "MLFLOW_TRACKING_URI"
AZURE_STORAGE_ENV = "AZURE_STORAGE_CONNECTION_STRING"
MODEL_DIR_ENV = "AZUREML_MODEL_DIR"
GUNICORN_ARGS_ENV = "GUNICORN_CMD_ARGS"
PATH_ENV = "PATH"

_YES = {"1", "true", "yes", "on"}
_NO = {"0", "false", "no", "off"}


def env_value(name: str, default: str | None = None) -> str | None:
    """The environment variable ``name`` without surrounding blanks; ``default`` when it is
    unset or empty.

    >>> os.environ["RK_DEMO_PATH"] = " /data "; env_value("RK_DEMO_PATH")
    '/data'
    >>> env_value("RK_UNSET_DEMO", "fallback")
    'fallback'
    """
    value = os.environ.get(name, "").strip()
    return value or default


def env_flag(name: str, default: bool = False) -> bool:
    """The yes/no environment variable ``name``: ``1/true/yes/on`` or ``0/false/no/off``
    (any case), ``default`` when unset or empty; anything else is a ``ValueError`` naming it.

    >>> os.environ["RK_DEMO"] = "Yes"; env_flag("RK_DEMO")
    True
    >>> env_flag("RK_UNSET_DEMO", default=True)
    True
    """
    value = (env_value(name) or "").lower()
    if not value:
        return default
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise InputError(f"${name} must be one of 1/true/yes/on or 0/false/no/off, got {value!r}")
