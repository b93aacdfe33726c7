"""Installing on a Databricks cluster through the real databricks-sdk, against a loopback
server answering the REST endpoints it calls: what was uploaded and installed, the runtime
check, and the built wheel in a venv that already has pyspark (as a runtime does)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from recommenders_kit.deploy import databricks as dbx
from recommenders_kit.spark import SYNAPSEML_PACKAGE
from tests.support import venvs
from tests.support.databricks_api import DatabricksAPI
from tests.support.mlflow_store import sqlite_tracking

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> Path:
    """A copy of the checkout's packaging files, with an earlier build's leftover module."""
    copy = tmp_path_factory.mktemp("checkout")
    for name in ("pyproject.toml", "setup.cfg", "README.md"):
        shutil.copy(ROOT / name, copy / name)
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(ROOT / "recommenders_kit", copy / "recommenders_kit", ignore=ignore)
    stale = copy / "build" / "lib" / "recommenders_kit" / "deleted_since.py"
    stale.parent.mkdir(parents=True)
    stale.write_text("X = 1\n")
    return copy


@pytest.fixture(scope="module")
def wheel(source, tmp_path_factory) -> Path:
    return dbx.build_wheel(source, tmp_path_factory.mktemp("dist"))


def test_the_wheel_holds_the_sources_modules_and_nothing_an_earlier_build_left(source, wheel):
    package = source / "recommenders_kit"
    modules = {p.relative_to(source).as_posix() for p in package.rglob("*.py")}
    with zipfile.ZipFile(wheel) as archive:
        packed = {name for name in archive.namelist() if name.endswith(".py")}
    assert packed == modules
    assert "recommenders_kit/deleted_since.py" not in packed
    assert [p.name for p in wheel.parent.iterdir()] == [wheel.name]  # no sdist beside it


def _client(api: DatabricksAPI):
    from databricks.sdk import WorkspaceClient

    return WorkspaceClient(host=api.url, token="dapi-test")


@pytest.mark.parametrize(
    ("target", "uploaded"),
    [
        ("/Volumes/main/default/libs", "/Volumes/main/default/libs/{name}"),
        ("dbfs:/FileStore/libs/", "dbfs:/FileStore/libs/{name}"),
    ],
)
def test_uploads_the_wheel_and_installs_it_with_synapseml(wheel, target, uploaded):
    with DatabricksAPI(spark_version="15.4.x-scala2.12") as api:
        done = dbx.install("c-1", target, wheel=wheel, client=_client(api))
    remote = uploaded.format(name=wheel.name)
    assert api.files == {remote: wheel.read_bytes()}
    assert api.installed == [
        {
            "cluster_id": "c-1",
            "libraries": [{"whl": remote}, {"maven": {"coordinates": SYNAPSEML_PACKAGE}}],
        }
    ]
    assert done.runtime == "15.4.x-scala2.12"


def test_o16n_adds_the_azure_packages_but_not_the_scoring_server(wheel):
    with DatabricksAPI() as api:
        dbx.install(
            "c-1", "/Volumes/main/default/libs", wheel=wheel, o16n=True, client=_client(api)
        )
    pypi = [lib["pypi"]["package"] for lib in api.installed[0]["libraries"] if "pypi" in lib]
    names = {p.split(">")[0].split("=")[0] for p in pypi}
    assert {"azure-cosmos", "azure-storage-blob", "azure-ai-ml", "azure-identity"} <= names
    assert "azureml-inference-server-http" not in names
    assert pypi == dbx.o16n_packages()


@pytest.mark.parametrize("runtime", ["13.3.x-scala2.12", "16.4.x-scala2.13", "17.0.x-scala2.13"])
def test_a_runtime_without_spark_35_scala_212_is_refused_before_any_upload(wheel, runtime):
    refused = pytest.raises(ValueError, match=f"the cluster runs Databricks Runtime {runtime}")
    with DatabricksAPI(spark_version=runtime) as api, refused:
        dbx.install("c-1", "/Volumes/main/default/libs", wheel=wheel, client=_client(api))
    assert api.files == {}
    assert api.installed == []


def test_bad_targets_and_a_folder_that_is_no_checkout(tmp_path):
    with pytest.raises(ValueError, match="target must be a Unity Catalog volume folder"):
        dbx.install("c-1", "/tmp/libs", wheel=tmp_path / "x.whl", client=object())
    with pytest.raises(FileNotFoundError, match="is not a source checkout"):
        dbx.build_wheel(tmp_path, tmp_path / "out")


def test_the_cli_command(wheel, tmp_path):
    with DatabricksAPI() as api:
        env = {**os.environ, "DATABRICKS_HOST": api.url, "DATABRICKS_TOKEN": "dapi-test"}
        cmd = [sys.executable, "-m", "recommenders_kit.cli", "databricks", "install"]
        cmd += ["--cluster-id", "c-1", "--target", "/Volumes/m/d/libs", "--wheel", str(wheel)]
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"whl /Volumes/m/d/libs/{wheel.name}" in result.stdout
    assert SYNAPSEML_PACKAGE in result.stdout
    assert len(api.installed) == 1


def test_the_wheel_installs_beside_a_runtimes_pyspark_without_touching_it(wheel, tmp_path):
    requires = zipfile.ZipFile(wheel).read(
        next(n for n in zipfile.ZipFile(wheel).namelist() if n.endswith("METADATA"))
    )
    unconditional = [
        line
        for line in requires.decode().splitlines()
        if line.startswith("Requires-Dist:") and "extra ==" not in line
    ]
    assert not [line for line in unconditional if "pyspark" in line]
    python = venvs.new_venv(tmp_path / "runtime")
    venvs.preinstall(python, "pyspark", "py4j")
    import pyspark

    pin = f"pyspark=={pyspark.__version__}"
    before = venvs.frozen(python)
    venvs.install(python, str(wheel))
    after = venvs.frozen(python)
    assert pin in before
    assert pin in after
    assert any(line.startswith("recommenders-kit") for line in after)


def test_serving_endpoint_is_created_through_the_sdk():
    config = dbx.serving_endpoint_config(
        "movielens-als",
        "main.recs.movielens_als",
        3,
        workload_size="Medium",
        environment_vars={"A": "1"},
    )
    with DatabricksAPI() as api:
        endpoint = dbx.create_serving_endpoint(config, client=_client(api))
    method, path, _, body = api.requests[-1]
    assert (method, path) == ("POST", "/api/2.0/serving-endpoints")
    assert body == {
        "name": "movielens-als",
        "config": {
            "name": "movielens-als",
            "served_entities": [
                {
                    "entity_name": "main.recs.movielens_als",
                    "entity_version": "3",
                    "workload_size": "Medium",
                    "scale_to_zero_enabled": True,
                    "environment_vars": {"A": "1"},
                }
            ],
        },
    }
    assert endpoint.name == "movielens-als"
    assert endpoint.state.ready.value == "NOT_READY"


def test_bad_serving_settings_are_refused_before_any_call():
    with pytest.raises(ValueError, match="three parts"):
        dbx.serving_endpoint_config("e", "movielens_als", 1)
    with pytest.raises(ValueError, match="workload_size must be one of"):
        dbx.serving_endpoint_config("e", "main.recs.als", 1, workload_size="Huge")
    with pytest.raises(ValueError, match="endpoint_name 'a b'"):
        dbx.serving_endpoint_config("a b", "main.recs.als", 1)


def test_unity_catalog_registration_sends_the_checked_name(tmp_path, monkeypatch):
    """MLflow's own Unity Catalog client against the loopback workspace: the checked name is
    what it creates; a bad name is refused with nothing sent."""
    import mlflow

    from recommenders_kit.deploy.mlflow import log_model
    from recommenders_kit.models.als.pandas import ALSRecommender

    # the helper leaves MLflow's registry on Unity Catalog (as set_registry_uri does): undone
    # after the test
    monkeypatch.setattr("mlflow.tracking._model_registry.utils._registry_uri", None)
    monkeypatch.setenv("MLFLOW_REGISTRY_URI", "")  # removed again after the test
    with sqlite_tracking(tmp_path):
        ratings = {"userID": [1, 1, 2, 2, 3], "itemID": [10, 20, 10, 30, 20], "rating": [5.0] * 5}
        import pandas as pd

        model = ALSRecommender(rank=2, max_iter=2, num_threads=1).fit(pd.DataFrame(ratings))
        info = log_model(model, "als")
        with DatabricksAPI() as api:
            monkeypatch.setenv("DATABRICKS_HOST", api.url)
            monkeypatch.setenv("DATABRICKS_TOKEN", "dapi-test")
            with pytest.raises(ValueError, match="three parts"):
                dbx.register_in_unity_catalog(info.model_uri, "movielens_als")
            assert not api.requests
            with pytest.raises(Exception, match="model-versions/create"):
                dbx.register_in_unity_catalog(info.model_uri, "main.recs.movielens_als")
        sent = [(p, b) for _, p, _, b in api.requests if "unity-catalog" in p]
        assert sent[0] == (
            "/api/2.0/mlflow/unity-catalog/registered-models/create",
            {"name": "main.recs.movielens_als"},
        )
        assert sent[1][0].endswith("/model-versions/create")
        assert sent[1][1]["name"] == "main.recs.movielens_als"
        assert mlflow.get_registry_uri() == "databricks-uc"
