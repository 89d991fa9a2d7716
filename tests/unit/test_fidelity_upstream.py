"""Classes 2 and 3 of issue 12, end to end: a third-party-like upstream behind a path-prefix gateway.

An httpbin-like echo app is served twice on 127.0.0.1: direct (the legacy) and behind a tiny reverse
proxy under `/api/x` (the gateway). The app builds its URLs as web frameworks behind a proxy do: from
`X-Forwarded-Proto`/`-Host`/`-Prefix` when present, else from its own `Host`. The faithful proxy sends
those headers and rewrites `Location` into its prefix (as nginx's `proxy_redirect` does); every case
is then judged by the engine's `Judge` with zero findings. The leaky proxy sends no forwarded
headers, so the upstream's URLs name its own host, the legacy's: located `host-leak` findings.
"""

from __future__ import annotations

import http.client
import http.server
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import pytest
import schemathesis

from lockstep.contract import TargetSpec
from lockstep.engine.judge import Judge
from lockstep.engine.record import Recorder
from lockstep.findings import FindingBook, Rules
from lockstep.targets import Target

pytestmark = pytest.mark.servers

PREFIX = "/api/x"


class Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        base, prefix = self._base()
        if url.path == "/redirect-to":  # Flask's redirect(): the Location as given, and an HTML page naming it
            target = query.get("url", "/get")
            self._send(302, _page(target), "text/html; charset=utf-8", location=target)
        elif url.path.startswith("/absolute-redirect/"):
            self._send(302, _page(f"{base}/get"), "text/html; charset=utf-8", location=f"{base}/get")
        elif url.path.startswith("/links/"):
            n = int(url.path.rsplit("/", 1)[1])
            links = {"self": f"{base}/links/{n}", "next": f"{base}/links/{n + 1}", "first": f"{prefix}/links/0"}
            self._send(200, json.dumps(links), "application/json", link=f'<{prefix}/links/{n + 1}>; rel="next"')
        elif url.path.startswith("/hal/orders/"):
            order = url.path.rsplit("/", 1)[1]
            hal = {"id": order, "_links": {"self": {"href": f"{base}/hal/orders/{order}"},
                                           "items": {"href": f"{prefix}/hal/orders/{order}/items"}}}
            self._send(200, json.dumps(hal), "application/hal+json")
        elif url.path.startswith("/stream/"):
            lines = [json.dumps({"id": i, "url": f"{base}{url.path}"}) for i in range(int(url.path.rsplit("/", 1)[1]))]
            self._send(200, "\n".join(lines) + "\n", "application/x-ndjson")
        elif url.path == "/anything":  # what reached the upstream: the path without the gateway's prefix
            self._send(200, json.dumps({"path": url.path, "args": query}), "application/json")
        else:
            self._send(404, json.dumps({"error": "not found"}), "application/json")

    def _base(self) -> tuple[str, str]:
        prefix = self.headers.get("X-Forwarded-Prefix", "")
        host = self.headers.get("X-Forwarded-Host") or self.headers["Host"]
        return f"{self.headers.get('X-Forwarded-Proto', 'http')}://{host}{prefix}", prefix

    def _send(self, status: int, body: str, ctype: str, **headers: str) -> None:
        raw = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(raw)))
        for name, value in headers.items():
            self.send_header(name.title(), value)
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, *args: object) -> None:
        pass


def _page(target: str) -> str:
    return ("<!doctype html>\n<title>Redirecting...</title>\n<h1>Redirecting...</h1>\n"
            f'<p>You should be redirected automatically to the target URL: <a href="{target}">{target}</a>.')


