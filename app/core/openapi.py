"""The OpenAPI document as clients (and schemathesis) need it: every answer a route can give declared.

FastAPI documents a route's success and its request validation; this adds what the service answers
besides, so generated clients and contract tests can rely on the document:

- native routes: the errors each route declares with :func:`errors` (one entry per status, its
  description listing the stable ``code`` s, an example problem per code), merged with what every route
  may answer: 401 (unless the route reads no credentials), 403 ``forbidden`` (unless it admits every
  caller), 422 ``validation_error``, 503 ``database_unavailable``, and ``4XX`` for any other client error
  (``405``, ``400 client_disconnected``, a body over ``GRID_MAX_BODY_BYTES``), all RFC 9457 problem+json;
- Open311 routes (``/open311/v2``): their ``.json``/``.xml`` successes in both media types, errors
  (declared ones and ``4XX``) as the GeoReport v2 error list (JSON array or ``<errors>``), photos as
  ``image/jpeg``;
- request bodies documented by hand (multipart routes) get the pydantic models they refer to.

docs/api.md "Errors" lists every code; docs/workflow.md explains the workflow's.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, TypeVar
from xml.sax.saxutils import escape as xml_escape

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel

from app.core.codes import EXTRA, WHEN
from app.core.errors import PROBLEM_MEDIA_TYPE, PROBLEM_TYPE_BASE, AppError, Declared, declare

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable and machine-readable; `title` and `detail` "
    "follow `Accept-Language` (zh-CN by default, or en; `Content-Language` says which).",
    "example": {
        "type": PROBLEM_TYPE_BASE + "not_found",
        "title": "未找到",
        "status": 404,
        "code": "not_found",
        "detail": "没有编号为 5 的案件",
    },
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "stable: switch on it", "example": "outside_service_area"},
        "current_status": {
            "type": "string",
            "description": "409 `invalid_transition`: the case's (or round's) state; 409 `visit_not_open` on "
            "submitting: the visit's state, or its round's when the round is not open",
        },
        "allowed_actions": {
            "type": "array",
            "items": {"type": "string"},
            "description": "409 `invalid_transition`: what the caller may do now",
        },
        "version": {"type": "integer", "description": "412 `version_conflict`: the case's current version"},
        "current_etag": {"type": "string", "description": "412 `version_conflict`: the current ETag"},
        "retry_after": {"type": "integer", "description": "429: seconds to wait"},
        "changed_at": {"type": "string", "description": "410 `sync_reset_required`: when the view changed"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "loc": {"type": "array", "items": {}},
                    "field": {"type": "string"},
                    "msg": {"type": "string"},
                    "type": {"type": "string"},
                    "index": {"type": "integer"},
                },
            },
        },
    },
}
OPEN311_ERRORS_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "description": "GeoReport v2 errors: `code` is the HTTP status",
    "items": {
        "type": "object",
        "required": ["code", "description"],
        "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
    },
}
_XML = {"schema": {"type": "string", "description": "the same document in GeoReport v2 XML"}}


Declarable = type[AppError] | Declared
# What every native route may answer besides its own errors (401 and 403 only where they apply).
NOT_AUTHENTICATED = declare(AppError, "not_authenticated", 401)
FORBIDDEN = declare(AppError, "forbidden", 403)
VALIDATION = declare(AppError, "validation_error", 422)
UNAVAILABLE = declare(AppError, "database_unavailable", 503)
_GENERIC_TITLES = {
    "not_authenticated": ("Authentication required", "需要登录"),
    "forbidden": ("Not allowed for your role", "您的角色无权进行此操作"),
    "validation_error": ("The request is not valid", "请求无效"),
    "database_unavailable": ("The database is unavailable", "数据库暂不可用"),
}
OTHER_CLIENT_ERROR = {
    "description": "Another client error; its `code` says which (e.g. 405 `method_not_allowed`, 400 "
    "`client_disconnected`, 413 `payload_too_large` for a body over `GRID_MAX_BODY_BYTES`)",
    "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
}


def _as_declared(kind: Declarable) -> Declared:
    if isinstance(kind, Declared):
        if kind.code in _GENERIC_TITLES:
            title, title_zh = _GENERIC_TITLES[kind.code]
            return Declared(kind.status, kind.code, title, title_zh)
        return kind
    return declare(kind)


def example_problem(error: Declared) -> dict[str, Any]:
    """A problem body as the service answers ``error`` in zh-CN (its default language)."""
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + error.code,
        "title": error.title_zh,
        "status": error.status,
        "code": error.code,
        "detail": error.title_zh,
    }
    return {**body, **EXTRA.get(f"{error.status} {error.code}", EXTRA.get(error.code, {}))}


def _line(error: Declared) -> str:
    when = WHEN.get(f"{error.status} {error.code}") or WHEN.get(error.code, error.title)
    return f"- `{error.code}`: {when}"


def _entry(declared: list[Declared]) -> dict[str, Any]:
    return {
        "description": "\n".join(_line(e) for e in declared),
        "content": {
            PROBLEM_MEDIA_TYPE: {
                "schema": {"$ref": "#/components/schemas/Problem"},
                "examples": {e.code: {"summary": e.title, "value": example_problem(e)} for e in declared},
            }
        },
    }


def errors(*kinds: Declarable) -> dict[int | str, dict[str, Any]]:
    """A route's ``responses=``: the errors it may answer besides the ones every route may (module
    docstring), by class (its status, code and titles) or :func:`app.core.errors.declare`. One entry per
    status, listing its codes and an example problem for each."""
    by_status: dict[int, list[Declared]] = {}
    for kind in kinds:
        error = _as_declared(kind)
        found = by_status.setdefault(error.status, [])
        if all(e.code != error.code for e in found):
            found.append(error)
    return {status: _entry(found) for status, found in sorted(by_status.items())}


def _merge(responses: dict[str, Any], error: Declared) -> None:
    """Add ``error`` to the entry of its status, making the entry when the route declared none."""
    key = str(error.status)
    if key not in responses:
        responses[key] = _entry([_as_declared(error)])
        return
    media = (
        responses[key]
        .setdefault("content", {})
        .setdefault(PROBLEM_MEDIA_TYPE, {"schema": {"$ref": "#/components/schemas/Problem"}})
    )
    examples = media.setdefault("examples", {})
    if error.code not in examples:
        error = _as_declared(error)
        examples[error.code] = {"summary": error.title, "value": example_problem(error)}
        responses[key]["description"] = (responses[key].get("description") or "") + "\n" + _line(error)


OPEN311_ERROR: dict[str, Any] = {
    "description": "GeoReport v2 error list",
    "content": {
        "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}},
        "text/xml": _XML,
    },
}


def _add_models(schemas: dict[str, Any], models: list[type[BaseModel]]) -> None:
    for model in models:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            schemas.setdefault(name, definition)
        schemas.setdefault(model.__name__, schema)


def _open311_errors(status: int, description: str) -> dict[str, Any]:
    """The example of a GeoReport v2 error list, in JSON and XML."""
    return {
        "application/json": [{"code": status, "description": description}],
        "text/xml": '<?xml version="1.0" encoding="utf-8"?>\n<errors><error><code>'
        f"{status}</code><description>{xml_escape(description)}</description></error></errors>",
    }


def _open311_entry(description: str, examples: dict[str, tuple[str, int, str]]) -> dict[str, Any]:
    """An error entry in the spec's format: ``examples`` maps a name to (summary, status, description)."""
    entry = copy.deepcopy(OPEN311_ERROR)
    entry["description"] = description
    for media in ("application/json", "text/xml"):
        entry["content"][media]["examples"] = {
            name: {"summary": summary, "value": _open311_errors(status, text)[media]}
            for name, (summary, status, text) in examples.items()
        }
    return entry


