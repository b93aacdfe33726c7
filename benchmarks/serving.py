"""Scoring service throughput and latency: Azure ML's inference server (azmlinfsrv) and
SynapseML Spark Serving, side by side.

A LightGBM click model (trained on 100k generated Criteo rows) is served by
``recommenders-kit serve`` on 127.0.0.1; clients send single-row and 100-row requests built
from real Criteo rows, sequentially and from 8 concurrent clients (keep-alive connections:
the "connections" column counts the sockets the clients opened, one per client when the
server keeps them alive), and from 8 clients while 2 idle sockets are held open (clients that
connected and send nothing), while 2 or 8 clients have sent half a request and stall, and
while a worker is killed (``kill -9``) ``--kills`` times. Reported: requests/s, rows/s,
p50/p99 latency, failed requests (with kills: those in flight on the killed worker). The
baseline is the same requests scored in-process by the same scorer (``scorer.score(payload)``,
no HTTP), so "x baseline" is the cost of the web service around the model. Spark Serving
(``serve --engine spark``, each mode) gets the same workloads (``--spark-requests`` of them:
fewer for micro-batch, where each answer is a Spark job). "p99 x ref": an Azure ML row with
idle, stalled or killed clients, its p99 over the same service's with 8 clients and none of
them; a Spark Serving row, its p99 over the 1-worker Azure ML service's for the same rows and
clients. A second table gives, per kill run, the longest time without any answer and the
time from a kill to the first answer to a request sent after the worker died (with one
worker: its replacement's first answer).

Run:  .venv/bin/python -m benchmarks.serving [--requests 3000] [--workers 1 2]
          [--spark-requests 1000] [--modes auto micro-batch] [--kills 3]
"""

from __future__ import annotations

import argparse
import http.client
import json
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import numpy as np

from benchmarks._common import print_table
from recommenders_kit.datasets.criteo_synthetic import generate
from recommenders_kit.models.lightgbm.pandas import LightGBMClickModel
from recommenders_kit.serving.launch import background
from recommenders_kit.serving.schema import request_rows
from recommenders_kit.serving.scorers import load_scorer
from tests.support.scoring_clients import server_workers


def request_bodies(n_rows: int, count: int, seed: int = 0) -> list[bytes]:
    """``count`` request bodies of ``n_rows`` Criteo-shaped rows each (JSON, null = missing)."""
    frame, _ = generate(max(n_rows * 50, 5000), seed=seed)
    rows = request_rows(frame.drop(columns="label"))
    rng = np.random.default_rng(seed)
    return [
        json.dumps({"rows": [rows[i] for i in rng.integers(0, len(rows), n_rows)]}).encode()
        for _ in range(count)
    ]


class _Connection(http.client.HTTPConnection):
    """An HTTP connection that counts the sockets it opened (it reopens one the server
    closed)."""

    opened = 0

    def connect(self) -> None:
        self.opened += 1
        super().connect()


class Result(NamedTuple):
    latencies: list[float]
    failed: int
    wall: float
    connections: int | str
    answered: list[tuple[float, float]] = []  # (sent, answered) of each 200, perf_counter


def client(
    port: int,
    bodies: list[bytes],
    latencies: list[float],
    failures: list[int],
    opened: list[int],
    path: str = "/score",
    answered: list[tuple[float, float]] | None = None,
) -> None:
    conn = _Connection("127.0.0.1", port)
    headers = {"Content-Type": "application/json"}
    for body in bodies:
        start = time.perf_counter()
        try:
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):  # reset or closed: a failed request
            failures.append(0)
            conn.close()
            continue
        done = time.perf_counter()
        latencies.append(done - start)
        if response.status != 200:
            failures.append(response.status)
        elif answered is not None:
            answered.append((start, done))
    opened.append(conn.opened)
    conn.close()


