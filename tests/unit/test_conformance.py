import httpx
import schemathesis

from lockstep.engine.conformance import conformance_failures
from lockstep.targets import Answer

DOCUMENT = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {"/a": {"get": {"responses": {
    "200": {"description": "ok", "content": {"application/json": {"schema": {
        "type": "object", "required": ["x"], "properties": {"x": {"type": "integer"}}}}}}}}}}}


def case():
    schema = schemathesis.openapi.from_dict(DOCUMENT)
    schema.config.update(base_url="http://lockstep.invalid")
    return schema["/a"]["GET"].Case()


def answer(status: int, body: bytes, ctype: str = "application/json") -> Answer:
    return Answer("gateway", "GET", "http://127.0.0.1:9/a", {}, b"", status, httpx.Headers({"content-type": ctype}), body)


def test_conforming_answer_has_no_failures():
    assert conformance_failures(case(), answer(200, b'{"x": 1}')) == {}


def test_several_failures_come_back_as_data_not_as_an_exception_group():
    failures = conformance_failures(case(), answer(500, b"<h1>oops", "text/html"))
    assert len(failures) >= 2 and all(isinstance(m, str) for m in failures.values())


def test_schema_violation_is_named():
    failures = conformance_failures(case(), answer(200, b'{"y": 1}'))
    assert any("schema" in title.lower() for title in failures)
