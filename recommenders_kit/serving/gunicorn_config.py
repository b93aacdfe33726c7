"""gunicorn settings of the scoring service: every answer the documented JSON, no client able
to hold a request thread, workers forked with the model already loaded.

Azure ML's inference server runs gunicorn on its own Flask app; ``$GUNICORN_CMD_ARGS`` is the
one setting a deployment controls, and :func:`recommenders_kit.serving.server.gunicorn_args`
names this module there (``--config python:recommenders_kit.serving.gunicorn_config``) and
its worker class; gunicorn imports it by that name (nothing else in the package does).

* :func:`post_worker_init` wraps the app of each worker in :func:`json_errors`: a request
  line whose path or query string is not UTF-8 is refused with 400 before the app sees it
  (the server's after-request hook decoded the query string *after* scoring and failed,
  answering 500), and every 4xx / 5xx the app answers in another shape (Flask's 404 and 405,
  the server's ``{"message": ...}``) becomes ``{"error": ...}``;
* :class:`ServiceWorker` reads each request whole (headers and body) in the worker's poller
  before a request thread takes it, so a client that stalls mid-request holds a socket, not a
  thread: it is answered 408 :data:`REQUEST_READ_TIMEOUT_S` seconds after its first byte
  (gunicorn's own threaded worker blocked a thread on the body for as long as the client
  wished: 8 such clients froze a worker). It also answers what gunicorn refuses before any app
  runs (a malformed request line, headers too large: 431, an ``Expect`` it cannot meet: 417)
  with the JSON body instead of gunicorn's HTML page; a transfer coding gunicorn does not
  implement is the client's to change: 400, not 501. On SIGTERM it closes its idle
  keep-alive connections at once (gunicorn's worker kept them until its 30 s graceful timeout
  ran out, so a service with idle clients took 30 s to stop) and finishes the requests in
  flight.

Example (what the service's processes get)::

    GUNICORN_CMD_ARGS="--config python:recommenders_kit.serving.gunicorn_config \\
      --worker-class recommenders_kit.serving.gunicorn_config.ServiceWorker --preload ..."
"""

from __future__ import annotations

import contextlib
import html
import json
import re
import selectors
import time
from collections.abc import Callable, Iterable
from functools import partial
from typing import Any

from gunicorn import http, util
from gunicorn.http2 import negotiation
from gunicorn.workers.gthread import ThreadWorker

from recommenders_kit.serving.schema import MAX_BODY_BYTES

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


def post_worker_init(worker: Any) -> None:
    """gunicorn's hook, run in each worker once its app is loaded: wrap the app."""
    worker.wsgi = json_errors(worker.wsgi)


