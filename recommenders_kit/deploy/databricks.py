"""Install this library on a Databricks cluster, with the official ``databricks-sdk``.

:func:`install` (``recommenders-kit databricks install --cluster-id ID``) does what the setup
guide describes by hand:

1. checks the cluster's runtime: Spark 3.5 with Scala 2.12 (Databricks Runtime 14.x, 15.x and
   16.x in their Scala 2.12 flavour), which SynapseML 1.1.0 and ``pyspark>=3.5,<3.6`` need;
   another runtime is refused with a message naming it;
2. builds the wheel from a source checkout (``python -m build``, by way of a source
   distribution), unless ``wheel`` names one already built;
3. uploads it to a Unity Catalog volume (``/Volumes/<catalog>/<schema>/<volume>/...``) or to
   DBFS (``dbfs:/...``);
4. installs it and SynapseML's Maven package (:data:`recommenders_kit.spark.SYNAPSEML_PACKAGE`)
   as cluster libraries, and with ``o16n`` the PyPI packages of the ``azure`` extra (Cosmos DB,
   Blob Storage, Azure ML) that the operationalisation notebooks use (:func:`o16n_packages`).

The runtime already holds pyspark, so the wheel's own requirements are the light ones; the
Spark extras are never installed on a cluster. Authentication is the SDK's: a ``profile``
from ``~/.databrickscfg``, or ``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN`` and the other unified
authentication settings.

For MLflow models (:mod:`recommenders_kit.deploy.mlflow`): :func:`register_in_unity_catalog`
registers a logged model as ``catalog.schema.model`` with an alias, and
:func:`serving_endpoint_config` / :func:`create_serving_endpoint` serve a version of it on a
Model Serving endpoint.

Example::

    recommenders-kit databricks install --cluster-id 0123-456789-abcde \\
        --target /Volumes/main/default/libs --o16n
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from recommenders_kit.deploy._requirements import requirements
from recommenders_kit.errors import InputError, JobFailedError, MissingResourceError
from recommenders_kit.spark import SYNAPSEML_PACKAGE

#: Databricks Runtime major versions whose Spark is 3.5 (their Scala 2.12 builds).
SPARK_35_RUNTIMES = (14, 15, 16)
#: Model Serving's CPU workload sizes (4, 16 and 64 concurrent requests).
WORKLOAD_SIZES = ("Small", "Medium", "Large")
_RUNTIME = re.compile(r"^(\d+)\.(\d+|x)\.\S*scala(\d+\.\d+)")


@dataclass(frozen=True)
class Installed:
    """What :func:`install` did: the cluster, its runtime, where the wheel went, and the
    libraries requested (as the REST API takes them)."""

    cluster_id: str
    runtime: str
    wheel: str
    libraries: list[dict[str, Any]]


def check_runtime(spark_version: str) -> None:
    """Refuse a Databricks Runtime whose Spark is not 3.5 with Scala 2.12 (e.g.
    ``"15.4.x-scala2.12"`` passes, ``"13.3.x-scala2.12"`` and ``"16.4.x-scala2.13"`` do not).

    >>> check_runtime("15.4.x-scala2.12")
    >>> try:
    ...     check_runtime("17.0.x-scala2.13")
    ... except ValueError as e:
    ...     print(str(e)[:60])
    the cluster runs Databricks Runtime 17.0.x-scala2.13; recomm
    """
    match = _RUNTIME.match(spark_version)
    if not match or int(match[1]) not in SPARK_35_RUNTIMES or match[3] != "2.12":
        runtimes = ", ".join(f"{v}.x" for v in SPARK_35_RUNTIMES[:-1])
        raise InputError(
            f"the cluster runs Databricks Runtime {spark_version}; recommenders_kit and "
            f"SynapseML 1.1.0 need Spark 3.5 with Scala 2.12: Databricks Runtime {runtimes} "
            f"or {SPARK_35_RUNTIMES[-1]}.x (Scala 2.12)"
        )


def build_wheel(source: str | Path, out_dir: str | Path) -> Path:
    """Build the wheel of the checkout ``source`` into ``out_dir``; returns its path.

    ``python -m build`` builds a source distribution first and the wheel from it, in a
    temporary folder: a wheel built in the checkout itself would also pack whatever an earlier
    build left in its ``build/`` folder, such as a module deleted since.
    """
    source = Path(source)
    if not (source / "pyproject.toml").exists():
        raise MissingResourceError(
            f"{source} is not a source checkout (no pyproject.toml): pass wheel=... (a built "
            "recommenders_kit wheel) or run from the repository"
        )
    with tempfile.TemporaryDirectory() as built:
        cmd = [sys.executable, "-m", "build", "--outdir", built, str(source)]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        wheels = sorted(Path(built).glob("recommenders_kit-*.whl"))
        if result.returncode or not wheels:
            raise JobFailedError(
                f"building the wheel failed:\n{result.stdout[-2000:]}{result.stderr}"
            )
        Path(out_dir).mkdir(parents=True, exist_ok=True)
        return Path(shutil.move(wheels[-1], Path(out_dir) / wheels[-1].name))


def install(
    cluster_id: str,
    target: str,
    *,
    profile: str | None = None,
    wheel: str | Path | None = None,
    source: str | Path = ".",
    o16n: bool = False,
    client: Any = None,
) -> Installed:
    """Install the library and SynapseML on a cluster (module docstring); returns what was
    requested.

    Args:
        cluster_id: the cluster.
        target: a Unity Catalog volume folder (``/Volumes/catalog/schema/volume[/dir]``) or a
            DBFS folder (``dbfs:/FileStore/libs``) for the wheel.
        profile: a ``~/.databrickscfg`` profile (default: the SDK's environment settings).
        wheel: a built wheel; else one is built from ``source``.
        o16n: also install the ``azure`` extra's packages from PyPI.
        client: a ``WorkspaceClient`` (default: one made from ``profile``).
    """
    from databricks.sdk import WorkspaceClient
    from databricks.sdk.service.compute import Library, MavenLibrary, PythonPyPiLibrary

    remote = _remote_folder(target)
    w = client or WorkspaceClient(profile=profile)
    runtime = w.clusters.get(cluster_id).spark_version or ""
    check_runtime(runtime)
    with tempfile.TemporaryDirectory() as tmp:
        local = Path(wheel) if wheel else build_wheel(source, tmp)
        remote_wheel = f"{remote}/{local.name}"
        _upload(w, local, remote_wheel)
    libraries = [
        Library(whl=remote_wheel),
        Library(maven=MavenLibrary(coordinates=SYNAPSEML_PACKAGE)),
    ]
    if o16n:
        libraries += [Library(pypi=PythonPyPiLibrary(package=r)) for r in o16n_packages()]
    w.libraries.install(cluster_id, libraries)
    return Installed(cluster_id, runtime, remote_wheel, [lib.as_dict() for lib in libraries])


def o16n_packages() -> list[str]:
    """The ``azure`` extra's packages a cluster needs for the operationalisation notebooks
    (Cosmos DB, Blob Storage, Azure ML), without the scoring server (it runs in the Azure ML
    container, not on the cluster) and what the wheel itself requires."""
    base = requirements(())
    return [
        r
        for r in requirements(("azure",))
        if r not in base and not r.startswith("azureml-inference-server-http")
    ]


def _remote_folder(target: str) -> str:
    target = target.rstrip("/")
    if target.startswith("/Volumes/") and len(target.split("/")) >= 5:
        return target
    if target.startswith("dbfs:/"):
        return target
    raise InputError(
        f"target must be a Unity Catalog volume folder (/Volumes/catalog/schema/volume) or a "
        f"DBFS folder (dbfs:/...), got {target!r}"
    )


def _upload(w: Any, local: Path, remote: str) -> None:
    with local.open("rb") as f:
        if remote.startswith("/Volumes/"):
            w.files.upload(remote, f, overwrite=True)
        else:
            w.dbfs.upload(remote.removeprefix("dbfs:"), f, overwrite=True)


# ------------------------------------------------------------------ MLflow models

#: Unity Catalog's registry, as MLflow names it.
UNITY_CATALOG = "databricks-uc"


def register_in_unity_catalog(model_uri: str, name: str, *, alias: str | None = "champion") -> Any:
    """Register a logged MLflow model (:func:`recommenders_kit.deploy.mlflow.log_model`) in
    Unity Catalog as ``catalog.schema.model`` and point ``alias`` at the new version; returns
    the ``ModelVersion``; MLflow's registry is Unity Catalog afterwards
    (``mlflow.set_registry_uri("databricks-uc")``, as on Databricks). The name is checked
    before anything is sent; Unity Catalog wants a
    signature with inputs and outputs, which every logged model of the library has.
    Authentication is the Databricks SDK's (``DATABRICKS_HOST`` / ``DATABRICKS_TOKEN``, a
    profile, or the notebook's own)."""
    from recommenders_kit.deploy.mlflow import register

    return register(model_uri, name, alias=alias, registry_uri=UNITY_CATALOG)


def serving_endpoint_config(
    endpoint_name: str,
    model_name: str,
    version: str | int,
    *,
    workload_size: str = "Small",
    scale_to_zero: bool = True,
    environment_vars: dict[str, str] | None = None,
) -> Any:
    """The configuration (``EndpointCoreConfigInput``) of the Model Serving endpoint
    ``endpoint_name`` serving one version of a Unity Catalog model with all its traffic.
    ``workload_size``: ``Small`` (4 concurrent requests), ``Medium`` or ``Large``;
    ``environment_vars`` reach the model (secrets as ``{{secrets/scope/key}}`` references,
    never literals). Every argument is checked here, before anything is sent."""
    from databricks.sdk.service.serving import EndpointCoreConfigInput, ServedEntityInput

    from recommenders_kit.deploy.mlflow import check_unity_catalog_name

    if not re.fullmatch(r"[A-Za-z0-9_-]{1,63}", endpoint_name or ""):
        raise InputError(
            f"endpoint_name {endpoint_name!r}: 1-63 letters, digits, - or _ (Model Serving's rule)"
        )
    check_unity_catalog_name(model_name)
    if workload_size not in WORKLOAD_SIZES:
        raise InputError(f"workload_size must be one of {WORKLOAD_SIZES}, got {workload_size!r}")
    served = ServedEntityInput(
        entity_name=model_name,
        entity_version=str(version),
        workload_size=workload_size,
        scale_to_zero_enabled=scale_to_zero,
        environment_vars=dict(environment_vars) if environment_vars else None,
    )
    return EndpointCoreConfigInput(name=endpoint_name, served_entities=[served])


def create_serving_endpoint(config: Any, *, profile: str | None = None, client: Any = None) -> Any:
    """Create the Model Serving endpoint ``config`` describes (:func:`serving_endpoint_config`);
    returns the endpoint as the API describes it, without waiting for it to be ready
    (``w.serving_endpoints.wait_get_serving_endpoint_not_updating`` does). Its
    ``/invocations`` takes ``dataframe_split`` / ``dataframe_records`` bodies, with ``params``
    for a recommender's ``k`` and ``remove_seen``."""
    from databricks.sdk import WorkspaceClient

    w = client or WorkspaceClient(profile=profile)
    return w.serving_endpoints.create(name=config.name, config=config).response
