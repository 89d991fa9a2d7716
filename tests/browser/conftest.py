"""Fixtures for the browser oracle's tests: one Chromium for the session, and a loopback HTTP server whose
CORS answers each test sets (`cors_server.answer(...)`), recording what it received."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from lockstep.browser import BrowserOracle, BrowserUnavailable

ORIGIN = "https://app.example.com"


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]  # names lowercased


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    delay: float = 0.0


@dataclass
class CorsServer:
    """Answers each method as told (`"*"`: any other method); keeps every request it got."""

    url: str
    answers: dict[str, Answer] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)

    def answer(self, method: str, status: int, delay: float = 0.0, **headers: str) -> None:
        """Header names given as acao="..." (Access-Control-Allow-Origin) or Location="..."."""
        self.answers[method] = Answer(status, {_ABBREVIATIONS.get(k, k): v for k, v in headers.items()}, delay)

    def methods(self) -> list[str]:
        return [r.method for r in self.received]

    def reset(self) -> None:
        self.answers.clear()
        self.received.clear()


_ABBREVIATIONS = {"acao": "Access-Control-Allow-Origin", "acac": "Access-Control-Allow-Credentials",
                  "acam": "Access-Control-Allow-Methods", "acah": "Access-Control-Allow-Headers",
                  "aceh": "Access-Control-Expose-Headers"}


def _handler(server: CorsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(min(length, 1 << 20))
            server.received.append(Received(self.command, self.path,
                                            {k.lower(): v for k, v in self.headers.items()}))
            answer = server.answers.get(self.command) or server.answers.get("*") or Answer(404, {})
            time.sleep(answer.delay)
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture(scope="session")
def _server() -> Iterator[CorsServer]:
    state = CorsServer(url="")
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()
    thread.join(timeout=5)


@pytest.fixture
def cors_server(_server: CorsServer) -> CorsServer:
    _server.reset()
    return _server


@pytest.fixture(scope="session")
def oracle() -> Iterator[BrowserOracle]:
    browser = BrowserOracle()
    try:
        browser.start()
    except BrowserUnavailable as e:
        pytest.skip(str(e))
    yield browser
    browser.close()


@pytest.fixture
def chromium() -> str:
    """The Chromium path, or skip (for tests that launch an oracle of their own)."""
    import importlib.util

    from lockstep.browser import find_chromium
    from lockstep.browser.model import CHROMIUM_MISSING, PLAYWRIGHT_MISSING

    path = find_chromium()
    if path is None:
        pytest.skip(CHROMIUM_MISSING)
    if importlib.util.find_spec("playwright") is None:
        pytest.skip(PLAYWRIGHT_MISSING)
    return path
