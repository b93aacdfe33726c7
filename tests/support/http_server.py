"""A loopback HTTP file server for download tests: Range requests and injected faults.

``FileServer`` serves ``files`` (name -> bytes) on 127.0.0.1 at a random port. Faults are
queued per file and consumed one request at a time:

* ``("status", 500)``: answer with that status code;
* ``("cut", n)``: announce the full length but close the connection after ``n`` bytes;
* ``("ignore_range", None)``: answer 200 with the whole file even to a Range request.

Every request is recorded (path, Range header) so tests can assert what the client did.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict, deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FileServer:
    def __init__(self, files: dict[str, bytes]):
        self.files = dict(files)
        self.faults: dict[str, deque] = defaultdict(deque)
        self.requests: list[tuple[str, str | None]] = []
        self.bytes_sent = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output clean
                pass

            def do_GET(self):
                name = self.path.lstrip("/").split("?")[0]
                rng = self.headers.get("Range")
                server.requests.append((name, rng))
                if name not in server.files:
                    return self._status(404)
                data = server.files[name]
                fault = server.faults[name].popleft() if server.faults[name] else None
                if fault and fault[0] == "status":
                    return self._status(fault[1])
                start = 0
                match = re.fullmatch(r"bytes=(\d+)-", rng or "")
                if match and not (fault and fault[0] == "ignore_range"):
                    start = int(match.group(1))
                    if start >= len(data):
                        self.send_response(416)
                        self.send_header("Content-Range", f"bytes */{len(data)}")
                        self.send_header("Content-Length", "0")
                        self.end_headers()
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                else:
                    self.send_response(200)
                body = data[start:]
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                if fault and fault[0] == "cut":
                    body = body[: fault[1]]
                    self.close_connection = True
                self.wfile.write(body)
                server.bytes_sent += len(body)

            def _status(self, code):
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
