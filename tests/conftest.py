"""Session-wide test setup.

* The data cache is a fresh temporary directory; nothing touches the user's cache.
* A loopback HTTP server plays the role of the official hosts: it serves archives built from
  the real files in ``../shared/data`` and is set as ``RECOMMENDERS_KIT_MIRROR``, and the
  dataset registries carry the checksums of those archives. Every loader in every test thus
  goes through the real download, verify and extract path, and no test reaches the internet.
* Spark runs as one real local session (``local[2]``, UI off) shared by all tests.
* The longest test modules run first: ``scripts/test.sh`` runs the suite in two processes,
  each taking whole modules in collection order, so a long one does not end a run alone.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from tests.support import data
from tests.support.http_server import FileServer

#: Test files and folders, longest first (minutes on 2 cores: the sweep's 20 trials 5, the
#: operationalization notebooks 4, the standalone cluster 2, the other notebooks 4, the local
#: servers 5); everything else follows in its own order.
LONGEST_FIRST = (
    "tests/notebooks/test_als_sweep.py",
    "tests/notebooks/test_o16n.py",
    "tests/cluster/",
    "tests/notebooks/",
    "tests/integration/",
)
ROOT = Path(__file__).resolve().parents[1]

os.environ["RECOMMENDERS_KIT_SPARK_UI"] = "0"
os.environ.pop("RECOMMENDERS_KIT_OFFLINE", None)
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")


@pytest.fixture(scope="session")
def archives() -> dict[str, bytes]:
    """Archive name -> bytes, laid out like the official ones."""
    return {
        "ml-100k.zip": data.ml100k_zip(),
        "ml-1m.zip": data.ml1m_zip(),
        "ml-20m.zip": data.ml_csv_zip("ml-20m"),
        "dac_sample.tar.gz": data.criteo_tar_gz(),
    }


@pytest.fixture(scope="session", autouse=True)
def mirror(archives, tmp_path_factory):
    """The loopback mirror and a private cache, with registries pointing at the test archives."""
    from recommenders_kit.datasets import criteo, movielens

    with FileServer(archives) as server, pytest.MonkeyPatch.context() as mp:
        mp.setenv("RECOMMENDERS_KIT_MIRROR", server.url)
        mp.setenv("RECOMMENDERS_KIT_CACHE", str(tmp_path_factory.mktemp("cache")))
        for size, name in [("100k", "ml-100k.zip"), ("1m", "ml-1m.zip"), ("20m", "ml-20m.zip")]:
            entry = dataclasses.replace(
                movielens.DATASETS[size], md5=None, sha256=data.sha256(archives[name])
            )
            mp.setitem(movielens.DATASETS, size, entry)
        entry = dataclasses.replace(
            criteo.DATASETS["sample"], sha256=data.sha256(archives["dac_sample.tar.gz"])
        )
        mp.setitem(criteo.DATASETS, "sample", entry)
        yield server


@pytest.fixture(scope="session")
def spark():
    """The session loads the SynapseML jars (from the Ivy cache filled by scripts/setup.sh)."""
    from recommenders_kit.spark import SYNAPSEML_PACKAGE, start_or_get_spark

    session = start_or_get_spark(
        "recommenders_kit-tests", master="local[2]", memory="3g", packages=[SYNAPSEML_PACKAGE]
    )
    yield session
    session.stop()


@pytest.fixture(scope="session")
def ml100k():
    """The real MovieLens 100k ratings (pandas), loaded through the library."""
    from recommenders_kit.datasets import movielens

    return movielens.load_pandas_df("100k")


@pytest.fixture(scope="session")
def azurite(tmp_path_factory):
    """Azurite's Blob service on 127.0.0.1 for the session; yields its connection string."""
    from tests.support.local_servers import azurite as start

    with start(tmp_path_factory.mktemp("azurite")) as connection_string:
        yield connection_string


@pytest.fixture(scope="session")
def cosmos_endpoint():
    """The local Cosmos DB SQL API server for the session; yields its endpoint URL."""
    from tests.support.local_servers import cosmos

    with cosmos() as endpoint:
        yield endpoint


@pytest.fixture(scope="session")
def click_model_dir(tmp_path_factory):
    """A small LightGBM click model trained on generated rows, saved as the library saves it."""
    from recommenders_kit.datasets.criteo_synthetic import generate
    from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

    frame, _ = generate(5000, seed=11)
    model = LightGBMClickModel(num_boost_round=30, progress=False).fit(frame)
    return Path(model.save(tmp_path_factory.mktemp("models") / "criteo"))


@pytest.fixture(scope="session")
def criteo_rows():
    """The real Criteo rows (pandas) and the same rows as JSON request rows (null = missing)."""
    from recommenders_kit.datasets import criteo
    from recommenders_kit.serving.schema import request_rows

    frame = criteo.load_pandas_df("sample")
    return frame, request_rows(frame.drop(columns="label"))


@pytest.fixture(scope="session")
def small_als(ml100k):
    """A pandas ALS fitted on MovieLens 100k in seconds (rank 16, 5 iterations, one thread)."""
    from recommenders_kit.models.als.pandas import ALSRecommender

    return ALSRecommender(rank=16, max_iter=5, num_threads=1).fit(ml100k)


@pytest.fixture(scope="session")
def click_rows():
    """4,000 generated Criteo-shaped rows (pandas, with the label)."""
    from recommenders_kit.datasets.criteo_synthetic import generate

    frame, _ = generate(4000, seed=5)
    return frame


@pytest.fixture(scope="session")
def small_click(click_rows):
    """A pandas LightGBM click model fitted on ``click_rows`` (20 rounds)."""
    from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

    return LightGBMClickModel(num_boost_round=20, progress=False).fit(click_rows)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Order the modules by :data:`LONGEST_FIRST` (a stable sort: each module's tests stay
    together, in their order)."""

    def rank(item: pytest.Item) -> int:
        where = item.path.relative_to(ROOT).as_posix()
        return next(
            (i for i, p in enumerate(LONGEST_FIRST) if where.startswith(p)), len(LONGEST_FIRST)
        )

    items.sort(key=rank)
