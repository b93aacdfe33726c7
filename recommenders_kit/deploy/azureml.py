"""Deploying to Azure Machine Learning: register models, build the serving environment, deploy
endpoints.

Everything here builds ``azure-ai-ml`` entities (SDK v2) and hands them to an ``MLClient``;
the entity builders need no workspace, so a deployment can be reviewed (or written as YAML
for ``az ml``) before anything is sent.

* :func:`model_entity` / :func:`register_model`: a LightGBM click-model folder (``model.txt``
  + encoders) or a top-k bundle / ALS model folder, as a ``custom_model`` asset;
  :func:`mlflow_model_entity`: a logged MLflow model (:mod:`recommenders_kit.deploy.mlflow`)
  as an ``mlflow_model`` asset, deployed with no scoring script or environment, and
  :func:`mlflow_request` the body its endpoint takes.
* :func:`environment_entity`: an Azure ML base image plus a conda file generated from this
  package's own ``serving`` requirements (:func:`conda_spec`), so the container runs the same
  versions the tests ran.
* :func:`code_folder`: the scoring code shipped with a deployment: this package and a
  ``score.py`` that re-exports :mod:`recommenders_kit.serving.score`.
* :func:`endpoint_entity` / :func:`deployment_entity`: a managed online endpoint, or a
  Kubernetes (AKS / Arc) one; instance type and count, request limits, probes, and
  autoscaling (:class:`Autoscale`: target utilisation on Kubernetes).
* :func:`deploy` and :func:`set_traffic`: create or update, then shift traffic blue -> green.

Autoscaling of *managed* endpoints is configured in Azure Monitor (an autoscale setting on the
deployment's resource id), not through this SDK: :func:`deployment_entity` says so instead of
silently ignoring ``autoscale``.

Example::

    from azure.ai.ml import MLClient
    from azure.identity import DefaultAzureCredential
    ml = MLClient(DefaultAzureCredential(), sub, group, workspace)
    model = register_model(ml, "criteo_model", "criteo-lightgbm")
    endpoint = endpoint_entity("criteo-ctr")
    green = deployment_entity("green", endpoint.name, model,
        environment_entity("recommenders-kit-serving"), code_folder("build/code"))
    deploy(ml, endpoint, green, traffic_percent=10)
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommenders_kit._progress import quiet_logger
from recommenders_kit._validate import require_choice, require_positive_int
from recommenders_kit.deploy._requirements import requirements
from recommenders_kit.errors import InputError, MissingResourceError
from recommenders_kit.serving.server import gunicorn_args

#: Azure ML's curated Ubuntu base image for custom environments.
DEFAULT_IMAGE = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu22.04:latest"
ENDPOINT_KINDS = ("managed", "kubernetes")
_PACKAGE = "recommenders_kit"


@dataclass(frozen=True)
class Autoscale:
    """Scale between ``min_instances`` and ``max_instances`` to hold ``target_utilization``
    percent CPU, checked every ``polling_interval`` seconds (Kubernetes endpoints)."""

    min_instances: int = 1
    max_instances: int = 3
    target_utilization: int = 70
    polling_interval: int = 10

    def __post_init__(self) -> None:
        require_positive_int(self.min_instances, "min_instances")
        if self.max_instances < self.min_instances:
            raise InputError(
                f"max_instances ({self.max_instances}) must be >= min_instances "
                f"({self.min_instances})"
            )
        if not 1 <= self.target_utilization <= 100:
            raise InputError(f"target_utilization must be 1-100, got {self.target_utilization}")
        require_positive_int(self.polling_interval, "polling_interval")


# ------------------------------------------------------------------ models


def model_entity(
    path: str | Path, name: str, *, description: str = "", tags: dict[str, str] | None = None
) -> Any:
    """A ``custom_model`` asset for a saved model folder (checked to hold a model)."""
    from azure.ai.ml.constants import AssetTypes

    from recommenders_kit.serving.scorers import model_folder

    folder = Path(path)
    if not folder.is_dir():
        raise MissingResourceError(f"{folder} is not a folder: save the model first")
    if not (folder / "metadata").exists():  # a Spark ML model folder needs no further check
        model_folder(folder)  # raises with a clear message if it holds no servable model
    return _asset(folder, name, AssetTypes.CUSTOM_MODEL, description, tags)


def mlflow_model_entity(
    path: str | Path, name: str, *, description: str = "", tags: dict[str, str] | None = None
) -> Any:
    """An ``mlflow_model`` asset for a logged MLflow model's folder (``MLmodel`` with the
    pyfunc flavor, e.g. from :func:`recommenders_kit.deploy.mlflow.log_model` then
    ``mlflow.artifacts.download_artifacts``): Azure ML serves it without a scoring script or
    an environment (:func:`deployment_entity` with neither)."""
    from azure.ai.ml.constants import AssetTypes

    folder = Path(path)
    mlmodel = folder / "MLmodel"
    if not mlmodel.is_file():
        raise MissingResourceError(f"{mlmodel} is missing: not an MLflow model folder")
    if "python_function:" not in mlmodel.read_text():
        raise InputError(f"{mlmodel} has no python_function flavor: Azure ML cannot serve it")
    return _asset(folder, name, AssetTypes.MLFLOW_MODEL, description, tags)


def _asset(
    folder: Path, name: str, kind: str, description: str, tags: dict[str, str] | None
) -> Any:
    from azure.ai.ml.entities import Model

    return Model(
        path=str(folder.resolve()),
        name=name,
        type=kind,
        description=description,
        tags=dict(tags or {}),
    )


def mlflow_request(frame: Any, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """The body an Azure ML no-code MLflow deployment takes for the rows of ``frame``:
    ``{"input_data": {"columns", "index", "data"}}`` (pandas' split form), with ``params``
    when given (a recommender's ``k``, ``remove_seen``).

    >>> import pandas as pd
    >>> mlflow_request(pd.DataFrame({"userID": [1, 2]}), {"k": 5})
    {'input_data': {'columns': ['userID'], 'index': [0, 1], 'data': [[1], [2]]}, 'params': {'k': 5}}
    """
    body: dict[str, Any] = {"input_data": json.loads(frame.to_json(orient="split"))}
    if params:
        body["params"] = dict(params)
    return body


def register_model(ml_client: Any, path: str | Path, name: str, **kwargs: Any) -> Any:
    """Upload and register the folder ``path`` as model ``name`` (a new version each call)."""
    return ml_client.models.create_or_update(model_entity(path, name, **kwargs))


# ------------------------------------------------------------------ environment and code


def conda_spec(
    extras: tuple[str, ...] = ("serving",),
    python: str | None = None,
    conda_packages: tuple[str, ...] = (),
    pip_packages: tuple[str, ...] = (),
) -> dict:
    """A conda environment (dict): this Python version, ``conda_packages`` (e.g. ``openjdk=17``
    for Spark), and the pip requirements of ``extras`` followed by ``pip_packages``."""
    python = python or f"{sys.version_info.major}.{sys.version_info.minor}"
    return {
        "name": "recommenders-kit",
        "channels": ["conda-forge"],
        "dependencies": [
            f"python={python}",
            *conda_packages,
            "pip",
            {"pip": [*requirements(extras), *pip_packages]},
        ],
    }


def environment_entity(
    name: str,
    *,
    extras: tuple[str, ...] = ("serving",),
    conda_packages: tuple[str, ...] = (),
    pip_packages: tuple[str, ...] = (),
    image: str = DEFAULT_IMAGE,
    version: str | None = None,
    description: str = "recommenders_kit scoring environment",
) -> Any:
    """An Azure ML Environment: ``image`` + :func:`conda_spec` of ``extras``."""
    from azure.ai.ml.entities import Environment

    return Environment(
        name=name,
        version=version,
        image=image,
        conda_file=conda_spec(extras, conda_packages=conda_packages, pip_packages=pip_packages),
        description=description,
    )


def code_folder(dest: str | Path) -> Path:
    """Write the deployment's code folder: a copy of this package and a ``score.py`` shim.

    The folder is rebuilt from scratch (stale files from an earlier build would ship too).
    """
    import recommenders_kit

    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    source = Path(recommenders_kit.__file__).parent
    shutil.copytree(source, dest / _PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    (dest / "score.py").write_text(
        '"""Azure ML entry script: see recommenders_kit.serving.score."""\n\n'
        "from recommenders_kit.serving.score import init, run  # noqa: F401\n"
    )
    return dest


# ------------------------------------------------------------------ endpoints


def endpoint_entity(
    name: str,
    *,
    kind: str = "managed",
    compute: str | None = None,
    auth_mode: str = "key",
    description: str = "",
) -> Any:
    """A managed online endpoint, or a Kubernetes one on the attached ``compute``."""
    from azure.ai.ml.entities import KubernetesOnlineEndpoint, ManagedOnlineEndpoint

    require_choice(kind, ENDPOINT_KINDS, "kind")
    require_choice(auth_mode, ("key", "aml_token", "aad_token"), "auth_mode")
    if kind == "kubernetes":
        if not compute:
            raise InputError("compute (the attached Kubernetes compute's name) is required")
        return KubernetesOnlineEndpoint(
            name=name, compute=compute, auth_mode=auth_mode, description=description
        )
    if compute:
        raise InputError("compute applies to kind='kubernetes' only")
    return ManagedOnlineEndpoint(name=name, auth_mode=auth_mode, description=description)


def deployment_entity(
    name: str,
    endpoint_name: str,
    model: Any,
    environment: Any = None,
    code: str | Path | None = None,
    *,
    kind: str = "managed",
    instance_type: str | None = "Standard_DS3_v2",
    instance_count: int = 1,
    autoscale: Autoscale | None = None,
    cpu: str = "1",
    memory: str = "2Gi",
    request_timeout_ms: int = 5000,
    max_concurrent_requests_per_instance: int = 4,
    environment_variables: dict[str, str] | None = None,
) -> Any:
    """A deployment of ``model`` behind ``endpoint_name`` running the scoring service.

    ``model`` and ``environment`` are entities (or ``"azureml:name:version"`` references);
    ``code`` is a folder from :func:`code_folder`. An MLflow model
    (:func:`mlflow_model_entity`) is deployed without both ("no-code": Azure ML brings the
    server and builds the environment from the model's requirements; requests are
    :func:`mlflow_request` bodies). Managed deployments take
    ``instance_type``/``instance_count``; Kubernetes ones ``instance_count``, CPU/memory
    requests and optional :class:`Autoscale`. The service's own settings are always set
    (``OMP_NUM_THREADS=1``; ``GUNICORN_CMD_ARGS``: threaded workers with a keep-alive timeout,
    see :mod:`recommenders_kit.serving.server`); ``environment_variables`` add to them and
    reach ``init()`` (e.g. ``RECOMMENDERS_KIT_COSMOS_ENDPOINT`` for top-k lookups from Cosmos
    DB; pass keys through Key Vault references, not literals).
    """
    from azure.ai.ml.entities import KubernetesOnlineDeployment, ManagedOnlineDeployment

    require_choice(kind, ENDPOINT_KINDS, "kind")
    require_positive_int(instance_count, "instance_count")
    common = _deployment_settings(
        name,
        endpoint_name,
        model,
        environment,
        code,
        instance_count,
        request_timeout_ms,
        max_concurrent_requests_per_instance,
        environment_variables,
    )
    if kind == "managed":
        if autoscale is not None:
            raise InputError(
                "managed online deployments scale through an Azure Monitor autoscale setting "
                "on the deployment, not through the deployment itself: create one after "
                "deploying (or use kind='kubernetes' for target-utilisation scaling)"
            )
        if not instance_type:
            raise InputError("instance_type is required for a managed deployment")
        return ManagedOnlineDeployment(instance_type=instance_type, **common)
    return KubernetesOnlineDeployment(
        scale_settings=_scale_settings(autoscale, instance_count),
        resources=_resources(cpu, memory),
        **common,
    )


def _deployment_settings(
    name: str,
    endpoint_name: str,
    model: Any,
    environment: Any,
    code: str | Path | None,
    instance_count: int,
    request_timeout_ms: int,
    max_concurrent_requests_per_instance: int,
    environment_variables: dict[str, str] | None,
) -> dict[str, Any]:
    """What managed and Kubernetes deployments share: model, environment, code, requests."""
    from azure.ai.ml.entities import OnlineRequestSettings

    return {
        "name": name,
        "endpoint_name": endpoint_name,
        "model": model,
        **_code_settings(model, environment, code),
        "instance_count": instance_count,
        "request_settings": OnlineRequestSettings(
            request_timeout_ms=request_timeout_ms,
            max_concurrent_requests_per_instance=max_concurrent_requests_per_instance,
        ),
        "environment_variables": {
            "OMP_NUM_THREADS": "1",
            "GUNICORN_CMD_ARGS": gunicorn_args(),
            **(environment_variables or {}),
        },
    }


def _code_settings(model: Any, environment: Any, code: str | Path | None) -> dict[str, Any]:
    """The environment and scoring code of a deployment; none for an MLflow model."""
    from azure.ai.ml.constants import AssetTypes
    from azure.ai.ml.entities import CodeConfiguration

    if environment is None and code is None:
        if getattr(model, "type", AssetTypes.MLFLOW_MODEL) != AssetTypes.MLFLOW_MODEL:
            raise InputError(
                f"a {model.type} model needs environment and code (environment_entity, "
                "code_folder); only an mlflow_model deploys without them"
            )
        return {}
    if environment is None or code is None:
        missing = "environment" if environment is None else "code"
        raise InputError(f"{missing} is missing: give environment and code, or neither")
    if not (Path(code) / "score.py").exists():
        raise MissingResourceError(
            f"{Path(code) / 'score.py'} is missing: build code with code_folder"
        )
    configuration = CodeConfiguration(code=str(Path(code).resolve()), scoring_script="score.py")
    return {"environment": environment, "code_configuration": configuration}


def _scale_settings(autoscale: Autoscale | None, instance_count: int) -> Any:
    """Kubernetes target-utilisation scaling, or None for a fixed instance count."""
    from azure.ai.ml.entities import TargetUtilizationScaleSettings

    if autoscale is None:
        return None
    if not autoscale.min_instances <= instance_count <= autoscale.max_instances:
        raise InputError(
            f"instance_count ({instance_count}) must lie within autoscale's "
            f"[{autoscale.min_instances}, {autoscale.max_instances}]"
        )
    return TargetUtilizationScaleSettings(
        min_instances=autoscale.min_instances,
        max_instances=autoscale.max_instances,
        target_utilization_percentage=autoscale.target_utilization,
        polling_interval=autoscale.polling_interval,
    )


def _resources(cpu: str, memory: str) -> Any:
    from azure.ai.ml.entities import ResourceRequirementsSettings, ResourceSettings

    return ResourceRequirementsSettings(requests=ResourceSettings(cpu=cpu, memory=memory))


def to_dict(entity: Any) -> dict:
    """The entity's YAML form as plain JSON types (what ``az ml ... -f`` reads)."""
    # the SDK warns that a schema it uses inside (not one the user chose) is experimental
    with quiet_logger("azure.ai.ml._utils._experimental", logging.ERROR):
        return json.loads(json.dumps(entity._to_dict()))


#: The YAML keys that name a local file or folder (a model's files, a code folder, a conda file)
_LOCAL_PATH_KEYS = frozenset({"path", "code", "conda_file"})


def write_yaml(entity: Any, path: str | Path) -> Path:
    """Write the entity's YAML (``entity.dump`` writes no file for endpoints in the SDK).

    Local files and folders it names are written relative to the YAML's folder, as
    ``az ml ... -f`` and the SDK's loaders resolve them: the folder can be moved or shared
    with the files beside it.

    Example:
        >>> import tempfile
        >>> from azure.ai.ml.entities import Model
        >>> folder = Path(tempfile.mkdtemp())
        >>> (folder / "model").mkdir()
        >>> spec = write_yaml(Model(path=str(folder / "model"), name="m"), folder / "m.yaml")
        >>> print(spec.read_text().strip())
        name: m
        type: custom_model
        path: model
        properties: {}
        tags: {}
    """
    import yaml

    path = Path(path)
    spec = _relative_paths(to_dict(entity), path.parent.resolve())
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def _relative_paths(node: Any, base: Path) -> Any:
    if isinstance(node, dict):
        return {
            key: os.path.relpath(value, base)
            if key in _LOCAL_PATH_KEYS and isinstance(value, str) and Path(value).is_absolute()
            else _relative_paths(value, base)
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [_relative_paths(value, base) for value in node]
    return node


# ------------------------------------------------------------------ deploying


def deploy(ml_client: Any, endpoint: Any, deployment: Any, *, traffic_percent: int = 100) -> Any:
    """Create or update ``endpoint`` and ``deployment``, then route ``traffic_percent`` to it.

    The other deployments share the remaining traffic in proportion to what they had
    (a first deployment gets 100%). Returns the endpoint as updated.
    """
    if not 0 <= traffic_percent <= 100:
        raise InputError(f"traffic_percent must be 0-100, got {traffic_percent}")
    if deployment.endpoint_name != endpoint.name:
        raise InputError(
            f"deployment {deployment.name!r} targets endpoint {deployment.endpoint_name!r}, "
            f"not {endpoint.name!r}"
        )
    from azure.core.exceptions import ResourceNotFoundError

    try:
        current = dict(ml_client.online_endpoints.get(endpoint.name).traffic or {})
    except ResourceNotFoundError:
        current = {}
    current.pop(deployment.name, None)
    plan = _shares(current, deployment.name, traffic_percent)  # checked before deploying
    endpoint.traffic = {**current}  # the live split holds while the new deployment comes up
    ml_client.online_endpoints.begin_create_or_update(endpoint).result()
    ml_client.online_deployments.begin_create_or_update(deployment).result()
    return set_traffic(ml_client, endpoint.name, plan)


def _shares(others: dict[str, int], name: str, percent: int) -> dict[str, int]:
    """``percent`` to ``name``, the rest split over ``others`` in proportion (sum 100)."""
    total = sum(others.values())
    if total == 0:
        if percent != 100:
            raise InputError(
                f"no other deployment takes traffic, so traffic_percent must be 100, not {percent}"
            )
        return {name: 100}
    rest = 100 - percent
    shares = {k: v * rest // total for k, v in others.items()}
    # the rounding remainder, one point each to the largest fractional parts
    for k in sorted(others, key=lambda k: (-(others[k] * rest % total), k))[
        : rest - sum(shares.values())
    ]:
        shares[k] += 1
    return {name: percent, **shares}


def set_traffic(ml_client: Any, endpoint_name: str, traffic: dict[str, int]) -> Any:
    """Route traffic between existing deployments, e.g. ``{"blue": 90, "green": 10}``."""
    if any(not isinstance(v, int) or v < 0 for v in traffic.values()):
        raise InputError(f"traffic shares must be integers >= 0, got {traffic}")
    if sum(traffic.values()) != 100:
        raise InputError(f"traffic shares must sum to 100, got {sum(traffic.values())}: {traffic}")
    existing = {d.name for d in ml_client.online_deployments.list(endpoint_name)}
    unknown = sorted(set(traffic) - existing)
    if unknown:
        raise InputError(
            f"endpoint {endpoint_name!r} has no deployment(s) {unknown}; it has {sorted(existing)}"
        )
    endpoint = ml_client.online_endpoints.get(endpoint_name)
    endpoint.traffic = dict(traffic)
    return ml_client.online_endpoints.begin_create_or_update(endpoint).result()
