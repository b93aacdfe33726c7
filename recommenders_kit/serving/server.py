"""Run the scoring service under Azure ML's own inference server on this machine.

``azmlinfsrv`` (package ``azureml-inference-server-http``) is the server Azure ML runs in its
containers; running the entry script under it locally is the closest thing to the cloud.
Settings that differ from its defaults: it listens on ``127.0.0.1`` unless told otherwise
(the server has no flag for this and binds every interface), gunicorn's control socket is off
(it would write ``~/.gunicorn``), ``OMP_NUM_THREADS=1`` per worker (LightGBM's threads on
single-row requests tripled the p99 latency in measurements here), and each worker serves
requests from a pool of threads (:func:`gunicorn_args`): with the default one-thread worker,
one client that opened a socket and sent nothing froze the whole service, and every answer
closed its connection. Now a connection that sends nothing waits in the worker's poller and
is closed after :data:`KEEP_ALIVE_S` seconds, a client that stops mid-request holds one
thread, and clients that keep their connection alive reuse it.

    python -m recommenders_kit.serving.server --model-dir models/criteo --port 5001
    recommenders-kit serve --model-dir models/criteo --port 5001     # the same

Endpoints: ``GET /`` (liveness), ``POST /score``, ``GET /swagger.json``.

From Python (a notebook, a test, a benchmark), :func:`background` runs ``recommenders-kit
serve`` in a child process and yields its URL once it answers::

    with background("models/criteo") as url:
        requests.post(url + "/score", json={"rows": [...]})
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from recommenders_kit.errors import JobFailedError, MissingResourceError
from recommenders_kit.settings import GUNICORN_ARGS_ENV, MODEL_DIR_ENV, env_value

ENTRY_SCRIPT = Path(__file__).with_name("score.py")
#: The servers ``recommenders-kit serve`` runs: Azure ML's inference server, or SynapseML
#: Spark Serving (:mod:`recommenders_kit.serving.spark_serving`).
ENGINES = ("azureml", "spark")
#: Spark Serving's streaming modes (see :mod:`recommenders_kit.serving.spark_serving`).
SPARK_MODES = ("micro-batch", "continuous")
#: Request threads per worker process.
DEFAULT_THREADS = 8
#: Seconds an idle connection (kept alive, or never sending) stays open.
KEEP_ALIVE_S = 5


def gunicorn_args(threads: int = DEFAULT_THREADS) -> str:
    """The gunicorn settings the service runs with, as ``$GUNICORN_CMD_ARGS`` holds them
    (here and in the Azure ML deployments the library writes): threaded workers with a
    keep-alive timeout."""
    return f"--worker-class gthread --threads {threads} --keep-alive {KEEP_ALIVE_S}"


def run(
    model_dir: str | Path,
    port: int = 5001,
    host: str = "127.0.0.1",
    workers: int = 1,
    threads: int = DEFAULT_THREADS,
) -> None:
    """Start the server in this process (blocks until it stops); a ``$GUNICORN_CMD_ARGS``
    already set adds to (and overrides) :func:`gunicorn_args`."""
    model_dir = Path(model_dir).resolve()
    if not model_dir.is_dir():
        raise MissingResourceError(f"model_dir {model_dir} is not a folder")
    os.environ[MODEL_DIR_ENV] = str(model_dir)
    os.environ["OMP_NUM_THREADS"] = "1"
    own = env_value(GUNICORN_ARGS_ENV, "")
    os.environ[GUNICORN_ARGS_ENV] = f"--no-control-socket {gunicorn_args(threads)} {own}"
    from azureml_inference_server_http import amlserver

    amlserver.DEFAULT_HOST = host
    sys.argv = [
        "azmlinfsrv",
        "--entry_script",
        str(ENTRY_SCRIPT),
        "--model_dir",
        str(model_dir),
        "--port",
        str(port),
        "--worker_count",
        str(workers),
    ]
    amlserver.run()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def background(
    model_dir: str | Path,
    port: int | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
    timeout: float = 120,
    engine: Literal["azureml", "spark"] = "azureml",
    mode: str = "micro-batch",
) -> Iterator[str]:
    """Run ``recommenders-kit serve`` in a child process on 127.0.0.1; yield its base URL
    (requests go to ``URL + "/score"``) once it answers, and stop it (its port released) on
    exit.

    ``engine``: ``"azureml"`` (Azure ML's inference server; ``workers`` processes) or
    ``"spark"`` (SynapseML Spark Serving in ``mode``, see
    :mod:`recommenders_kit.serving.spark_serving`). ``env`` adds environment variables (e.g. the
    ``RECOMMENDERS_KIT_COSMOS_*`` settings). The server's output goes to a temporary log,
    shown in the error if it does not start.
    """
    port = port or _free_port()
    cmd = [sys.executable, "-m", "recommenders_kit.cli", "serve", "--engine", engine]
    cmd += ["--model-dir", str(model_dir), "--port", str(port)]
    cmd += ["--workers", str(workers)] if engine == "azureml" else ["--mode", mode]
    url = f"http://127.0.0.1:{port}"
    probe = url + ("/" if engine == "azureml" else "/score")
    with tempfile.TemporaryFile("w+") as log:
        proc = subprocess.Popen(
            cmd,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,  # its own process group: the JVM it starts goes with it
        )
        try:
            deadline = time.monotonic() + timeout
            while not _live(probe):
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise JobFailedError(
                        f"the scoring server did not start (exit {proc.poll()}):\n"
                        + log.read()[-3000:]
                    )
                time.sleep(0.2)
            yield url
        finally:
            _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    """Stop the server (SIGTERM: it shuts down cleanly), then anything left in its group."""
    proc.terminate()
    try:
        proc.wait(30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


def _live(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--port", type=int, default=5001)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    run(args.model_dir, port=args.port, host=args.host, workers=args.workers)


if __name__ == "__main__":
    main()
