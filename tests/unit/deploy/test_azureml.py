"""Azure ML entities built for real and validated by the SDK's own schema (by loading their
YAML form back); deployment calls checked through a recording MLClient double."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import tomllib
import yaml
from azure.ai.ml import load_environment, load_model, load_online_deployment, load_online_endpoint
from packaging.requirements import Requirement

from recommenders_kit.deploy import azureml as ml
from tests.support.ml_client import RecordingMLClient
from tests.support.mlflow_store import sqlite_tracking

ROOT = Path(__file__).resolve().parents[3]


def _reload(entity, loader, tmp_path):
    """The entity's YAML, loaded back by the SDK (which validates it against its schema)."""
    path = ml.write_yaml(entity, tmp_path / "entity.yaml")
    return loader(source=path), yaml.safe_load(path.read_text())


def test_model_asset(click_model_dir, tmp_path):
    model = ml.model_entity(click_model_dir, "criteo-ctr", tags={"data": "criteo"})
    back, as_yaml = _reload(model, load_model, tmp_path)
    assert (back.name, back.type, back.tags) == ("criteo-ctr", "custom_model", {"data": "criteo"})
    # written relative to the YAML's folder, read back as the model's folder
    assert not Path(as_yaml["path"]).is_absolute()
    assert Path(back.path).resolve() == click_model_dir.resolve()
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="holds no model"):
        ml.model_entity(tmp_path / "empty", "x")
    with pytest.raises(FileNotFoundError, match="save the model first"):
        ml.model_entity(tmp_path / "missing", "x")


def test_requirements_are_the_packages_own():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = project["dependencies"] + project["optional-dependencies"]["serving"]
    expected = [str(Requirement(r)) for r in declared]
    assert ml.requirements(("serving",)) == expected
    azure = ml.requirements(("azure",))  # nested extra expanded, no self-reference
    assert set(expected) < set(azure)
    assert "azure-ai-ml>=1.15" in azure
    assert not any(r.startswith("recommenders") for r in azure)


def test_environment(tmp_path):
    env = ml.environment_entity("reco-serving", version="3")
    back, as_yaml = _reload(env, load_environment, tmp_path)
    assert (back.name, back.version, back.image) == ("reco-serving", "3", ml.DEFAULT_IMAGE)
    deps = as_yaml["conda_file"]["dependencies"]
    assert deps[0] == f"python={sys.version_info.major}.{sys.version_info.minor}"
    assert "lightgbm>=4.3" in deps[2]["pip"]


def test_code_folder_imports_its_own_copy(tmp_path):
    code = ml.code_folder(tmp_path / "code")
    assert (code / "recommenders_kit" / "serving" / "score.py").exists()
    assert not list(code.rglob("__pycache__"))
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import score, recommenders_kit; "
            "print(score.init.__module__, recommenders_kit.__file__)",
        ],
        cwd=code,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0] == "recommenders_kit.serving.score"
    assert Path(out[1]).is_relative_to(code)


@pytest.fixture
def parts(click_model_dir, tmp_path):
    model = ml.model_entity(click_model_dir, "criteo-ctr")
    return model, ml.environment_entity("reco-serving"), ml.code_folder(tmp_path / "code")


def test_managed_endpoint_and_deployment(parts, tmp_path):
    endpoint = ml.endpoint_entity("criteo-ctr")
    back, _ = _reload(endpoint, load_online_endpoint, tmp_path)
    assert (back.name, back.auth_mode) == ("criteo-ctr", "key")
    deployment = ml.deployment_entity(
        "blue",
        "criteo-ctr",
        *parts,
        instance_type="Standard_F4s_v2",
        instance_count=2,
        request_timeout_ms=3000,
    )
    back, as_yaml = _reload(deployment, load_online_deployment, tmp_path)
    assert type(back).__name__ == "ManagedOnlineDeployment"
    assert (back.instance_type, back.instance_count) == ("Standard_F4s_v2", 2)
    assert back.request_settings.request_timeout_ms == 3000
    assert as_yaml["code_configuration"] == {"code": "code", "scoring_script": "score.py"}
    assert as_yaml["environment_variables"] == {
        "OMP_NUM_THREADS": "1",
        "GUNICORN_CMD_ARGS": "--config python:recommenders_kit.serving.gunicorn_config "
        "--worker-class recommenders_kit.serving.gunicorn_config.ServiceWorker "
        "--threads 8 --keep-alive 5 --preload",
    }


@pytest.fixture(scope="module")
def mlflow_model_dir(click_model_dir, tmp_path_factory):
    """The click model logged as an MLflow model (SQLite store), downloaded to a folder."""
    import mlflow

    from recommenders_kit.deploy.mlflow import log_model
    from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel

    folder = tmp_path_factory.mktemp("mlflow-model")
    with sqlite_tracking(folder):
        info = log_model(LightGBMClickModel.load(click_model_dir), "criteo")
        return Path(mlflow.artifacts.download_artifacts(info.model_uri, dst_path=folder / "m"))


