"""A loopback HTTP server answering the Databricks REST endpoints the SDK calls to install
cluster libraries (clusters/get, the Files API, DBFS, libraries/install) and to create a
Model Serving endpoint, and the first call MLflow makes to register a model in Unity Catalog
(registered-models/create; the next, model-versions/create, is refused: a real workspace hands
out cloud-storage credentials there). Every request is recorded so that a test can assert
what was sent."""

from __future__ import annotations

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class DatabricksAPI:
    """``with DatabricksAPI(spark_version="15.4.x-scala2.12") as api:`` ``api.url`` ...;
    ``api.requests`` (method, path, query, body), ``api.files`` (uploaded path -> bytes),
    ``api.installed`` (the libraries/install bodies)."""

    def __init__(self, spark_version: str = "15.4.x-scala2.12", cluster_id: str = "c-1"):
        self.spark_version, self.cluster_id = spark_version, cluster_id
        self.requests: list[tuple[str, str, dict, Any]] = []
        self.files: dict[str, bytes] = {}
        self.installed: list[dict] = []
        self._handles: dict[int, tuple[str, bytearray]] = {}
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self, status: int, body: Any = None) -> None:
                data = json.dumps(body if body is not None else {}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                parts = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                query = {k: v[0] for k, v in parse_qs(parts.query).items()}
                is_json = "json" in (self.headers.get("Content-Type") or "")
                body = json.loads(raw) if raw and is_json else raw
                api.requests.append((method, parts.path, query, body))
                status, answer = api.route(method, parts.path, query, body)
                self._answer(status, answer)

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def route(self, method: str, path: str, query: dict, body: Any) -> tuple[int, Any]:
        if method == "GET" and path.endswith("/clusters/get"):
            if query.get("cluster_id") != self.cluster_id:
                return 400, {"error_code": "INVALID_PARAMETER_VALUE", "message": "no cluster"}
            return 200, {"cluster_id": self.cluster_id, "spark_version": self.spark_version}
        if method == "PUT" and path.startswith("/api/2.0/fs/files/"):
            self.files[path.removeprefix("/api/2.0/fs/files")] = bytes(body)
            return 204, None
        if path == "/api/2.0/dbfs/create":
            handle = len(self._handles) + 1
            self._handles[handle] = (body["path"], bytearray())
            return 200, {"handle": handle}
        if path == "/api/2.0/dbfs/add-block":
            self._handles[body["handle"]][1].extend(base64.b64decode(body["data"]))
            return 200, {}
        if path == "/api/2.0/dbfs/close":
            name, data = self._handles.pop(body["handle"])
            self.files["dbfs:" + name] = bytes(data)
            return 200, {}
        if method == "POST" and path == "/api/2.0/libraries/install":
            self.installed.append(body)
            return 200, {}
        if method == "POST" and path == "/api/2.0/serving-endpoints":
            return 200, {**body, "id": "e-1", "state": {"ready": "NOT_READY"}}
        if path == "/api/2.0/mlflow/unity-catalog/registered-models/create":
            return 200, {"registered_model": {"name": body["name"]}}
        return 404, {"error_code": "ENDPOINT_NOT_FOUND", "message": f"{method} {path}"}

    def __enter__(self) -> DatabricksAPI:
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._server.shutdown()
        self._server.server_close()
