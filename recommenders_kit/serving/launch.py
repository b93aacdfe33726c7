"""Start the scoring service on one of its two servers: in this process (:func:`serve`, what
``recommenders-kit serve`` calls), or in a child process for a notebook, a test or a benchmark
(:func:`background`); :func:`command_server` runs any server command the same way (the
MLflow scoring server of :func:`recommenders_kit.deploy.mlflow.local_server`).

* ``"azureml"``: Azure ML's inference server (:mod:`recommenders_kit.serving.server`);
* ``"spark"``: SynapseML Spark Serving (:mod:`recommenders_kit.serving.spark_serving`).

Example::

    with background("models/criteo") as url:
        requests.post(url + "/score", json={"rows": [...]})
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from recommenders_kit._validate import require_choice
from recommenders_kit.errors import JobFailedError
from recommenders_kit.serving import server

#: The servers, by the name ``serve(engine=...)`` and ``recommenders-kit serve`` take.
ENGINES = ("azureml", "spark")
#: Spark Serving's streaming modes (see :mod:`recommenders_kit.serving.spark_serving`).
SPARK_MODES = ("auto", "micro-batch", "continuous")


def serve(
    model_dir: str | Path,
    engine: str = "azureml",
    port: int = 5001,
    host: str = "127.0.0.1",
    workers: int = 1,
    threads: int = server.DEFAULT_THREADS,
    mode: str = "auto",
    checkpoint: str | Path | None = None,
) -> None:
    """Serve the model in ``model_dir`` on ``engine`` until the process is stopped.
    ``workers`` and ``threads``: Azure ML's server; ``mode`` and ``checkpoint``: Spark
    Serving's. A folder without a model fails here, before a server starts."""
    from recommenders_kit.serving.scorers import model_folder

    require_choice(engine, ENGINES, "engine")
    model_folder(model_dir)
    if engine == "spark":
        from recommenders_kit.serving import spark_serving

        spark_serving.run(model_dir, host=host, port=port, mode=mode, checkpoint=checkpoint)
    else:
        server.run(model_dir, port=port, host=host, workers=workers, threads=threads)


@contextlib.contextmanager
def background(
    model_dir: str | Path,
    port: int | None = None,
    workers: int = 1,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    engine: Literal["azureml", "spark"] = "azureml",
    mode: str = "auto",
    log: str | Path | None = None,
) -> Iterator[str]:
    """Run :func:`serve` in a child process on 127.0.0.1; yield its base URL (requests go to
    ``URL + "/score"``) once it answers, and stop it (its port released, the JVM of Spark
    Serving too) on exit.

    ``env`` adds environment variables for the server (e.g. the ``RECOMMENDERS_KIT_COSMOS_*``
    settings). The server's output goes to the file ``log`` (kept), by default to a temporary
    one; its end is shown in the error if the server does not answer within ``timeout``
    seconds (one that exits is reported at once; Spark Serving's continuous mode can take
    minutes to answer its first request on a busy machine).
    """
    require_choice(engine, ENGINES, "engine")
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    probe = url + ("/" if engine == "azureml" else "/score")
    kwargs = {"engine": engine, "port": port, "workers": workers, "mode": mode}
    output = open(log, "w+b") if log else tempfile.NamedTemporaryFile(suffix=".log")  # noqa: SIM115
    with output:
        child = multiprocessing.get_context("spawn").Process(
            target=_serve_in_child, args=(str(model_dir), kwargs, env or {}, output.name)
        )
        child.start()
        try:
            _wait_until_live(probe, child, timeout, output, "the scoring server")
            yield url
        finally:
            stop_process(child)


@contextlib.contextmanager
def command_server(
    command: list[str],
    probe: str,
    *,
    env: dict[str, str] | None = None,
    timeout: float = 300,
    name: str = "the server",
) -> Iterator[None]:
    """Run the server ``command`` in a child process of its own session (what it starts goes
    with it), its output to a temporary log; return once ``probe`` (a URL) answers 200, and
    stop it when the block ends. JobFailedError with the log's end if it exits first or does
    not answer within ``timeout`` seconds."""
    with tempfile.TemporaryFile() as log:
        child = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        try:
            _wait_until_live(probe, child, timeout, log, name)
            yield
        finally:
            stop_process(child)


def _serve_in_child(model_dir: str, kwargs: dict, env: dict[str, str], log: str) -> None:
    """The child: its own process group (what it starts goes with it), output to ``log``."""
    os.setsid()
    out = os.open(log, os.O_WRONLY | os.O_APPEND)
    os.dup2(out, 1)
    os.dup2(out, 2)
    os.environ.update(env)
    serve(model_dir, **kwargs)


def _wait_until_live(probe: str, child: Any, timeout: float, log: Any, name: str) -> None:
    """Return once ``probe`` answers 200; JobFailedError (with the end of ``log``) when the
    child exits first (at once) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while not _live(probe):
        code = _exit_code(child)
        if code is not None or time.monotonic() > deadline:
            log.seek(0)
            state = f"did not start (exit {code})" if code is not None else "did not answer"
            tail = log.read().decode(errors="replace")[-3000:]
            raise JobFailedError(f"{name} {state} within {timeout:.0f} s:\n{tail}")
        time.sleep(0.2)


def stop_process(child: Any) -> None:
    """Stop a child server (a ``subprocess.Popen`` or a ``multiprocessing`` process): SIGTERM
    (it shuts down cleanly), SIGKILL after 30 s, then anything left in its process group."""
    child.terminate()
    _join(child, 30)
    if _exit_code(child) is None:
        child.kill()
        _join(child, None)
    if child.pid is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.pid, signal.SIGKILL)


def _exit_code(child: Any) -> int | None:
    return child.poll() if isinstance(child, subprocess.Popen) else child.exitcode


def _join(child: Any, timeout: float | None) -> None:
    if isinstance(child, subprocess.Popen):
        with contextlib.suppress(subprocess.TimeoutExpired):
            child.wait(timeout)
    else:
        child.join(timeout)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _live(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except OSError:
        return False
