"""A slow operation does not stall a run: past the profile's `deadline` its test ends with what it judged.

A third-party-like API (not our demo) with one operation that takes 5 s a call; the gateway is the same
server (a faithful pass-through), so the only thing to see is the deadline at work.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from xml.etree import ElementTree

import pytest

from .runner import run_suites

SLOW_S, DEADLINE_S = 5.0, 6.0
DOCUMENT = """
openapi: 3.0.3
info: {title: slow, version: "1"}
paths:
  /slow:
    get:
      operationId: slow
      parameters: [{name: n, in: query, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
  /fast:
    get:
      operationId: fast
      parameters: [{name: n, in: query, required: true, schema: {type: integer}}]
      responses: {"200": {description: ok, content: {application/json: {schema: {type: object}}}}}
"""


class _Slow(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        if self.path.startswith("/slow"):
            time.sleep(SLOW_S)
        body = json.dumps({"ok": True}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_HEAD = do_GET

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def api() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Slow)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_slow_operation_ends_at_its_deadline_with_a_note_naming_it(tmp_path: Path, api: str) -> None:
    (tmp_path / "api.yaml").write_text(DOCUMENT)
    (tmp_path / "migration.yaml").write_text(f"""
spec: api.yaml
targets:
  legacy: {{url: "{api}"}}
  gateway: {{url: "{api}"}}
profiles:
  ci: {{max_examples: 10, deadline: {DEADLINE_S}}}
profile: ci
""")
    run = run_suites(tmp_path, "suites", "-m", "parity", "--contract", str(tmp_path / "migration.yaml"))
    assert run.rc == 0, run.out[-3000:]
    summary = run.summary
    [note] = [n for n in summary["notes"] if n["check"] == "deadline"]
    assert note["operation"] == "GET /slow" and f"deadline of {DEADLINE_S:g} s" in note["message"]
    assert summary["cases_by_operation"]["GET /slow"] <= 2
    assert summary["cases_by_operation"]["GET /fast"] >= 3  # the fast one is untouched
    assert "lockstep: GET /slow: deadline" in run.out  # said while it ran, not only in the report
    cases = ElementTree.parse(run.reports / "junit.xml").getroot().iter("testcase")
    slow = next(c for c in cases if "GET /slow" in c.get("name", ""))
    assert float(slow.get("time", "0")) < DEADLINE_S + SLOW_S  # ended at the deadline, one call late at most
