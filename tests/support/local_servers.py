"""Local stand-ins for the Azure services, started and stopped by the tests:

* Azurite (Blob Storage) and the Cosmos DB SQL API server, both from ``tools/azure-local``
  (installed by ``scripts/setup.sh``), on 127.0.0.1 with a port the OS picks;
* an MLflow tracking server (SQLite, artifacts in a folder), on 127.0.0.1 and a free port
  (``mlflow models serve`` is the library's own: ``deploy.mlflow.local_server``).

Each is a context manager yielding the address; output goes to a log file whose tail is shown
if the server does not come up.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from recommenders_kit.serving.launch import free_port, stop_process

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / "tools" / "azure-local"

#: Azurite's well-known development account (public, documented by Microsoft).
AZURITE_ACCOUNT = "devstoreaccount1"
AZURITE_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
#: The emulator key Cosmos DB's local servers accept (any key works with this one).
COSMOS_KEY = (
    "C2y6yDjf5/R+ob0N8A7Cgv30VRDJIWEHLM+4QDU5DE2nQ9nDuVTqobD4b8mGGyPMbIZnqyMsEcaGQy67XIw/Jw=="
)


@contextlib.contextmanager
def _process(cmd: list[str], ready: re.Pattern, timeout: float = 60, **kwargs) -> Iterator[str]:
    """Run ``cmd``, wait until its output matches ``ready``, yield the match's first group."""
    with tempfile.NamedTemporaryFile("w+", suffix=".log", delete=False) as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, **kwargs)
    log_path = Path(log.name)
    try:
        deadline = time.monotonic() + timeout
        while True:
            match = ready.search(log_path.read_text(errors="replace"))
            if match:
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                tail = log_path.read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{cmd[0]} did not start (exit {proc.poll()}):\n{tail}")
            time.sleep(0.1)
        yield match.group(1)
    finally:
        stop_process(proc)
        log_path.unlink(missing_ok=True)


def _node_tool(name: str) -> Path:
    path = TOOLS / "node_modules" / ".bin" / name
    if not path.exists():
        raise RuntimeError(
            f"{path} is missing: run scripts/setup.sh (it installs tools/azure-local)"
        )
    return path


@contextlib.contextmanager
def azurite(folder: Path) -> Iterator[str]:
    """Azurite's Blob service on 127.0.0.1; yields its connection string."""
    cmd = [
        str(_node_tool("azurite-blob")),
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        "0",
        "--location",
        str(folder),
        "--loose",
        "--skipApiVersionCheck",
        "--disableTelemetry",
    ]
    with _process(cmd, re.compile(r"successfully listens on http://127\.0\.0\.1:(\d+)")) as port:
        yield (
            "DefaultEndpointsProtocol=http;"
            f"AccountName={AZURITE_ACCOUNT};AccountKey={AZURITE_KEY};"
            f"BlobEndpoint=http://127.0.0.1:{port}/{AZURITE_ACCOUNT};"
        )


@contextlib.contextmanager
def cosmos() -> Iterator[str]:
    """The Cosmos DB SQL API server on 127.0.0.1 (HTTPS, self-signed); yields its endpoint."""
    _node_tool("azurite")  # the same npm install brings both
    cmd = ["node", str(TOOLS / "cosmos-server.js"), "0"]
    with _process(cmd, re.compile(r"listening (\d+)"), cwd=TOOLS) as port:
        yield f"https://127.0.0.1:{port}/"


_UVICORN = re.compile(r"Uvicorn running on (http://127\.0\.0\.1:\d+)")


@contextlib.contextmanager
def mlflow_server(folder: Path) -> Iterator[str]:
    """``mlflow server`` with an SQLite store and proxied artifacts in ``folder``; yields its
    URL."""
    cmd = [sys.executable, "-m", "mlflow", "server", "--host", "127.0.0.1"]
    cmd += ["--port", str(free_port()), "--workers", "1"]
    cmd += ["--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}"]
    cmd += ["--artifacts-destination", str(folder / "artifacts")]
    # uvicorn from this interpreter's environment
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    env = {**os.environ, "PATH": path, "MLFLOW_DISABLE_TELEMETRY": "true"}
    # no job runner: MLflow 3's server otherwise starts seven huey consumers (GenAI jobs this
    # registry never runs) that took 70 s of CPU in two minutes, beside the tests' own work
    env["MLFLOW_SERVER_ENABLE_JOB_EXECUTION"] = "false"
    with _process(cmd, _UVICORN, timeout=180, env=env) as url:
        yield url
