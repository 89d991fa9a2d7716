"""A broken document stops the run before any request: every `$ref`, wherever it sits, is resolved at load."""

from pathlib import Path

import pytest
import yaml

from lockstep.errors import ContractError
from lockstep.operations import operations_of
from lockstep.settings import resolve_settings
from lockstep.spec import check_references, credential_probe, load_spec

ROOT = Path(__file__).resolve().parents[2]
OK = {"description": "ok"}


def document(paths: dict, components: dict | None = None) -> dict:
    return {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": paths,
            "components": components or {"schemas": {"Thing": {"type": "object"}}}}


def json_body(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def broken(doc: dict, tmp_path: Path) -> str:
    path = tmp_path / "api.yaml"
    path.write_text(yaml.safe_dump(doc))
    with pytest.raises(ContractError) as err:
        check_references(doc, path)
    return str(err.value)


NOPE = {"$ref": "#/components/schemas/Nope"}
PLACES = {
    "response schema": ({"/a": {"get": {"responses": {"200": {**OK, **json_body(NOPE)}}}}},
                        "#/paths/~1a/get/responses/200/content/application~1json/schema"),
    "optional query parameter": ({"/a": {"get": {"parameters": [{"name": "q", "in": "query", "schema": NOPE}],
                                                 "responses": {"200": OK}}}},
                                 "#/paths/~1a/get/parameters/0/schema"),
    "request body": ({"/a": {"post": {"requestBody": json_body(NOPE), "responses": {"201": OK}}}},
                     "#/paths/~1a/post/requestBody/content/application~1json/schema"),
    "nested array item": ({"/a": {"get": {"responses": {"200": {**OK, **json_body(
        {"type": "array", "items": {"allOf": [{"$ref": "#/components/schemas/Thing"}, NOPE]}})}}}}},
        "#/paths/~1a/get/responses/200/content/application~1json/schema/items/allOf/1"),
    "shared parameter": ({"/a": {"parameters": [{"$ref": "#/components/parameters/Gone"}],
                                 "get": {"responses": {"200": OK}}}},
                         "#/paths/~1a/parameters/0"),
}


@pytest.mark.parametrize("place", list(PLACES))
def test_a_broken_reference_anywhere_names_the_document_and_the_pointer(tmp_path, place):
    paths, pointer = PLACES[place]
    text = broken(document(paths), tmp_path)
    assert text.startswith(f"{tmp_path / 'api.yaml'}: {pointer}: unresolvable $ref '#/"), text


def test_the_message_reads_as_the_readme_says(tmp_path):
    paths, _ = PLACES["response schema"]
    assert broken(document(paths), tmp_path) == (
        f"{tmp_path / 'api.yaml'}: #/paths/~1a/get/responses/200/content/application~1json/schema: "
        "unresolvable $ref '#/components/schemas/Nope'")


def test_a_broken_reference_among_components_counts_the_others(tmp_path):
    components = {"schemas": {"A": {"properties": {"default": NOPE, "b": {"$ref": "#/components/schemas/B"}}}}}
    text = broken(document({"/a": {"get": {"responses": {"200": OK}}}}, components), tmp_path)
    # `default` here names a property (a schema), not a default value: its reference is checked
    assert "#/components/schemas/A/properties/default: unresolvable $ref '#/components/schemas/Nope'" in text
    assert "(and 1 more broken reference(s))" in text


def test_literal_examples_and_extensions_are_data_not_references(tmp_path):
    schema = {"type": "object", "example": {"$ref": "#/not/a/ref"}, "default": {"$ref": "#/nope"},
              "x-vendor": {"$ref": "#/whatever"}}
    doc = document({"/a": {"get": {"responses": {"200": {**OK, **json_body(schema)}}}}})
    check_references(doc, tmp_path / "api.yaml")


def test_references_to_other_files_are_followed_relative_to_the_document(tmp_path):
    (tmp_path / "schemas").mkdir()
    (tmp_path / "schemas" / "common.yaml").write_text(yaml.safe_dump(
        {"Thing": {"type": "object", "properties": {"x": {"$ref": "#/Other"}}}, "Other": {"type": "string"}}))
    good = document({"/a": {"get": {"responses": {"200": {**OK, **json_body({"$ref": "schemas/common.yaml#/Thing"})}}}}})
    check_references(good, tmp_path / "api.yaml")

    missing_file = document({"/a": {"get": {"responses": {"200": {**OK, **json_body({"$ref": "nope.yaml#/X"})}}}}})
    assert "unresolvable $ref 'nope.yaml#/X' (cannot read" in broken(missing_file, tmp_path)
    missing_key = document({"/a": {"get": {"responses": {"200": {**OK, **json_body({"$ref": "schemas/common.yaml#/Y"})}}}}})
    assert "has no /Y" in broken(missing_key, tmp_path)


def test_a_broken_reference_inside_a_referenced_file_names_that_file(tmp_path):
    (tmp_path / "common.yaml").write_text(yaml.safe_dump({"Thing": {"properties": {"x": {"$ref": "#/Gone"}}}}))
    doc = document({"/a": {"get": {"responses": {"200": {**OK, **json_body({"$ref": "common.yaml#/Thing"})}}}}})
    assert broken(doc, tmp_path).startswith(f"{tmp_path / 'common.yaml'}: #/Thing/properties/x: unresolvable $ref '#/Gone'")


def test_the_demo_document_and_a_large_generated_one_resolve(tmp_path):
    import subprocess
    import sys

    check_references(yaml.safe_load((ROOT / "contracts" / "demo-api.yaml").read_text()), ROOT / "contracts" / "demo-api.yaml")
    subprocess.run([sys.executable, str(ROOT / "bench" / "gen_spec.py"), str(tmp_path), "--operations", "200"],
                   check=True, capture_output=True)
    check_references(yaml.safe_load((tmp_path / "api.yaml").read_text()), tmp_path / "api.yaml")


def settings_for(tmp_path: Path, doc: dict, profile: str = "staging"):
    (tmp_path / "api.yaml").write_text(yaml.safe_dump(doc))
    (tmp_path / "migration.yaml").write_text(yaml.safe_dump(
        {"spec": "api.yaml", "targets": {"legacy": {"url": "demo"}, "gateway": {"url": "demo"}}}))
    return resolve_settings(contract=str(tmp_path / "migration.yaml"), legacy_url=None, gateway_url=None,
                            profile=profile, seed="1", demo_faults=None, max_examples=None, env={})


def test_load_spec_stops_on_a_broken_response_schema(tmp_path):
    paths, _ = PLACES["response schema"]
    with pytest.raises(ContractError, match="unresolvable \\$ref '#/components/schemas/Nope'"):
        load_spec(settings_for(tmp_path, document(paths)))


def test_a_profile_that_leaves_no_operation_is_an_error_not_an_empty_pass(tmp_path):
    doc = document({"/a": {"post": {"responses": {"201": OK}}}})
    with pytest.raises(ContractError, match="the smoke profile allows only GET, HEAD, OPTIONS, and the document "
                                            "has only POST operations"):
        load_spec(settings_for(tmp_path, doc, profile="smoke"))


def test_the_credential_probe_is_a_protected_read_needing_nothing_but_its_path():
    security = [{"bearer": []}]
    doc = document({
        "/health": {"get": {"responses": {"200": OK}}},
        "/search": {"get": {"security": security, "responses": {"200": OK},
                            "parameters": [{"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}]}},
        "/orders": {"post": {"security": security, "responses": {"201": OK}}},
        "/orders/{id}": {"get": {"security": security, "responses": {"200": OK},
                                 "parameters": [{"name": "id", "in": "path", "required": True, "example": 7,
                                                 "schema": {"type": "integer"}}]}},
        "/me": {"get": {"security": [{"bearer": ["profile"]}], "responses": {"200": OK}}},
    })
    ops = operations_of(doc)
    assert credential_probe(doc, ops).label == "GET /orders/{id}"  # no scope beats no path parameter
    assert credential_probe(doc, ops).example_path == "/orders/7"
    assert credential_probe(doc, [o for o in ops if o.path != "/orders/{id}"]).label == "GET /me"
    assert credential_probe(doc, [o for o in ops if o.path in ("/health", "/search", "/orders")]) is None
