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

    recommenders-kit serve --model-dir models/criteo --port 5001

Endpoints: ``GET /`` (liveness), ``POST /score``, ``GET /swagger.json``. Choosing between this
server and Spark Serving, and starting either in a child process:
:mod:`recommenders_kit.serving.launch`.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from recommenders_kit.errors import MissingResourceError
from recommenders_kit.settings import GUNICORN_ARGS_ENV, MODEL_DIR_ENV, env_value

ENTRY_SCRIPT = Path(__file__).with_name("score.py")
#: Request threads per worker process.
DEFAULT_THREADS = 8
#: Seconds an idle connection (kept alive, or never sending) stays open.
KEEP_ALIVE_S = 5


#: the module of gunicorn settings the service runs with (gunicorn imports it by name)
GUNICORN_CONFIG = "recommenders_kit.serving.gunicorn_config"


def gunicorn_args(threads: int = DEFAULT_THREADS) -> str:
    """The gunicorn settings the service runs with, as ``$GUNICORN_CMD_ARGS`` holds them
    (here and in the Azure ML deployments the library writes): threaded workers that read
    each request whole before a thread takes it, with a keep-alive timeout, answering every
    error in JSON (:data:`GUNICORN_CONFIG`); the model loaded once, before the workers fork
    (``--preload``), so that a worker that dies is replaced in well under a second instead
    of the ~9 s a fresh worker took to import the server and load the model."""
    return (
        f"--config python:{GUNICORN_CONFIG} --worker-class {GUNICORN_CONFIG}.ServiceWorker "
        f"--threads {threads} --keep-alive {KEEP_ALIVE_S} --preload"
    )


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
