"""The OpenAPI document is enough to write a client from (issue 14, item 3): every body a client sends or
reads has an example that is valid for its schema, every parameter and multipart part is described, and
every native operation declares the errors of its own, with their codes, besides the ones every route may
answer. The document is walked, so a new route or model without them fails here."""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator

from app.core.config import AuthSettings, DatabaseSettings, Settings
from app.main import create_app

PROBLEM = "application/problem+json"
GENERIC = {"not_authenticated", "forbidden", "validation_error", "database_unavailable"}
# Native operations whose only errors are those every route may answer, and why.
NOTHING_OF_THEIR_OWN = {
    "GET /healthz": "answers while the process runs",
    "GET /metrics": "its 401 and 403 are the operators' token (GRID_METRICS_TOKEN), declared as such",
    "GET /api/v1/me": "the caller is the credentials' owner",
    "GET /api/v1/api-keys": "an unpaged list",
    "POST /api/v1/api-keys": "any name is taken; only validation can fail",
    "GET /api/v1/categories": "the catalogue, filtered by enums",
    "GET /api/v1/calendar/{year}": "every year in range has an answer",
    "PUT /api/v1/calendar/{year}": "only validation can fail",
    "POST /api/v1/auth/logout": "revokes the caller's own tokens: only the credentials can fail",
    "GET /api/v1/campaign/editions": "an unpaged list of what is stored",
}


def _document() -> dict[str, Any]:
    settings = Settings(
        env="test",
        database=DatabaseSettings(database_url="sqlite+aiosqlite:///:memory:"),
        auth=AuthSettings(secret_key="document-only-0123456789abcdef0123456789"),
    )
    return create_app(settings=settings).openapi()


DOCUMENT = _document()
SCHEMAS = DOCUMENT["components"]["schemas"]
OPERATIONS = [
    (f"{method.upper()} {path}", operation)
    for path, item in DOCUMENT["paths"].items()
    for method, operation in item.items()
]


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return SCHEMAS[ref.rsplit("/", 1)[1]] if isinstance(ref, str) else schema


def _examples(media: dict[str, Any]) -> list[Any]:
    """The examples given for a body: on the media type, else on its schema (as a component's)."""
    if "example" in media:
        return [media["example"]]
    if "examples" in media:
        return [e["value"] for e in media["examples"].values()]
    schema = _resolve(media.get("schema", {}))
    if "example" in schema:
        return [schema["example"]]
    return list(schema.get("examples", []))


def _binary(media: dict[str, Any]) -> bool:
    return _resolve(media.get("schema", {})).get("format") == "binary"


def _validator(schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": DOCUMENT["components"]})


def _bodies() -> list[tuple[str, str, dict[str, Any]]]:
    """(operation, where, media type object) of every request body and answer, errors included."""
    found = []
    for label, operation in OPERATIONS:
        for kind, media in operation.get("requestBody", {}).get("content", {}).items():
            found.append((label, f"request {kind}", media))
        for status, response in operation["responses"].items():
            for kind, media in (response.get("content") or {}).items():
                found.append((label, f"{status} {kind}", media))
    return found


BODIES = _bodies()


@pytest.mark.parametrize(("label", "where", "media"), BODIES, ids=[f"{b[0]} {b[1]}" for b in BODIES])
def test_every_body_has_a_valid_example(label: str, where: str, media: dict[str, Any]) -> None:
    if _binary(media):
        return  # photos: bytes, described by their media type
    examples = _examples(media)
    assert examples, f"{label}: {where} has no example"
    if where.startswith("request multipart/"):
        schema = _resolve(media["schema"])
        for name, part in schema["properties"].items():
            assert part.get("description"), f"{label}: the part {name!r} is not described"
        return  # parts are sent as strings and files; their JSON is checked through its model below
    if media.get("schema"):
        for example in examples:
            errors = sorted(_validator(media["schema"]).iter_errors(example), key=str)
            assert not errors, f"{label}: {where}: {errors[0].message} at {list(errors[0].absolute_path)}"


@pytest.mark.parametrize(("label", "operation"), OPERATIONS, ids=[o[0] for o in OPERATIONS])
def test_every_parameter_is_described(label: str, operation: dict[str, Any]) -> None:
    missing = [p["name"] for p in operation.get("parameters", []) if not p.get("description")]
    assert not missing, f"{label}: {missing} without a description"


@pytest.mark.parametrize(
    ("label", "operation"),
    [o for o in OPERATIONS if not o[0].split(" ", 1)[1].startswith("/open311/")],
    ids=[o[0] for o in OPERATIONS if not o[0].split(" ", 1)[1].startswith("/open311/")],
)
def test_native_operations_declare_their_own_errors(label: str, operation: dict[str, Any]) -> None:
    codes: set[str] = set()
    for status, response in operation["responses"].items():
        if status[0] in "45" and status != "4XX":
            examples = response["content"][PROBLEM].get("examples", {})
            assert examples, f"{label}: {status} gives no example problem"
            for code, example in examples.items():
                assert example["value"]["code"] == code and str(example["value"]["status"]) == status
                assert f"`{code}`" in response["description"], f"{label}: {status} does not name {code}"
            codes |= set(examples)
    if label in NOTHING_OF_THEIR_OWN:
        assert not codes - GENERIC, f"{label} declares errors now: take it off NOTHING_OF_THEIR_OWN"
    else:
        assert codes - GENERIC, f"{label} declares no error of its own (app.core.openapi.errors)"


def test_errors_say_which_codes_and_statuses() -> None:
    action = DOCUMENT["paths"]["/api/v1/reports/{case_id}/actions"]["post"]["responses"]
    assert set(action["409"]["content"][PROBLEM]["examples"]) == {"invalid_transition", "version_conflict"}
    stale = action["412"]["content"][PROBLEM]["examples"]["version_conflict"]["value"]
    assert stale["current_etag"] == '"case-5-v11"' and stale["version"] == 11
    assert (
        "action_not_allowed" in action["403"]["description"] and "forbidden" in action["403"]["description"]
    )
    filing = DOCUMENT["paths"]["/api/v1/reports"]["post"]["responses"]
    assert {"413", "415", "429", "409"} <= set(filing)
    # 401 and 403 where they apply: a probe reads no credentials; the catalogue admits every caller.
    assert {"401", "403"}.isdisjoint(DOCUMENT["paths"]["/healthz"]["get"]["responses"])
    assert "403" not in DOCUMENT["paths"]["/api/v1/categories"]["get"]["responses"]
    assert "401" in DOCUMENT["paths"]["/api/v1/categories"]["get"]["responses"]
    # Open311 declares the same statuses in its own error format.
    single = DOCUMENT["paths"]["/open311/v2/requests/{request_id}.{fmt}"]["get"]["responses"]["404"]
    assert PROBLEM not in single["content"] and "text/xml" in single["content"]