def _open311(path: str, operation: dict[str, Any]) -> None:
    responses = operation["responses"]
    for status in [s for s in responses if s not in ("200", "201")]:
        declared = responses.pop(status)
        examples = declared.get("content", {}).get(PROBLEM_MEDIA_TYPE, {}).get("examples")
        if examples and status.isdigit():  # declared with errors(): the same codes, in the spec's format
            responses[status] = _open311_entry(
                declared["description"],
                {
                    code: (example["summary"], int(status), example["value"]["detail"])
                    for code, example in examples.items()
                },
            )
    if path.endswith(".jpg"):
        responses["200"] = {
            "description": "the photo at display size, without metadata",
            "content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}}},
        }
    else:
        for success in [s for s in ("200", "201") if s in responses]:
            content = responses[success].setdefault("content", {})
            content.setdefault("application/json", {"schema": {}})
            content["text/xml"] = {**_XML, **content.get("text/xml", {})}
    responses["4XX"] = _open311_entry(
        "Another client error, with the HTTP status as `code` (validation failures are 400)",
        {"bad_request": ("Bad request", 400, "service_code is required")},
    )
    responses["503"] = _open311_entry(
        "The database is unavailable; retry after `Retry-After` seconds",
        {"database_unavailable": ("The database is unavailable", 503, "数据库暂不可用")},
    )