def proxy_handler(upstream: str, *, faithful: bool) -> type[http.server.BaseHTTPRequestHandler]:
    class Proxy(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802
            if not (self.path == PREFIX or self.path.startswith(PREFIX + "/") or self.path.startswith(PREFIX + "?")):
                return self._relay(404, {"content-type": "text/plain"}, b"no route")
            headers = {"Accept": self.headers.get("Accept", "*/*")}
            if faithful:
                headers.update({"X-Forwarded-Proto": "http", "X-Forwarded-Host": self.headers["Host"],
                                "X-Forwarded-Prefix": PREFIX})
            conn = http.client.HTTPConnection(urlsplit(upstream).netloc, timeout=10)
            try:
                conn.request("GET", self.path[len(PREFIX):] or "/", headers=headers)
                response = conn.getresponse()
                body, answer_headers = response.read(), {k.lower(): v for k, v in response.getheaders()}
            finally:
                conn.close()
            if faithful and "location" in answer_headers:
                answer_headers["location"] = self._rewrite(answer_headers["location"], upstream)
            self._relay(response.status, answer_headers, body)

        def _rewrite(self, location: str, upstream_base: str) -> str:
            if location.startswith(upstream_base):
                return f"http://{self.headers['Host']}{PREFIX}{location[len(upstream_base):]}"
            return PREFIX + location if location.startswith("/") else location

        def _relay(self, status: int, headers: dict[str, str], body: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                if name not in ("content-length", "connection", "transfer-encoding", "date", "server"):
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Proxy


@contextmanager
def serving(handler: type[http.server.BaseHTTPRequestHandler]) -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def upstream_and_gateway(*, faithful: bool = True) -> Iterator[tuple[str, str]]:
    """(legacy base URL, gateway base URL with its prefix): the echo app direct, and behind the proxy."""
    with serving(Echo) as upstream, serving(proxy_handler(upstream, faithful=faithful)) as proxy:
        yield upstream, proxy + PREFIX


def _op(*params: str, statuses: tuple[str, ...] = ("200",)) -> dict:
    parameters = [{"name": p, "in": "path", "required": True, "schema": {"type": "string"}} for p in params]
    return {"get": {"parameters": parameters, "responses": {s: {"description": s} for s in (*statuses, "404")}}}


DOCUMENT = {"openapi": "3.0.3", "info": {"title": "echo", "version": "1"}, "paths": {
    "/redirect-to": {"get": {"parameters": [{"name": "url", "in": "query", "schema": {"type": "string"}}],
                             "responses": {"302": {"description": "redirect"}}}},
    "/absolute-redirect/{n}": _op("n", statuses=("302",)),
    "/links/{n}": _op("n"), "/hal/orders/{order}": _op("order"), "/stream/{n}": _op("n"),
    "/anything": {"get": {"parameters": [{"name": "q", "in": "query", "schema": {"type": "string"}}],
                          "responses": {"200": {"description": "echo"}}}},
}}
CASES = [("/redirect-to", {}, {"url": "/cookies"}), ("/absolute-redirect/{n}", {"n": "1"}, {}),
         ("/links/{n}", {"n": "2"}, {}), ("/hal/orders/{order}", {"order": "7"}, {}),
         ("/stream/{n}", {"n": "3"}, {}), ("/anything", {}, {"q": "/api/x/not-a-link"})]
HEADERS = ["content-type", "cache-control", "etag", "location", "link", "set-cookie", "www-authenticate", "allow"]


def judged(faithful: bool) -> list:
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    schema.config.update(base_url="http://lockstep.invalid")
    found = []
    with upstream_and_gateway(faithful=faithful) as (legacy_url, gateway_url):
        legacy = Target("legacy", TargetSpec(url=legacy_url, timeout={"connect": 5, "read": 10}))
        gateway = Target("gateway", TargetSpec(url=gateway_url, timeout={"connect": 5, "read": 10}))
        judge = Judge(legacy, gateway, headers=HEADERS, max_body_bytes=10**6,
                      recorder=Recorder(Rules([], []), FindingBook()))
        try:
            for path, path_parameters, query in CASES:
                case = schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
                found += judge.case(case).findings
        finally:
            judge.close()
            legacy.close()
            gateway.close()
    return found


def test_a_faithful_prefix_gateway_gives_zero_findings():
    findings = judged(faithful=True)
    assert [(f.operation, f.check, f.location, f.legacy, f.gateway) for f in findings] == []


def test_a_gateway_relaying_the_upstream_host_is_caught_where_it_leaks():
    findings = judged(faithful=False)
    leaks = {(f.operation, f.location) for f in findings if f.check == "host-leak"}
    assert leaks >= {
        ("GET /absolute-redirect/{n}", "header:location"),  # the upstream's absolute Location, not rewritten
        ("GET /absolute-redirect/{n}", "body:"),  # the HTML page naming it
        ("GET /links/{n}", "body:/self"), ("GET /links/{n}", "body:/next"),
        ("GET /hal/orders/{order}", "body:/_links/self/href"),
        ("GET /stream/{n}", "body:/*/url"),
    }, leaks
    assert all("/anything" not in f.operation for f in findings), "an echoed path is no leak and no difference"
    # and the references the leaky proxy did not rewrite into its prefix are differences of their own
    headers = {(f.operation, f.location) for f in findings if f.check == "header"}
    assert {("GET /redirect-to", "header:location"), ("GET /links/{n}", "header:link")} <= headers, headers
