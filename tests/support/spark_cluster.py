"""A real Spark standalone cluster on loopback: one master and N workers, each its own JVM.

Started from the installed pyspark (``bin/spark-class``), on 127.0.0.1 only, each worker with
its own work folder (executors write their ``stderr`` there). Every process is started in a
process group of its own and stopped with that group, so executors the workers launched go
with them and nothing started here outlives the ``with`` block.

    with standalone_cluster(tmp_path, workers=2) as cluster:
        spark = cluster_session(cluster, "test")

Also a command for benchmarks and manual runs:
``python -m tests.support.spark_cluster --workers 2 -- python -m benchmarks.evaluation``
runs the command with ``SPARK_MASTER`` set to the cluster's URL, then stops the cluster.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from recommenders_kit.serving.launch import free_port

#: Spark settings for a session on the loopback cluster: the driver on 127.0.0.1, few shuffle
#: partitions (two 1-core executors), deep stacks for ALS (the executors' in
#: :func:`cluster_session`), the Python of this process.
SESSION_CONFIG = {
    "spark.driver.host": "127.0.0.1",
    "spark.driver.bindAddress": "127.0.0.1",
    "spark.executor.memory": "1g",
    "spark.sql.shuffle.partitions": "4",
    "spark.default.parallelism": "4",
    "spark.driver.extraJavaOptions": "-Xss16m",
    "spark.ui.enabled": "false",
}


@dataclass
class Cluster:
    """A running cluster: its master URL, and each worker's process and work folder."""

    url: str
    workers: list[subprocess.Popen] = field(default_factory=list)
    work_dirs: list[Path] = field(default_factory=list)
    processes: list[subprocess.Popen] = field(default_factory=list)

    def executor_pids(self, worker: int = 0) -> list[int]:
        """The executor JVMs a worker launched (its process group's other Java processes)."""
        pgid = self.workers[worker].pid
        out = subprocess.run(
            ["ps", "-ww", "-eo", "pid=,pgid=,args="], capture_output=True, text=True
        )
        pids = []
        for line in out.stdout.splitlines():
            pid, group, args = line.split(None, 2)
            if int(group) == pgid and "CoarseGrainedExecutorBackend" in args:
                pids.append(int(pid))
        return pids


def _driver_jvm_options() -> str:
    """The JVM options this process gives its Spark drivers (``SPARK_SUBMIT_OPTS``: the test
    suite's C1-only compilation and serial collector, see scripts/test.sh), for the cluster's
    JVMs too."""
    return os.environ.get("SPARK_SUBMIT_OPTS", "")


def _spark_class() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent / "bin" / "spark-class"


def _wait_for(log: Path, text: str, proc: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if log.exists() and text in log.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = log.read_text(errors="replace")[-3000:] if log.exists() else ""
    raise RuntimeError(f"no {text!r} in {log} (exit {proc.poll()}):\n{tail}")


def _start(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen:
    with open(log, "w") as out:
        return subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )


def _stop(proc: subprocess.Popen) -> None:
    """Stop ``proc``'s process group: SIGTERM, then SIGKILL after 20 s."""
    for sig, wait in ((signal.SIGTERM, 20), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(wait)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # executors a worker left behind


@contextlib.contextmanager
def standalone_cluster(
    folder: Path, workers: int = 2, cores: int = 1, memory: str = "2g", timeout: float = 90
) -> Iterator[Cluster]:
    """Start a master and ``workers`` workers on 127.0.0.1; stop all of them on exit."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "SPARK_LOCAL_IP": "127.0.0.1",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_NO_DAEMONIZE": "1",
    }
    if options := _driver_jvm_options():
        env["SPARK_DAEMON_JAVA_OPTS"] = options
    port = free_port()
    cluster = Cluster(url=f"spark://127.0.0.1:{port}")
    try:
        master_log = folder / "master.log"
        master = _start(
            [
                str(_spark_class()),
                "org.apache.spark.deploy.master.Master",
                "--host",
                "127.0.0.1",
                "--port",
                str(port),
                "--webui-port",
                "0",
            ],
            master_log,
            env,
        )
        cluster.processes.append(master)
        _wait_for(master_log, "I have been elected leader", master, timeout)
        for i in range(workers):
            work_dir = folder / f"worker-{i}"
            work_dir.mkdir(exist_ok=True)
            log = folder / f"worker-{i}.log"
            worker = _start(
                [
                    str(_spark_class()),
                    "org.apache.spark.deploy.worker.Worker",
                    cluster.url,
                    "--host",
                    "127.0.0.1",
                    "--cores",
                    str(cores),
                    "--memory",
                    memory,
                    "--webui-port",
                    "0",
                    "--work-dir",
                    str(work_dir),
                ],
                log,
                env,
            )
            cluster.processes.append(worker)
            cluster.workers.append(worker)
            cluster.work_dirs.append(work_dir)
            _wait_for(log, "Successfully registered with master", worker, timeout)
        yield cluster
    finally:
        for proc in reversed(cluster.processes):
            _stop(proc)


def cluster_session(cluster: Cluster, app_name: str, **extra: Any) -> Any:
    """A SparkSession on ``cluster`` (with the SynapseML jars, as the test session has).

    The executors run this process's Python, where recommenders_kit is installed: PySpark
    takes the executors' interpreter from the driver's ``PYSPARK_PYTHON`` (on Databricks the
    platform sets it and the cluster library installs the package)."""
    from recommenders_kit.spark import SYNAPSEML_PACKAGE, start_or_get_spark

    os.environ["PYSPARK_PYTHON"] = sys.executable
    return start_or_get_spark(
        app_name,
        master=cluster.url,
        memory="3g",
        packages=[SYNAPSEML_PACKAGE],
        config={
            **SESSION_CONFIG,
            "spark.executor.extraJavaOptions": f"-Xss16m {_driver_jvm_options()}".strip(),
            **extra,
        },
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--cores", type=int, default=1)
    parser.add_argument("--memory", default="3g")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    with (
        tempfile.TemporaryDirectory() as tmp,
        standalone_cluster(
            Path(tmp), workers=args.workers, cores=args.cores, memory=args.memory
        ) as cluster,
    ):
        print(f"cluster at {cluster.url}", flush=True)
        return subprocess.call(command, env={**os.environ, "SPARK_MASTER": cluster.url})


if __name__ == "__main__":
    sys.exit(main())
