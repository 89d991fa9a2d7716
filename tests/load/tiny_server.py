"""A tiny loopback HTTP server for the load runner's tests: answers every GET with a small JSON body,
POST /oauth/token with a token; counts what it received, by path."""

from __future__ import annotations

import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as load generators use connections

    def do_GET(self) -> None:  # noqa: N802 (the stdlib's name)
        self._answer(b'{"ok": true}')

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("content-length") or 0)
        self.rfile.read(length)
        self._answer(json.dumps({"access_token": "tiny", "token_type": "Bearer"}).encode())

    def _answer(self, body: bytes) -> None:
        server: TinyServer = self.server.owner  # type: ignore[attr-defined]
        with server.lock:
            server.counts[self.path] += 1
            server.headers.append(dict(self.headers))
            del server.headers[:-50]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class TinyServer:
    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.headers: list[dict[str, str]] = []
        self.lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.owner = self  # type: ignore[attr-defined]
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)

    def __enter__(self) -> TinyServer:
        self.thread.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