def json_errors(app: App) -> App:
    """``app`` answering 400 to a path or query string that is not UTF-8, and with every
    error answer's body ``{"error": message}`` (JSON error bodies with ``"error"`` pass as
    they are; the status and other headers are kept)."""

    def wrapped(environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        for key, what in (("PATH_INFO", "path"), ("QUERY_STRING", "query string")):
            if not _is_utf8(environ.get(key, "")):
                return _json(start_response, "400 Bad Request", [], f"the {what} is not UTF-8")
        answered: list[Any] = []

        def keep(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            answered[:] = [status, headers]
            return start_response(status, headers, exc_info) if int(status[:3]) < 400 else None

        body = app(environ, keep)
        status, headers = answered
        if int(status[:3]) < 400:
            return body
        data = b"".join(body)
        if hasattr(body, "close"):
            body.close()
        message = _error_message(data, status[4:])
        if message is None:  # already the documented body
            start_response(status, headers)
            return [data]
        kept = [(k, v) for k, v in headers if k.lower() not in ("content-type", "content-length")]
        return _json(start_response, status, kept, message)

    return wrapped


class ServiceWorker(ThreadWorker):
    """gunicorn's threaded worker, handing a request to a thread only once it has arrived
    whole, and answering the requests it refuses itself in JSON."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._arriving: dict[Any, _Arriving] = {}

    def enqueue_req(self, conn: Any) -> None:
        """Read ``conn``'s next request in the poller first (plain HTTP/1.x; TLS and HTTP/2
        connections go to a thread at once, as gunicorn does)."""
        if (
            self.cfg.is_ssl
            or conn.is_http2
            or negotiation.prior_knowledge_allowed(self.cfg, conn.client)
        ):
            super().enqueue_req(conn)
            return
        held = conn.parser.unreader.take_buffered() if conn.parser else b""
        arriving = _Arriving(conn, bytearray(held), time.monotonic() + self.cfg.keepalive)
        if held:
            arriving.started()
        if arriving.whole():
            self._hand_over(arriving)
            return
        self._arriving[conn] = arriving
        conn.sock.setblocking(False)
        self.poller.register(conn.sock, selectors.EVENT_READ, partial(self._read, arriving))

    def _read(self, arriving: _Arriving, sock: Any) -> None:
        try:
            chunk = sock.recv(_RECV_BYTES)
        except BlockingIOError:
            return
        except OSError:
            chunk = b""
        if not arriving.data:
            if not chunk:  # the client left without a word
                self._forget(arriving)
                self._close(arriving.conn)
                return
            arriving.started()
        arriving.data += chunk
        # a client that stopped sending gets gunicorn's answer to what came
        if not chunk or arriving.whole():
            self._forget(arriving)
            self._hand_over(arriving)

    def _hand_over(self, arriving: _Arriving) -> None:
        """Give the connection, its request read, to a request thread."""
        conn = arriving.conn
        if conn.parser is None:
            conn.parser = http.get_parser(self.cfg, conn.sock, conn.client)
        conn.parser.unreader.unread(bytes(arriving.data))
        conn.data_ready = True
        super().enqueue_req(conn)

    def _forget(self, arriving: _Arriving) -> None:
        if self._arriving.pop(arriving.conn, None) is not None:
            self.poller.unregister(arriving.conn.sock)

    def _close(self, conn: Any) -> None:
        self.nr_conns -= 1
        conn.close()

    def handle_exit(self, sig: int, frame: Any) -> None:
        """SIGTERM: stop, and (in the main loop, not in the signal handler) close the idle
        connections: no request is lost, and none is waiting for the graceful timeout."""
        super().handle_exit(sig, frame)
        self.method_queue.defer(self._close_idle)

    def _close_idle(self) -> None:
        """Close the connections with no request under way: kept alive, or waiting for the
        first byte of their next request."""
        while self.keepalived_conns:
            conn = self.keepalived_conns.popleft()
            self.poller.unregister(conn.sock)
            self._close(conn)
        for arriving in [a for a in self._arriving.values() if not a.data]:
            self._forget(arriving)
            self._close(arriving.conn)

    def murder_pending(self) -> None:
        """gunicorn's periodic check, and: a connection that sent nothing in the keep-alive
        time is closed; one whose request is not whole :data:`REQUEST_READ_TIMEOUT_S` seconds
        after its first byte is answered 408 and closed."""
        super().murder_pending()
        now = time.monotonic()
        for arriving in [a for a in self._arriving.values() if a.deadline <= now]:
            self._forget(arriving)
            if arriving.data:
                message = f"the request did not arrive whole within {REQUEST_READ_TIMEOUT_S} s"
                _send(arriving.conn.sock, _raw_answer(408, "Request Timeout", message))
            self._close(arriving.conn)

    def handle_error(self, req: Any, client: Any, addr: Any, exc: BaseException) -> None:
        page = _Page(client)
        super().handle_error(req, page, addr, exc)
        match = re.match(rb"HTTP/1\.1 (\d{3}) ([^\r]*)\r\n", page.written)
        if match is None:  # nothing was written (the client went away)
            return
        code, reason = int(match[1]), match[2].decode("latin-1")
        text = page.written.split(b"</h1>", 1)[-1].split(b"</body>", 1)[0]
        message = html.unescape(text.decode("latin-1")).strip() or reason
        if code == 501:  # an unsupported transfer coding: the client's request to change
            code, reason = 400, "Bad Request"
        try:
            util.write_nonblock(client, _raw_answer(code, reason, message))
        except OSError:
            self.log.debug("Failed to send error message.")


class _Arriving:
    """A connection whose request is being read by the poller: the bytes so far, the time
    it has left, and what its head says the body's framing is (read once, so each received
    chunk costs only its own bytes: a 16 MB body is not rescanned 256 times)."""

    def __init__(self, conn: Any, data: bytearray, deadline: float) -> None:
        self.conn, self.data, self.deadline = conn, data, deadline
        self._framing: _Framing | None = None  # once the head has arrived

    def started(self) -> None:
        """The request's first byte arrived: the whole request is due in
        :data:`REQUEST_READ_TIMEOUT_S` seconds."""
        self.deadline = time.monotonic() + REQUEST_READ_TIMEOUT_S

    def whole(self) -> bool:
        """Whether the request has arrived whole (or far enough for gunicorn or the app to
        refuse it); a client that waits for ``100 Continue`` before its body is sent it once
        (gunicorn sends its own too later, which clients skip as a 1xx answer)."""
        if self._framing is None:
            head = _head(self.data)
            if head is None:
                return len(self.data) > _MAX_HEAD_BYTES
            self._framing = _Framing.of(head)
            arrived = self._framing.arrived(self.data)
            if not arrived and _EXPECT_CONTINUE.search(head):
                _send(self.conn.sock, b"HTTP/1.1 100 Continue\r\n\r\n")
            return arrived
        return self._framing.arrived(self.data)


#: Seconds a client has, from its request's first byte, to send the whole request (headers
#: and body) before it is answered 408: a 16 MB body needs 1.6 MB/s.
REQUEST_READ_TIMEOUT_S = 10
_RECV_BYTES = 2**16
#: a head not ended within this many bytes goes to gunicorn, which refuses it (its limits:
#: request line 4,094 bytes, 100 header fields of 8,190)
_MAX_HEAD_BYTES = 2**20
_HEAD_END = re.compile(rb"\r?\n\r?\n")
_EXPECT_CONTINUE = re.compile(rb"(?im)^expect:[ \t]*100-continue[ \t]*\r?$")
_CHUNKED = re.compile(rb"(?im)^transfer-encoding:.*chunked")
_LENGTH = re.compile(rb"(?im)^content-length:[ \t]*([^\r\n]*)")


def _head(data: bytes | bytearray) -> bytes | None:
    """The request head in ``data`` (up to its blank line), None while it is not whole."""
    end = _HEAD_END.search(data)
    return None if end is None else bytes(data[: end.end()])


class _Framing:
    """How a request's body ends, from its head: a length, chunks, or nothing worth waiting
    for (gunicorn or the app refuses the request: both framings, or a malformed or oversized
    length)."""

    def __init__(
        self, head_bytes: int, *, refused: bool = False, length: int = 0, chunked: bool = False
    ) -> None:
        self.head_bytes = head_bytes
        self.refused, self.length, self.chunked = refused, length, chunked
        self._chunk_at = head_bytes  # where the next unread chunk-size line starts

    @classmethod
    def of(cls, head: bytes) -> _Framing:
        lengths = _LENGTH.findall(head)
        if _CHUNKED.search(head):
            return cls(len(head), refused=bool(lengths), chunked=True)
        if len(lengths) != 1 or not lengths[0].strip().isdigit():
            return cls(len(head), refused=True)
        length = int(lengths[0])
        return cls(len(head), refused=length > MAX_BODY_BYTES, length=length)

    def arrived(self, data: bytes | bytearray) -> bool:
        """Whether the body after the head in ``data`` is whole, or too long or malformed to
        wait for; chunks already read are not read again."""
        if self.refused:
            return True
        body_bytes = len(data) - self.head_bytes
        if not self.chunked:
            return body_bytes >= self.length
        if body_bytes > MAX_BODY_BYTES:
            return True
        while (line_end := data.find(b"\r\n", self._chunk_at)) >= 0:
            try:
                size = int(data[self._chunk_at : line_end].split(b";")[0], 16)
            except ValueError:
                return True  # malformed: gunicorn answers it
            if size == 0:
                return data.find(b"\r\n\r\n", line_end) >= 0
            next_at = line_end + 2 + size + 2
            if next_at > len(data):
                return False  # this chunk's data is still arriving
            self._chunk_at = next_at
        return False


def _send(sock: Any, data: bytes) -> None:
    """Write a short answer to a non-blocking socket, if the client still reads."""
    with contextlib.suppress(OSError):
        sock.send(data)


def _raw_answer(code: int, reason: str, message: str) -> bytes:
    """An HTTP answer that closes the connection, with the documented error body."""
    body = _error_body(message)
    head = (
        f"HTTP/1.1 {code} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body


class _Page:
    """A client socket whose writes are kept (gunicorn's HTML error page), everything else
    passed to the socket."""

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self.written = b""

    def sendall(self, data: bytes) -> None:
        self.written += data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


def _is_utf8(text: str) -> bool:
    """Whether a WSGI string (bytes decoded as latin-1) holds UTF-8."""
    try:
        text.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return False
    return True


def _error_message(data: bytes, reason: str) -> str | None:
    """None for a JSON body with ``"error"``; else the message to put there: the server's
    ``"message"``, or the status's reason."""
    try:
        parsed = json.loads(data)
    except ValueError:
        return reason
    if isinstance(parsed, dict) and "error" in parsed:
        return None
    message = parsed.get("message") if isinstance(parsed, dict) else None
    return message if isinstance(message, str) and message else reason


def _error_body(message: str) -> bytes:
    """The documented error body with only ``"error"``."""
    return json.dumps({"error": message}).encode()


def _json(
    start_response: StartResponse, status: str, headers: list[tuple[str, str]], message: str
) -> list[bytes]:
    body = _error_body(message)
    start_response(
        status,
        [*headers, ("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
    )
    return [body]
