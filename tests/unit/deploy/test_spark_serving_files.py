"""The Spark Serving container and Kubernetes files (``deploy/spark-serving``), checked offline:
the manifests against the Kubernetes schemas (strict: no unknown fields), and the Dockerfile,
the manifests and the library against each other (port, user, entry point, extras, probes)."""

from __future__ import annotations

import json
import re
import shlex
from importlib import metadata
from pathlib import Path

import kubernetes_validate
import pytest
import yaml

from recommenders_kit.cli import main
from recommenders_kit.serving.spark_serving import API

ROOT = Path(__file__).resolve().parents[3]
FOLDER = ROOT / "deploy" / "spark-serving"
#: Kubernetes versions the manifests must be valid for (the oldest AKS still supports, the
#: newest the schemas know).
VERSIONS = ["1.29.0", kubernetes_validate.latest_version()]


def _manifests() -> dict[str, dict]:
    docs = list(yaml.safe_load_all((FOLDER / "kubernetes.yaml").read_text()))
    return {doc["kind"]: doc for doc in docs}


def _dockerfile() -> dict[str, list[str]]:
    """Instruction -> its arguments, line continuations joined."""
    text = re.sub(r"\\\n", " ", (FOLDER / "Dockerfile").read_text())
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            instruction, _, rest = line.strip().partition(" ")
            out.setdefault(instruction, []).append(rest.strip())
    return out


@pytest.mark.parametrize("version", VERSIONS)
def test_manifests_validate_against_the_kubernetes_schemas(version):
    kinds = _manifests()
    assert sorted(kinds) == ["Deployment", "HorizontalPodAutoscaler", "Service"]
    for doc in kinds.values():
        kubernetes_validate.validate(doc, version, strict=True)


def test_a_broken_manifest_is_refused():
    """The validator is not a formality: a misspelt field and a wrong type fail."""
    deployment = _manifests()["Deployment"]
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    container["readinessProbe"]["httpGet"]["paht"] = "/score"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)
    deployment = _manifests()["Deployment"]
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, VERSIONS[0], strict=True)


def test_entry_point_is_a_valid_serve_command_on_the_exposed_port(tmp_path):
    docker = _dockerfile()
    entry = json.loads(docker["ENTRYPOINT"][0])
    assert entry[:2] == ["recommenders-kit", "serve"]
    model_dir = entry[entry.index("--model-dir") + 1]
    assert f"--chown=serving model/ {model_dir}/" in docker["COPY"]  # the model is there
    args = [str(tmp_path) if arg == model_dir else arg for arg in entry[2:]]
    params = main.commands["serve"].make_context("serve", args).params  # the CLI accepts it
    assert params["engine"] == "spark"
    assert params["host"] == "0.0.0.0"  # reachable from outside the container
    assert docker["EXPOSE"] == [str(params["port"])]


def test_manifests_match_the_image():
    docker, kinds = _dockerfile(), _manifests()
    entry = json.loads(docker["ENTRYPOINT"][0])
    port = int(entry[entry.index("--port") + 1])
    pod = kinds["Deployment"]["spec"]["template"]
    container = pod["spec"]["containers"][0]
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    uid = re.search(r"--uid (\d+)", " ".join(docker["RUN"])).group(1)
    assert pod["spec"]["securityContext"]["runAsUser"] == int(uid)
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert container[probe]["httpGet"] == {"path": "/" + API, "port": "http"}
    labels = pod["metadata"]["labels"]
    selector = kinds["Deployment"]["spec"]["selector"]["matchLabels"]
    assert selector.items() <= labels.items()
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()
    assert kinds["Service"]["spec"]["ports"][0]["targetPort"] == "http"
    target = kinds["HorizontalPodAutoscaler"]["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == (
        "Deployment",
        kinds["Deployment"]["metadata"]["name"],
    )


def test_image_installs_existing_extras_on_a_supported_python():
    docker = _dockerfile()
    project = metadata.metadata("recommenders-kit")
    install = next(run for run in docker["RUN"] if "pip install" in run)
    extras = re.search(r"\.whl\)\[([^\]]+)\]", install).group(1).split(",")
    assert set(extras) <= set(project.get_all("Provides-Extra"))
    assert any(
        "synapseml" in r and 'extra == "synapse"' in r for r in project.get_all("Requires-Dist")
    )
    python = re.match(r"python:(\d+)\.(\d+)", docker["FROM"][0]).groups()
    minimum = re.match(r">=(\d+)\.(\d+)", project["Requires-Python"]).groups()
    assert tuple(map(int, python)) >= tuple(map(int, minimum))
    assert any("openjdk-17" in run for run in docker["RUN"])
    prefetch = next(run for run in docker["RUN"] if "SYNAPSEML_PACKAGE" in run)
    assert shlex.split(prefetch)[0] == "python"
