"""The OpenAPI document as clients (and schemathesis) need it: every answer a route can give declared.

FastAPI documents a route's success and its request validation; this adds what the service answers
besides, so generated clients and contract tests can rely on the document:

- native routes: 401, 403, 422, any other client error (``4XX``) and 503 as RFC 9457 problem+json;
- Open311 routes (``/open311/v2``): their ``.json``/``.xml`` successes in both media types, errors as the
  GeoReport v2 error list (JSON array or ``<errors>``), photos as ``image/jpeg``;
- request bodies documented by hand (multipart routes) get the pydantic models they refer to.
"""

from __future__ import annotations

import copy
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from pydantic import BaseModel

from app.core.errors import PROBLEM_MEDIA_TYPE

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and machine-readable.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string", "example": "outside_service_area"},
        "errors": {"type": "array", "items": {"type": "object", "properties": {
            "loc": {"type": "array", "items": {}}, "field": {"type": "string"}, "msg": {"type": "string"},
            "type": {"type": "string"}, "index": {"type": "integer"}}}},
    },
}
OPEN311_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "array", "minItems": 1, "description": "GeoReport v2 errors: `code` is the HTTP status",
    "items": {"type": "object", "required": ["code", "description"],
              "properties": {"code": {"type": "integer"}, "description": {"type": "string"}}},
}
_XML = {"schema": {"type": "string", "description": "the same document in GeoReport v2 XML"}}


def _problem(description: str) -> dict[str, Any]:
    return {"description": description,
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}}


NATIVE_ERRORS = {"401": _problem("Not authenticated"), "403": _problem("Not allowed for the caller"),
                 "422": _problem("Not valid"), "4XX": _problem("Another client error (its `code` says which)"),
                 "503": _problem("The database is unavailable; retry after Retry-After seconds")}
OPEN311_ERROR = {"description": "GeoReport v2 error list", "content": {
    "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}}, "text/xml": _XML}}


def _add_models(schemas: dict[str, Any], models: list[type[BaseModel]]) -> None:
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)


def _open311(path: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    for status in [s for s in responses if s not in ("200", "201")]:
        del responses[status]
    if path.endswith(".jpg"):
        responses["200"] = {"description": "the photo at display size, without metadata",
                            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}}}
    else:
        for success in [s for s in ("200", "201") if s in responses]:
            content = responses[success].setdefault("content", {})
            content.setdefault("application/json", {"schema": {}})
            content["text/xml"] = _XML
    responses["4XX"] = copy.deepcopy(OPEN311_ERROR)
    responses["503"] = copy.deepcopy(OPEN311_ERROR)


def build(app: FastAPI, referenced_models: list[type[BaseModel]]) -> dict[str, Any]:
    """The document of ``app``'s routes; ``referenced_models`` are the request bodies routes name by
    ``$ref`` in ``openapi_extra`` (pydantic models FastAPI would not otherwise include)."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["Open311Errors"] = OPEN311_ERRORS_SCHEMA
    _add_models(schemas, referenced_models)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            operation.setdefault("responses", {})
            if path.startswith("/open311/"):
                _open311(path, operation)
                continue
            operation["responses"].pop("422", None)  # FastAPI's HTTPValidationError: ours is a problem
            for status, response in NATIVE_ERRORS.items():
                operation["responses"].setdefault(status, copy.deepcopy(response))
    return schema