def test_no_code_deployment_of_an_mlflow_model(mlflow_model_dir, parts, tmp_path):
    model = ml.mlflow_model_entity(mlflow_model_dir, "criteo-ctr-mlflow")
    back, as_yaml = _reload(model, load_model, tmp_path)
    assert back.type == "mlflow_model"
    assert (tmp_path / as_yaml["path"]).resolve() == mlflow_model_dir.resolve()
    deployment = ml.deployment_entity("blue", "criteo-ctr", model, instance_count=1)
    back, as_yaml = _reload(deployment, load_online_deployment, tmp_path)
    assert type(back).__name__ == "ManagedOnlineDeployment"
    assert "code_configuration" not in as_yaml
    assert "environment" not in as_yaml
    assert as_yaml["model"]["type"] == "mlflow_model"
    # a custom model needs its scoring script and environment; half of them is refused
    with pytest.raises(ValueError, match="custom_model model needs environment and code"):
        ml.deployment_entity("blue", "criteo-ctr", parts[0])
    with pytest.raises(ValueError, match="code is missing"):
        ml.deployment_entity("blue", "criteo-ctr", parts[0], parts[1])
    with pytest.raises(FileNotFoundError, match="not an MLflow model folder"):
        ml.mlflow_model_entity(tmp_path, "x")


def test_kubernetes_endpoint_with_autoscale(parts, tmp_path):
    endpoint = ml.endpoint_entity("criteo-aks", kind="kubernetes", compute="aks-cluster")
    back, as_yaml = _reload(endpoint, load_online_endpoint, tmp_path)
    assert as_yaml["compute"] == "azureml:aks-cluster"
    deployment = ml.deployment_entity(
        "green",
        "criteo-aks",
        *parts,
        kind="kubernetes",
        instance_count=2,
        cpu="2",
        memory="4Gi",
        autoscale=ml.Autoscale(min_instances=1, max_instances=5, target_utilization=60),
    )
    back, as_yaml = _reload(deployment, load_online_deployment, tmp_path)
    assert type(back).__name__ == "KubernetesOnlineDeployment"
    assert as_yaml["scale_settings"] == {
        "type": "target_utilization",
        "min_instances": 1,
        "max_instances": 5,
        "target_utilization_percentage": 60,
        "polling_interval": 10,
    }
    assert as_yaml["resources"] == {"requests": {"cpu": "2", "memory": "4Gi"}}


def test_bad_settings(parts):
    with pytest.raises(ValueError, match="Azure Monitor"):
        ml.deployment_entity("b", "e", *parts, autoscale=ml.Autoscale())
    with pytest.raises(ValueError, match="compute"):
        ml.endpoint_entity("e", kind="kubernetes")
    with pytest.raises(ValueError, match="kind"):
        ml.endpoint_entity("e", kind="serverless")
    with pytest.raises(ValueError, match="max_instances"):
        ml.Autoscale(min_instances=3, max_instances=2)
    with pytest.raises(ValueError, match=r"instance_count \(9\)"):
        ml.deployment_entity(
            "b",
            "e",
            *parts,
            kind="kubernetes",
            instance_count=9,
            autoscale=ml.Autoscale(max_instances=4),
        )
    with pytest.raises(FileNotFoundError, match="code_folder"):
        ml.deployment_entity("b", "e", parts[0], parts[1], ".")


def test_register_deploy_and_blue_green(parts):
    client = RecordingMLClient()
    model, env, code = parts
    registered = ml.register_model(client, model.path, "criteo-ctr")
    assert registered.version == "1"
    assert client.call_names() == ["models.create_or_update"]

    endpoint = ml.endpoint_entity("criteo-ctr")
    blue = ml.deployment_entity("blue", "criteo-ctr", registered, env, code)
    with pytest.raises(ValueError, match="traffic_percent must be 100"):
        ml.deploy(client, endpoint, blue, traffic_percent=10)
    assert client.call_names() == ["models.create_or_update"]  # refused before any change

    ml.deploy(client, endpoint, blue)
    assert client.endpoints["criteo-ctr"].traffic == {"blue": 100}
    green = ml.deployment_entity("green", "criteo-ctr", registered, env, code)
    client.calls.clear()
    ml.deploy(client, ml.endpoint_entity("criteo-ctr"), green, traffic_percent=10)
    assert client.call_names() == [
        "online_endpoints.begin_create_or_update",
        "online_deployments.begin_create_or_update",
        "online_endpoints.begin_create_or_update",
    ]
    # blue keeps all traffic while green comes up, then 90/10
    assert client.calls[0][1].traffic == {"blue": 100}
    assert client.calls[1][1].name == "green"
    assert client.endpoints["criteo-ctr"].traffic == {"green": 10, "blue": 90}

    ml.set_traffic(client, "criteo-ctr", {"blue": 0, "green": 100})
    assert client.endpoints["criteo-ctr"].traffic == {"blue": 0, "green": 100}
    with pytest.raises(ValueError, match="sum to 100"):
        ml.set_traffic(client, "criteo-ctr", {"blue": 50, "green": 40})
    with pytest.raises(ValueError, match=r"no deployment\(s\) \['red'\]"):
        ml.set_traffic(client, "criteo-ctr", {"red": 100})


def test_traffic_shares_split_the_rest_in_proportion():
    assert ml._shares({"a": 50, "b": 25, "c": 25}, "new", 10) == {
        "new": 10,
        "a": 45,
        "b": 23,
        "c": 22,
    }
    assert sum(ml._shares({"a": 1, "b": 1, "c": 1}, "n", 0).values()) == 100
