"""A recording stand-in for ``azure.ai.ml.MLClient`` at the control-plane boundary.

No Azure ML workspace exists here, so this double keeps what the service would hold
(endpoints, deployments, model versions) and records every call with the entity sent, for
tests to check. Only the operations the library uses exist; anything else fails loudly.
"""

from __future__ import annotations

import copy
from typing import Any

from azure.core.exceptions import ResourceNotFoundError


class _Poller:
    def __init__(self, value: Any):
        self._value = value

    def result(self) -> Any:
        return self._value


class _Group:
    def __init__(self, client: RecordingMLClient, name: str):
        self._client, self._name = client, name

    def _record(self, method: str, entity: Any) -> Any:
        sent = copy.deepcopy(entity)
        self._client.calls.append((f"{self._name}.{method}", sent))
        return sent


class _Models(_Group):
    def create_or_update(self, model):
        sent = self._record("create_or_update", model)
        versions = self._client.model_versions.setdefault(model.name, 0) + 1
        self._client.model_versions[model.name] = sent.version = str(versions)
        return sent


class _Environments(_Group):
    def create_or_update(self, environment):
        return self._record("create_or_update", environment)


class _Endpoints(_Group):
    def begin_create_or_update(self, endpoint):
        self._client.endpoints[endpoint.name] = sent = self._record(
            "begin_create_or_update", endpoint
        )
        return _Poller(sent)

    def get(self, name: str):
        if name not in self._client.endpoints:
            raise ResourceNotFoundError(f"endpoint {name} not found")
        return copy.deepcopy(self._client.endpoints[name])


class _Deployments(_Group):
    def begin_create_or_update(self, deployment):
        if deployment.endpoint_name not in self._client.endpoints:
            raise ResourceNotFoundError(f"endpoint {deployment.endpoint_name} not found")
        sent = self._record("begin_create_or_update", deployment)
        self._client.deployments[(deployment.endpoint_name, deployment.name)] = sent
        return _Poller(sent)

    def list(self, endpoint_name: str):
        return [d for (e, _), d in self._client.deployments.items() if e == endpoint_name]


class RecordingMLClient:
    def __init__(self):
        self.calls: list[tuple[str, Any]] = []
        self.model_versions: dict[str, int] = {}
        self.endpoints: dict[str, Any] = {}
        self.deployments: dict[tuple[str, str], Any] = {}
        self.models = _Models(self, "models")
        self.environments = _Environments(self, "environments")
        self.online_endpoints = _Endpoints(self, "online_endpoints")
        self.online_deployments = _Deployments(self, "online_deployments")

    def call_names(self) -> list[str]:
        return [name for name, _ in self.calls]
