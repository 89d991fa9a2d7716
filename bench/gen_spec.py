"""A large, realistic OpenAPI 3.0 document (N operations) and a lockstep contract for it.

Per resource: list (shared `$ref` query parameters, a page wrapper built with `allOf`), create (request
body `$ref`, a `oneOf` detail), read / replace / delete by id (path parameters; every third resource is
nested under /orgs/{org_id}, so two path parameters). Schemas share `Base`, `Page`, `Owner`, `Tag`,
`Money`, `Error` through `$ref`; responses share `NotFound`/`BadRequest`. Five operations a resource.

    python bench/gen_spec.py DIR [--operations 1000]    # writes DIR/api.yaml and DIR/migration.yaml
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

SHARED_SCHEMAS: dict[str, Any] = {
    "Base": {"type": "object", "required": ["id", "created_at"], "properties": {
        "id": {"type": "string", "pattern": "^[a-z]{2}-[0-9]{4}$"},
        "created_at": {"type": "string", "format": "date-time"},
        "updated_at": {"type": "string", "format": "date-time", "nullable": True}}},
    "Page": {"type": "object", "required": ["total"], "properties": {
        "total": {"type": "integer", "minimum": 0},
        "next": {"type": "string", "nullable": True}}},
    "Tag": {"type": "string", "enum": ["new", "sale", "featured", "archived", "internal"]},
    "Money": {"type": "object", "required": ["amount", "currency"], "properties": {
        "amount": {"type": "integer", "minimum": 0},
        "currency": {"type": "string", "enum": ["EUR", "USD", "GBP"]}}},
    "Owner": {"type": "object", "required": ["user_id"], "properties": {
        "user_id": {"type": "string", "minLength": 1, "maxLength": 36},
        "email": {"type": "string", "format": "email"}}},
    "DetailText": {"type": "object", "required": ["kind", "text"], "properties": {
        "kind": {"type": "string", "enum": ["text"]}, "text": {"type": "string", "maxLength": 200}}},
    "DetailPrice": {"type": "object", "required": ["kind", "price"], "properties": {
        "kind": {"type": "string", "enum": ["price"]}, "price": {"$ref": "#/components/schemas/Money"}}},
    "Error": {"type": "object", "required": ["code", "message"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"},
        "details": {"type": "array", "items": {"type": "object", "additionalProperties": {"type": "string"}}}}},
}

SHARED_PARAMETERS: dict[str, Any] = {
    "Limit": {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20}},
    "Offset": {"name": "offset", "in": "query", "schema": {"type": "integer", "minimum": 0}},
    "Sort": {"name": "sort", "in": "query", "schema": {"type": "string", "enum": ["name", "-name", "created_at", "-created_at"]}},
    "Tags": {"name": "tag", "in": "query", "style": "form", "explode": True,
             "schema": {"type": "array", "maxItems": 3, "items": {"$ref": "#/components/schemas/Tag"}}},
    "OrgId": {"name": "org_id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^org-[0-9]{3}$"}},
    "ResourceId": {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "pattern": "^[a-z]{2}-[0-9]{4}$"}},
    "IfMatch": {"name": "If-Match", "in": "header", "schema": {"type": "string"}},
}

SHARED_RESPONSES: dict[str, Any] = {
    "NotFound": {"description": "No such resource.",
                 "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
    "BadRequest": {"description": "The request is invalid.",
                   "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
}


def _ref(kind: str, name: str) -> dict[str, str]:
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def _resource_schemas(name: str) -> dict[str, Any]:
    own = {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 80},
        "size": {"type": "integer", "minimum": 0, "maximum": 10000},
        "tags": {"type": "array", "maxItems": 5, "items": _ref("schemas", "Tag")},
        "owner": _ref("schemas", "Owner"),
        "detail": {"oneOf": [_ref("schemas", "DetailText"), _ref("schemas", "DetailPrice")]}}}
    return {
        name: {"allOf": [_ref("schemas", "Base"), own]},
        f"{name}Input": {"type": "object", "required": ["name"], "additionalProperties": False, "properties": {
            "name": {"type": "string", "minLength": 1, "maxLength": 80},
            "size": {"type": "integer", "minimum": 0, "maximum": 10000},
            "tags": {"type": "array", "maxItems": 5, "items": _ref("schemas", "Tag")},
            "detail": {"oneOf": [_ref("schemas", "DetailText"), _ref("schemas", "DetailPrice")]}}},
        f"{name}List": {"allOf": [_ref("schemas", "Page"), {"type": "object", "required": ["items"], "properties": {
            "items": {"type": "array", "items": _ref("schemas", name)}}}]},
    }


def build_document(operations: int = 1000) -> dict[str, Any]:
    schemas, paths = dict(SHARED_SCHEMAS), {}
    count, i = 0, 0
    while count < operations:
        name, slug = f"Res{i:03d}", f"res{i:03d}"
        schemas.update(_resource_schemas(name))
        prefix = "/orgs/{org_id}" if i % 3 == 2 else ""
        shared = [_ref("parameters", "OrgId")] if prefix else []
        ok = lambda schema, code="200": {code: {"description": "OK", "content": _json(schema)},  # noqa: E731
                                         "400": _ref("responses", "BadRequest"), "404": _ref("responses", "NotFound")}
        collection = {"parameters": shared} if shared else {}
        item = {"parameters": [*shared, _ref("parameters", "ResourceId")]}
        planned = [
            (collection, "get", {"operationId": f"list{name}", "tags": [slug],
                                 "parameters": [_ref("parameters", p) for p in ("Limit", "Offset", "Sort", "Tags")]
                                 + [{"name": "q", "in": "query", "schema": {"type": "string", "maxLength": 50}}],
                                 "responses": ok(_ref("schemas", f"{name}List"))}),
            (collection, "post", {"operationId": f"create{name}", "tags": [slug],
                                  "requestBody": {"required": True, "content": _json(_ref("schemas", f"{name}Input"))},
                                  "responses": ok(_ref("schemas", name), "201")}),
            (item, "get", {"operationId": f"get{name}", "tags": [slug], "responses": ok(_ref("schemas", name))}),
            (item, "put", {"operationId": f"replace{name}", "tags": [slug],
                           "parameters": [_ref("parameters", "IfMatch")],
                           "requestBody": {"required": True, "content": _json(_ref("schemas", f"{name}Input"))},
                           "responses": ok(_ref("schemas", name))}),
            (item, "delete", {"operationId": f"delete{name}", "tags": [slug],
                              "responses": {"204": {"description": "Deleted"}, "404": _ref("responses", "NotFound")}}),
        ]
        for path_item, method, op in planned:
            if count == operations:
                break
            path_item[method] = op
            count += 1
        if len(collection) > (1 if shared else 0):
            paths[f"{prefix}/{slug}"] = collection
        if len(item) > 1:
            paths[f"{prefix}/{slug}/{{id}}"] = item
        i += 1
    return {
        "openapi": "3.0.3",
        "info": {"title": f"Generated API ({operations} operations)", "version": "1.0.0"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {"schemas": schemas, "parameters": SHARED_PARAMETERS, "responses": SHARED_RESPONSES,
                       "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
    }


CONTRACT = """\
spec: api.yaml
targets:
  legacy:  {url: "http://127.0.0.1:9"}
  gateway:
    url: "http://127.0.0.1:9/api"
    auth: {bearer: "${GATEWAY_TOKEN}"}
profile: staging
"""


def write_large_spec(directory: Path, operations: int = 1000) -> tuple[Path, Path, dict[str, Any]]:
    directory.mkdir(parents=True, exist_ok=True)
    document = build_document(operations)
    spec, contract = directory / "api.yaml", directory / "migration.yaml"
    spec.write_text(yaml.safe_dump(document, sort_keys=False, width=120))
    contract.write_text(CONTRACT)
    ops = sum(1 for item in document["paths"].values() for k in item if k != "parameters")
    info = {"operations": ops, "paths": len(document["paths"]), "schemas": len(document["components"]["schemas"]),
            "spec_bytes": spec.stat().st_size}
    return spec, contract, info


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("directory", type=Path)
    parser.add_argument("--operations", type=int, default=1000)
    a = parser.parse_args()
    print(write_large_spec(a.directory, a.operations)[2])
