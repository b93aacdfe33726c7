"""gunicorn settings that make every answer of the scoring service the documented JSON.

Azure ML's inference server runs gunicorn on its own Flask app; ``$GUNICORN_CMD_ARGS`` is the
one setting a deployment controls, and :func:`recommenders_kit.serving.server.gunicorn_args`
names this module there (``--config python:recommenders_kit.serving.gunicorn_config``) and
its worker class; gunicorn imports it by that name (nothing else in the package does). Two
layers, because two parts of the stack answer clients:

* :func:`post_worker_init` wraps the app of each worker in :func:`json_errors`: a request
  line whose path or query string is not UTF-8 is refused with 400 before the app sees it
  (the server's after-request hook decoded the query string *after* scoring and failed,
  answering 500), and every 4xx / 5xx the app answers in another shape (Flask's 404 and 405,
  the server's ``{"message": ...}``) becomes ``{"error": ...}``;
* :class:`JSONErrorWorker` answers what gunicorn refuses before any app runs (a malformed
  request line, headers too large: 431, an ``Expect`` it cannot meet: 417) with the same JSON
  instead of gunicorn's HTML page. A transfer coding gunicorn does not implement is the
  client's to change: 400, not 501.

Example (what the service's processes get)::

    GUNICORN_CMD_ARGS="--config python:recommenders_kit.serving.gunicorn_config \\
      --worker-class recommenders_kit.serving.gunicorn_config.JSONErrorWorker ..."
"""

from __future__ import annotations

import html
import json
import re
from collections.abc import Callable, Iterable
from typing import Any

from gunicorn import util
from gunicorn.workers.gthread import ThreadWorker

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


class JSONErrorWorker(ThreadWorker):
    """gunicorn's threaded worker, answering the requests it refuses itself in JSON."""

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
        body = _error_body(message)
        head = (
            f"HTTP/1.1 {code} {reason}\r\nConnection: close\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        )
        try:
            util.write_nonblock(client, head.encode("latin-1") + body)
        except OSError:
            self.log.debug("Failed to send error message.")


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