F = TypeVar("F", bound=Callable[..., Any])


def answer_examples(examples: dict[int, dict[str, Any]]) -> Callable[[F], F]:
    """Examples of an endpoint's answers, by status and media type, put in the document as given. (FastAPI
    drops the null members of every example it renders, so an example with ``null`` would not match its
    own schema.) Apply it below the route decorator."""

    def mark(endpoint: F) -> F:
        setattr(endpoint, "__answer_examples__", examples)  # noqa: B010 - read by build() from the route
        return endpoint

    return mark


def _models_with_examples() -> dict[str, Any]:
    """The example of every pydantic model that declares one, by its schema title (its class name)."""
    found: dict[str, Any] = {}
    pending: list[type[BaseModel]] = [BaseModel]
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        extra = model.model_config.get("json_schema_extra")
        if isinstance(extra, dict) and "example" in extra and model.__module__.startswith("app."):
            found[model.__name__] = extra["example"]
    return found


def _restore_examples(schema: dict[str, Any], routes: dict[tuple[str, str], APIRoute]) -> None:
    """Put back the examples FastAPI rendered without their null members (:func:`answer_examples`)."""
    models = _models_with_examples()
    for name, definition in schema.get("components", {}).get("schemas", {}).items():
        title = definition.get("title", name)
        if "example" in definition and title in models:
            definition["example"] = copy.deepcopy(models[title])
    for (method, path), route in routes.items():
        given = getattr(route.endpoint, "__answer_examples__", None)
        operation = schema.get("paths", {}).get(path, {}).get(method)
        if not given or operation is None:
            continue
        for status, media_types in given.items():
            content = (
                operation["responses"]
                .setdefault(str(status), {"description": "OK"})
                .setdefault("content", {})
            )
            for media, example in media_types.items():
                content.setdefault(media, {})["example"] = copy.deepcopy(example)


# Whether a route reads credentials (so may answer 401) and whether it turns some callers away (403).
Callers = Callable[[APIRoute], tuple[bool, bool]]


def _routes(app: FastAPI) -> dict[tuple[str, str], APIRoute]:
    try:
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - FastAPI before 0.160 lists routes directly
        pairs = [(r, getattr(r, "path", "")) for r in app.routes]
    else:
        pairs = [(ctx.original_route, ctx.path) for ctx in iter_route_contexts(app.routes)]
    return {
        (method.lower(), path): route
        for route, path in pairs
        if isinstance(route, APIRoute)
        for method in route.methods or ()
    }


def build(
    app: FastAPI, referenced_models: list[type[BaseModel]], callers: Callers | None = None
) -> dict[str, Any]:
    """The document of ``app``'s routes; ``referenced_models`` are the request bodies routes name by
    ``$ref`` in ``openapi_extra`` (pydantic models FastAPI would not otherwise include); ``callers`` says
    per route whether 401 and 403 apply (default: both)."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = schema.setdefault("components", {}).setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["Open311Errors"] = OPEN311_ERRORS_SCHEMA
    _add_models(schemas, referenced_models)
    routes = _routes(app)
    _restore_examples(schema, routes)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            if path.startswith("/open311/"):
                _open311(path, operation)
                continue
            if "application/json" in responses.get("422", {}).get("content", {}):
                del responses["422"]  # FastAPI's HTTPValidationError: ours is a problem
            route = routes.get((method, path))
            authenticates, forbids = callers(route) if callers and route else (True, True)
            generic = [VALIDATION, UNAVAILABLE]
            generic += [NOT_AUTHENTICATED] if authenticates else []
            generic += [FORBIDDEN] if forbids else []
            for error in generic:
                _merge(responses, error)
            responses.setdefault("4XX", copy.deepcopy(OTHER_CLIENT_ERROR))
            operation["responses"] = dict(sorted(responses.items()))
    return schema
