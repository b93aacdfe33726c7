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
=====================================  ======================================================
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

_YES = {"1", "true", "yes", "on"}
_NO = {"0", "false", "no", "off"}


def env_flag(name: str, default: bool = False) -> bool:
    """The yes/no environment variable ``name``: ``1/true/yes/on`` or ``0/false/no/off``
    (any case), ``default`` when unset or empty; anything else is a ``ValueError`` naming it.

    >>> os.environ["RK_DEMO"] = "Yes"; env_flag("RK_DEMO")
    True
    >>> env_flag("RK_UNSET_DEMO", default=True)
    True
    """
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return default
    if value in _YES:
        return True
    if value in _NO:
        return False
    raise InputError(f"${name} must be one of 1/true/yes/on or 0/false/no/off, got {value!r}")
