"""Clients of a scoring service (either engine) as the serving tests need them: a JSON body
posted as-is, a raw socket that sends what it is given, a malformed chunked request, and the
service's worker processes."""

from __future__ import annotations

import re
import socket
from urllib.parse import urlparse

import psutil
import requests

#: A chunked request whose first chunk size is not hexadecimal.
BROKEN_CHUNKED = (
    b"POST /score HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
    b"Content-Type: application/json\r\n\r\nzz\r\n{}\r\n0\r\n\r\n"
)


def post(url: str, body: str | bytes, timeout: float = 30) -> requests.Response:
    """POST ``body`` unchanged to ``url/score`` as JSON."""
    headers = {"Content-Type": "application/json"}
    return requests.post(url + "/score", data=body, headers=headers, timeout=timeout)


def connect(url: str, data: bytes = b"", timeout: float = 30) -> socket.socket:
    """A socket to the service of ``url`` that has sent ``data`` (and nothing else yet)."""
    where = urlparse(url)
    s = socket.create_connection((where.hostname, where.port), timeout=timeout)
    if data:
        s.sendall(data)
    return s


def refused_or_closed(answer: bytes) -> bool:
    """Whether a raw answer is a closed connection or a 4xx status line."""
    return answer == b"" or answer.split(b" ")[1].startswith(b"4")


def read_answer(s: socket.socket) -> bytes:
    """Read one answer (head and ``Content-Length`` body) from a kept-alive connection."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += s.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length: *(\d+)", head)
    while len(body) < int(length[1] if length else 0):
        body += s.recv(65536)
    return head + b"\r\n\r\n" + body


def raw_answer(url: str, data: bytes, timeout: float = 30) -> tuple[int, dict[str, str], bytes]:
    """Send ``data`` as it is and read the whole answer (the request closes the connection):
    its status, headers (lower-case names) and body."""
    with connect(url, data, timeout) as s:
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    head, _, body = b"".join(chunks).partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in headers.items()}, body


def server_workers(url: str) -> list[psutil.Process]:
    """The worker processes of the gunicorn service at ``url``, started by this process
    (:func:`~recommenders_kit.serving.launch.background`): the descendants that listen on its
    port, less the master (the one whose parent does not)."""
    port = urlparse(url).port
    listening = {
        p.pid: p
        for p in psutil.Process().children(recursive=True)
        if any(
            c.laddr and c.laddr.port == port and c.status == psutil.CONN_LISTEN
            for c in p.net_connections("tcp")
        )
    }
    return [p for p in listening.values() if p.ppid() in listening]
