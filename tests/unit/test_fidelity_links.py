"""Class 8 of issue 12: write sequences for documents that declare no OpenAPI links.

The links come from Schemathesis's dependency analysis (a create's answer schema has the id an item
path takes), else from the `Location` header a create declares; declared links win.
"""

from __future__ import annotations

import httpx
import schemathesis

from lockstep import stateful
from lockstep.targets import Answer

THING = {"type": "object", "required": ["id", "name"],
         "properties": {"id": {"type": "string"}, "name": {"type": "string"}}}
INPUT = {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}
ITEM_PARAM = [{"name": "thing_id", "in": "path", "required": True, "schema": {"type": "string"}}]


def ok(schema: dict | None = None, status: str = "200", **extra) -> dict:
    response = {"description": "ok", **extra}
    if schema:
        response["content"] = {"application/json": {"schema": schema}}
    return {status: response}


def body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def document(create_links: dict | None = None, with_ids: bool = True) -> dict:
    def op(operation_id: str, **rest) -> dict:
        return {"operationId": operation_id, **rest} if with_ids else rest

    created = ok(THING, "201", **({"links": create_links} if create_links else {}))
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {
        "/things": {"post": op("createThing", requestBody=body(INPUT), responses=created),
                    "get": op("listThings", responses=ok({"type": "array", "items": THING}))},
        "/things/{thing_id}": {"parameters": ITEM_PARAM,
                               "get": op("getThing", responses=ok(THING)),
                               "patch": op("updateThing", requestBody=body(INPUT), responses=ok(THING)),
                               "delete": op("deleteThing", responses={"204": {"description": "gone"}})},
        "/things/{thing_id}/archive": {"parameters": ITEM_PARAM, "post": op("archiveThing", responses=ok(THING))},
    }}


def load(doc: dict):
    return schemathesis.openapi.from_dict(doc)


def test_a_create_without_links_gets_its_inferred_sequence():
    [scenario] = stateful.scenarios_of(load(document()))
    assert scenario.inferred
    assert scenario.labels == ("POST /things", "GET /things/{thing_id}", "PATCH /things/{thing_id}",
                               "GET /things/{thing_id}", "DELETE /things/{thing_id}", "GET /things/{thing_id}")
    assert scenario.steps[1].parameters == (("thing_id", "$response.body#/id"),)
    assert scenario.name == "createThing -> getThing -> updateThing -> getThing -> deleteThing -> getThing"


def test_the_run_header_lines_name_each_inferred_link_and_its_source():
    assert stateful.inferred_links(load(document())) == [
        "POST /things -> GET /things/{thing_id} (thing_id from $response.body#/id)",
        "POST /things -> PATCH /things/{thing_id} (thing_id from $response.body#/id)",
        "POST /things -> DELETE /things/{thing_id} (thing_id from $response.body#/id)",
    ]


def test_declared_links_win_over_inferred_ones():
    doc = document({"Read": {"operationId": "getThing", "parameters": {"thing_id": "$response.body#/id"}}})
    [scenario] = stateful.scenarios_of(load(doc))
    assert not scenario.inferred
    assert scenario.labels == ("POST /things", "GET /things/{thing_id}")
    assert stateful.inferred_links(load(doc)) == []


def test_a_document_without_operation_ids_names_steps_by_label():
    [scenario] = stateful.scenarios_of(load(document(with_ids=False)))
    assert scenario.name.startswith("POST /things -> GET /things/{thing_id} -> PATCH /things/{thing_id}")
    schema = load(document(with_ids=False))
    assert all(schema.find_operation_by_label(step.label) is not None for step in scenario.steps)


def test_a_create_that_only_declares_location_is_followed_through_it():
    doc = document()
    doc["paths"]["/things"]["post"]["responses"] = {"201": {"description": "created", "headers": {
        "Location": {"schema": {"type": "string"}}}}}
    [scenario] = stateful.scenarios_of(load(doc))
    [(param, expression)] = scenario.steps[1].parameters
    assert param == "thing_id" and expression.startswith("$response.header.Location#regex:")
    for location in ("http://127.0.0.1:2/api/things/t-9?x=1", "/things/t-9", "/api/x/things/t-9/"):
        assert stateful._evaluate(expression, created(location)) == "t-9", location
    assert "(thing_id from $response.header.Location)" in stateful.inferred_links(load(doc))[0]


def test_expressions_evaluate_on_each_targets_own_answer():
    answer = created("/things/t-1", b'{"id": "t-1", "items": [{"id": "i-1"}, {"id": "i-2"}], "n": 3}')
    assert stateful._evaluate("$response.body#/id", answer) == "t-1"
    assert stateful._evaluate("$response.body#/items/*/id", answer) == "i-1"
    assert stateful._evaluate("$response.body#/items/1/id", answer) == "i-2"
    assert stateful._evaluate("$response.body#/n", answer) == "3"
    assert stateful._evaluate("$response.body#/missing/id", answer) == ""
    assert stateful._evaluate("$response.header.Location", answer) == "/things/t-1"


def created(location: str, raw: bytes = b"") -> Answer:
    return Answer("gateway", "POST", "http://127.0.0.1:2/things", {}, b"", 201,
                  httpx.Headers({"location": location, "content-type": "application/json"}), raw)