def over_http(
    port: int,
    bodies: list[bytes],
    clients: int,
    idle: int = 0,
    path: str = "/score",
    stalled: int = 0,
    during: Callable[[], object] | None = None,
) -> Result:
    """``clients`` threads share ``bodies`` (POSTed to ``path``); ``idle`` sockets are
    connected and stay silent; ``stalled`` clients send a request's headers and half its
    body, then nothing; ``during`` runs while the clients send."""
    latencies: list[float] = []
    failures: list[int] = []
    opened: list[int] = []
    answered: list[tuple[float, float]] = []
    share = [bodies[i::clients] for i in range(clients)]
    threads = [
        threading.Thread(target=client, args=(port, s, latencies, failures, opened, path, answered))
        for s in share
    ]
    silent = [socket.create_connection(("127.0.0.1", port)) for _ in range(idle + stalled)]
    body = bodies[0]
    head = b"POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (path.encode(), len(body))
    for s in silent[idle:]:
        s.sendall(head + body[: len(body) // 2])
    start = time.perf_counter()
    for t in threads:
        t.start()
    if during is not None:
        during()
    for t in threads:
        t.join()
    wall = time.perf_counter() - start
    for s in silent:
        s.close()
    return Result(latencies, len(failures), wall, sum(opened), answered)


def kill_workers(url: str, kills: int, every_s: float = 2.0) -> list[tuple[float, float]]:
    """Kill (SIGKILL) the service's oldest worker ``kills`` times, ``every_s`` apart:
    ``(killed, gone)`` perf_counter times of each."""
    times = []
    for _ in range(kills):
        time.sleep(every_s)
        worker = min(server_workers(url), key=lambda p: p.create_time())
        killed = time.perf_counter()
        worker.kill()
        worker.wait(10)
        times.append((killed, time.perf_counter()))
    return times


def recovery(result: Result, kills: list[tuple[float, float]]) -> tuple[float, float]:
    """The longest time without a 200 answer around a kill, and the longest time from a kill
    to the first answer to a request sent once the killed worker was gone (with one worker:
    its replacement's first answer), in seconds."""
    done = sorted(d for _, d in result.answered)
    gaps, replaced = [], []
    for killed, gone in kills:
        before = max((d for d in done if d <= killed), default=killed)
        after = min(d for d in done if d > killed)
        gaps.append(after - before)
        replaced.append(min(d for s, d in result.answered if s > gone) - killed)
    return max(gaps), max(replaced)


def in_process(scorer, bodies: list[bytes]) -> Result:
    latencies = []
    start = time.perf_counter()
    for body in bodies:
        t0 = time.perf_counter()
        scorer.score(json.loads(body))
        latencies.append(time.perf_counter() - t0)
    return Result(latencies, 0, time.perf_counter() - start, "-")


def p99(result: Result) -> float:
    return statistics.quantiles(result.latencies, n=100)[98]


def row(
    name: str, rows: int, clients, result: Result, base_rps: float | None, ref: Result | None = None
) -> list:
    rps = len(result.latencies) / result.wall
    # (every request failed: no latencies to report)
    q = (
        statistics.quantiles(result.latencies, n=100)
        if len(result.latencies) > 1
        else [np.nan] * 99
    )
    return [
        name,
        rows,
        clients,
        len(result.latencies),
        result.connections,
        rps,
        rps * rows,
        q[49] * 1e3,
        q[98] * 1e3,
        result.failed,
        "" if base_rps is None else f"{base_rps / rps:.1f}",
        "" if ref is None else f"{q[98] / p99(ref):.1f}",
    ]


def spark_rows(
    folder: str,
    mode: str,
    workloads: dict[int, list[bytes]],
    requests: int,
    baseline: dict[int, float],
    azureml: dict[tuple, Result],
) -> list[list]:
    """The table rows of Spark Serving in ``mode``: each workload from 1 and 8 clients, then
    single rows from 8 clients while 2 stall mid-body."""
    table = []
    with background(folder, engine="spark", mode=mode) as url:
        port = int(url.rsplit(":", 1)[1])
        name = f"Spark Serving, {mode}"
        for n_rows, bodies in workloads.items():
            count = requests // (1 if n_rows == 1 else 5)
            over_http(port, bodies[:5], 1)  # warm up
            for clients in (1, 8):
                result = over_http(port, bodies[:count], clients)
                ref = azureml.get((n_rows, clients))
                table.append(row(name, n_rows, clients, result, baseline[n_rows], ref))
        result = over_http(port, workloads[1][:requests], 8, stalled=2)
        ref = azureml.get((1, "8 + 2 stalled"))
        table.append(row(name + ", 2 clients stalled mid-body", 1, 8, result, baseline[1], ref))
    return table


def azureml_rows(
    folder: str,
    workers: int,
    workloads: dict[int, list[bytes]],
    baseline: dict[int, float],
    azureml: dict[tuple, Result],
    kills: int,
) -> tuple[list[list], list]:
    """The table rows of the Azure ML service with ``workers`` workers: each workload from 1
    and 8 clients, then single rows from 8 clients while sockets idle, while clients stall
    mid-body and while ``kills`` workers are killed (``p99 x ref``: over the same clients'
    p99 without them); and the row of the recovery table."""
    table, results = [], {}
    name = f"Azure ML, {workers} worker(s)"
    with background(folder, workers=workers) as url:
        port = int(url.rsplit(":", 1)[1])
        for n_rows, bodies in workloads.items():
            over_http(port, bodies[:50], 1)  # warm up connections and workers
            for clients in (1, 8):
                results[n_rows, clients] = result = over_http(port, bodies, clients)
                azureml.setdefault((n_rows, clients), result)
                table.append(row(name, n_rows, clients, result, baseline[n_rows]))
        singles, unloaded = workloads[1], results[1, 8]
        result = over_http(port, singles, 8, idle=2)
        table.append(row(name + ", 2 idle sockets open", 1, 8, result, baseline[1], unloaded))
        for stalled in (2, 8):
            result = over_http(port, singles, 8, stalled=stalled)
            azureml.setdefault((1, f"8 + {stalled} stalled"), result)
            what = f", {stalled} clients stalled mid-body"
            table.append(row(name + what, 1, 8, result, baseline[1], unloaded))
        killed: list[tuple[float, float]] = []
        result = over_http(
            port, singles * 3, 8, during=lambda: killed.extend(kill_workers(url, kills))
        )
        table.append(row(name + f", {kills} workers killed", 1, 8, result, baseline[1], unloaded))
    return table, [workers, kills, result.failed, *recovery(result, killed)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--spark-requests", type=int, default=1000)
    parser.add_argument("--modes", nargs="*", default=["auto", "micro-batch"])
    parser.add_argument("--kills", type=int, default=3, help="workers killed under load")
    args = parser.parse_args()
    frame, _ = generate(100_000, seed=1)
    with tempfile.TemporaryDirectory() as tmp:
        folder = LightGBMClickModel(progress=False).fit(frame).save(Path(tmp) / "criteo")
        scorer = load_scorer(folder)
        workloads = {
            1: request_bodies(1, args.requests),
            100: request_bodies(100, args.requests // 5),
        }
        table, baseline, azureml, recoveries = [], {}, {}, []
        for n_rows, bodies in workloads.items():
            scorer.score(json.loads(bodies[0]))  # warm up
            result = in_process(scorer, bodies)
            baseline[n_rows] = len(result[0]) / result[2]
            table.append(row("in-process (baseline)", n_rows, "-", result, None))
        for workers in args.workers:
            rows, recovered = azureml_rows(
                folder, workers, workloads, baseline, azureml, args.kills
            )
            table += rows
            recoveries.append(recovered)
        for mode in args.modes:
            table += spark_rows(folder, mode, workloads, args.spark_requests, baseline, azureml)
    print_table(
        [
            "path",
            "rows/req",
            "clients",
            "requests",
            "connections",
            "req/s",
            "rows/s",
            "p50 ms",
            "p99 ms",
            "failed",
            "x baseline time",
            "p99 x ref",
        ],
        table,
    )
    print()
    print_table(
        [
            "workers",
            "killed (kill -9)",
            "failed requests",
            "longest gap without answers s",
            "kill to replacement's answer s",
        ],
        recoveries,
    )


if __name__ == "__main__":
    main()
