"""The whole OpenAPI document, fuzzed with schemathesis as every kind of caller (issue 7, item 5).

A bounded, deterministic pass for the normal suite; ``bench/fuzz_openapi.py`` is the longer run against a
real server. Every operation is fuzzed as anonymous, an API key, worker, unit_staff, dispatcher, supervisor
and admin, and every response is checked: no 5xx (``not_a_server_error``), a status the document declares
(``status_code_conformance``), a media type declared for it (``content_type_conformance``), a body that
matches the declared schema (``response_schema_conformance``).

How it is built, and why:

- The document is the app's own ``openapi()`` (the same for every database), loaded with
  ``schemathesis.openapi.from_dict`` and used through schemathesis' pytest plugin, which makes test items
  per operation. Each item gets the ordinary function-scoped ``app`` fixture, so each runs in its own
  rolled-back transaction: what an admin's fuzzing creates, renames or deactivates never leaks into another
  item. (``schemathesis.pytest.from_fixture`` would run every operation in one item and, in schemathesis
  4.32, fails under pytest 9: it sets ``request.node._nodeid``, which pytest 9 removed.)
- Requests go through ``httpx.ASGITransport`` on pytest-asyncio's session loop, where the test
  transaction's connection lives (schemathesis' own ASGI transport would run the app on another loop).
  Schemathesis serializes each case (``as_transport_kwargs``), so the bytes are the ones it generated;
  ``raise_app_exceptions=False`` so an unhandled exception is the 500 a client would see.
- Budget (about 110 items, ~4,000 requests; ~40 s on SQLite or PostgreSQL on a 2-CPU machine):
  ``test_fuzz_coverage`` runs the examples,
  the coverage phase (schemathesis' systematic boundary, missing and wrong-typed values: about 50 requests
  an operation) and a few fuzzed cases once per operation, as the most privileged caller the route admits
  (admin where admitted; anonymous on public routes). ``test_fuzz_roles`` sends each of a few fuzzed cases
  (positive and negative) as every other caller, so each role's authorization and visibility paths run and
  the 401/403 answers are checked. Seeds are fixed (``SEED``, ``derandomize``), no Hypothesis database, no
  shrinking: CI sends the same requests every time.
- Paths naming a case, photo, Open311 request or token are pointed, for every other case generated valid,
  at one filed in the item's transaction, so they reach the handler and not only its 404; paths naming a
  campaign point, round or visit at an open round's visit to a market, made with the real checklists.
- Nothing is excluded: the streamed export and the photo bytes go through ASGITransport quickly enough.

Any failed check fails the test, with a curl line that reproduces it. The first run found five defects in the
document itself (error statuses and Open311's formats undeclared, two dangling request schemas, GET and HEAD
sharing an operationId, Open311's filing body undocumented); each is now a test at the end of this module.
"""

from __future__ import annotations

import asyncio
import itertools
import shlex
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import hypothesis
import pytest
import requests
import schemathesis
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.hypothesis.builder import ApiOperationMark
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import text

from app.core.config import AuthSettings, DatabaseSettings, Settings
from app.main import create_app
from tests.support.auth import bearer
from tests.support.http import PROBLEM
from tests.support.keys import new_api_key
from tests.support.photos import jpeg_at
from tests.support.reports import CENTRE, report_files
from tests.support.routes import api_routes

SEED = 20260507
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
ROLES = ("anonymous", "api_key", "worker", "unit_staff", "dispatcher", "supervisor", "admin")
USERS = {
    "worker": "worker2",
    "unit_staff": "chengguan",
    "dispatcher": "dispatcher",
    "supervisor": "supervisor",
    "admin": "admin",
}
EXAMPLES = 5  # fuzzed cases per operation in each test (each sent as six callers in test_fuzz_roles)
BASE_URL = "http://test"


def _document_and_callers() -> tuple[dict[str, Any], dict[str, frozenset[str]]]:
    """The OpenAPI document, and who each operation admits (read from its ``Allow`` declaration; used only
    to pick the caller of the coverage phase, never to judge an answer)."""
    from app.auth.permissions import Allow

    settings = Settings(
        env="test",
        database=DatabaseSettings(database_url="sqlite+aiosqlite:///:memory:"),
        auth=AuthSettings(secret_key="fuzz-only-the-document-is-read-0123456789"),
    )
    application = create_app(settings=settings)

    def allows(dependant: Any) -> list[Allow]:
        found = [dependant.call] if isinstance(dependant.call, Allow) else []
        for sub in dependant.dependencies:
            found.extend(allows(sub))
        return found

    callers = {}
    for method, path, route in api_routes(application):
        (allow,) = allows(route.dependant)
        who = {role.value for role in allow.roles} | ({"api_key"} if allow.api_keys else set())
        callers[f"{method} {path}"] = frozenset(ROLES if allow.public else who)
    return application.openapi(), callers


DOCUMENT, CALLERS = _document_and_callers()


def _deep_role(label: str) -> str:
    admitted = CALLERS[label]
    return "anonymous" if "anonymous" in admitted else "admin" if "admin" in admitted else min(admitted)


def _schema(phases: list[str]) -> Any:
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "generation": {"deterministic": True},
            "phases": {
                name: {"enabled": name in phases} for name in ("examples", "coverage", "fuzzing", "stateful")
            },
        }
    )
    return schemathesis.openapi.from_dict(DOCUMENT, config=config)


coverage_schema = _schema(["examples", "coverage", "fuzzing"])
roles_schema = _schema(["fuzzing"])


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Schemathesis calls this for each operation's item: the coverage test runs as the operation's most
    privileged caller; the roles test sends each of its cases as every other caller."""
    if "roles" not in metafunc.fixturenames:
        return
    deep = _deep_role(ApiOperationMark.get(metafunc.function).label)
    if metafunc.definition.name == "test_fuzz_coverage":
        metafunc.parametrize("roles", [(deep,)], ids=[deep])
    else:
        metafunc.parametrize("roles", [tuple(r for r in ROLES if r != deep)], ids=[f"all-but-{deep}"])


def _media_type(response: httpx.Response) -> str:
    return response.headers.get("content-type", "").split(";")[0].strip()


# --- the callers and the objects their paths point at ------------------------------------------------------


@dataclass
class Callers:
    """The item's client, each role's credentials, and the objects seeded for path parameters."""

    client: httpx.AsyncClient
    headers: dict[str, dict[str, str]]  # role -> credentials ({} for anonymous)
    roles: tuple[str, ...]
    loop: asyncio.AbstractEventLoop
    ids: dict[str, Any] | None = None
    turn: itertools.count = field(default_factory=itertools.count)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    async def seed(self, with_photo: bool) -> dict[str, Any]:
        """A case filed by worker2 in this item's transaction (with a photo when the path names one)."""
        report = {"category_code": "09009", "description": "fuzz", **CENTRE}
        if with_photo:
            photo = jpeg_at(CENTRE["lat"], CENTRE["lon"], (64, 48))
            r = await self.client.post(
                "/api/v1/reports",
                headers=self.headers["worker"],
                files=report_files(report, [("p.jpg", photo)]),
            )
        else:
            r = await self.client.post("/api/v1/reports", headers=self.headers["worker"], json=report)
        assert r.status_code == 201, r.text
        case = r.json()
        return {
            "case_id": case["id"],
            "request_id": str(case["id"]),
            "token": case["tracking_code"],
            "photo_id": case["photos"][0]["id"] if case["photos"] else None,
        }

    async def seed_campaign(self, with_photo: bool) -> dict[str, Any]:
        """The real checklists, a market in 中街街道 and an open round with worker2's visit to it (submitted as
        unable, with a photo, when the path names a photo)."""
        from tests.support.campaign import CHECKLISTS_FILE, MARKET

        office = self.headers["supervisor"]
        r = await self.client.post(
            "/api/v1/campaign/checklists/import",
            headers={**office, "Content-Type": "application/json"},
            content=CHECKLISTS_FILE.read_bytes(),
        )
        assert r.status_code == 200, r.text
        point = (
            await self.client.post(
                "/api/v1/campaign/points",
                headers=office,
                json={"code": "FUZZ-1", "name": "fuzz", "type": "NMSC", "geometry": MARKET},
            )
        ).json()
        cells = await self.client.get("/api/v1/grids", params={"code": "620802"}, headers=office)
        body = {"kind": "mock", "title": "fuzz", "period_from": "2026-12-07", "period_to": "2026-12-08"}
        round_ = (
            await self.client.post(
                "/api/v1/campaign/rounds",
                headers=office,
                json={**body, "grid_id": cells.json()["items"][0]["id"], "points": [point["id"]]},
            )
        ).json()
        await self.client.post(
            f"/api/v1/campaign/rounds/{round_['id']}/actions", headers=office, json={"action": "open"}
        )
        ids = {"point_id": point["id"], "round_id": round_["id"], "visit_id": round_["visits"][0]["id"]}
        if with_photo:
            r = await self.client.post(
                f"/api/v1/campaign/visits/{ids['visit_id']}/submit",
                headers=self.headers["worker"],
                files=[
                    ("visit", (None, '{"unable": true, "reason": "fuzz"}', "application/json")),
                    ("photos", ("p.jpg", jpeg_at(CENTRE["lat"], CENTRE["lon"], (64, 48)), "image/jpeg")),
                ],
            )
            assert r.status_code == 200, r.text
            ids["photo_id"] = r.json()["photos"][0]["id"]
        return ids


@pytest.fixture
async def callers(app, session, settings, roles) -> AsyncIterator[Callers]:  # type: ignore[no-untyped-def]
    users = {
        u: (i, r) for u, i, r in (await session.execute(text("SELECT username, id, role FROM users"))).all()
    }
    secret = settings.auth.secret_key
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url=BASE_URL
    )
    headers = {role: bearer(*users[name], secret, minutes=30) for role, name in USERS.items()}
    headers["anonymous"] = {}
    if "api_key" in roles:
        headers["api_key"] = {"X-API-Key": (await new_api_key(client, headers["admin"], "fuzz"))["key"]}
    try:
        yield Callers(client=client, headers=headers, roles=roles, loop=asyncio.get_running_loop())
    finally:
        await client.aclose()


def _point_at_seeded_objects(case: Any, callers: Callers) -> None:
    names = {"case_id", "request_id", "token", "photo_id", *CAMPAIGN_IDS} & set(case.path_parameters or {})
    if not names:
        return
    path = case.meta.components.get(ParameterLocation.PATH) if case.meta is not None else None
    if (path is not None and not path.mode.is_positive) or next(callers.turn) % 2:
        return
    if callers.ids is None:
        campaign = bool(names & CAMPAIGN_IDS)
        with_photo = "photo_id" in names
        callers.ids = callers.run(callers.seed_campaign(with_photo) if campaign else callers.seed(with_photo))
    for name in names:
        case.path_parameters[name] = callers.ids[name]


CAMPAIGN_IDS = {
    "point_id",
    "round_id",
    "visit_id",
}  # seeded with the real checklists, a point and an open round


def _send(case: Any, callers: Callers, role: str) -> tuple[requests.PreparedRequest, httpx.Response]:
    credentials = callers.headers[role]
    kwargs = case.as_transport_kwargs(base_url=BASE_URL, headers=credentials)
    if role != "anonymous":
        # Schemathesis also makes up values for the declared security schemes; a role is exactly its own
        # credentials. (Anonymous callers keep the made-up, invalid, ones: that fuzzes the 401 paths.)
        for name in ("Authorization", "X-API-Key"):
            if name not in credentials:
                kwargs["headers"].pop(name, None)
    prepared = requests.Request(
        **{
            k: v
            for k, v in kwargs.items()
            if k in {"method", "url", "headers", "params", "cookies", "json", "data", "files"}
        }
    ).prepare()
    response = callers.run(
        callers.client.request(
            prepared.method, prepared.url, headers=dict(prepared.headers), content=prepared.body
        )
    )
    return prepared, response


def _curl(prepared: requests.PreparedRequest, role: str) -> str:
    """The request as sent, our own credentials shown as a placeholder."""
    parts = ["curl", "-X", str(prepared.method), shlex.quote(str(prepared.url))]
    for name, value in prepared.headers.items():
        if name.lower() in ("content-length", "user-agent", "accept", "accept-encoding", "connection"):
            continue
        if name.lower() in ("authorization", "x-api-key") and role != "anonymous":
            value = f"<{role} credentials>"
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if prepared.body:
        body = prepared.body if isinstance(prepared.body, bytes) else str(prepared.body).encode()
        parts += ["--data-binary", shlex.quote(body[:1000].decode("utf-8", "backslashreplace"))]
    return " ".join(parts)


def _check(case: Any, callers: Callers) -> None:
    _point_at_seeded_objects(case, callers)
    for role in callers.roles:
        prepared, response = _send(case, callers, role)
        try:
            case.validate_response(response, checks=CHECKS)
        except FailureGroup as group:
            detail = "\n".join(f"- {f.title}: {f.message}" for f in group.exceptions)
            raise AssertionError(
                f"{case.operation.label} as {role}: {response.status_code} {_media_type(response)}\n{detail}\n"
                f"body: {response.text[:500]}\nreproduce: {_curl(prepared, role)}"
            ) from None


SETTINGS: dict[str, Any] = {
    "deadline": None,
    "database": None,
    "derandomize": True,
    "suppress_health_check": list(hypothesis.HealthCheck),
    "phases": [hypothesis.Phase.explicit, hypothesis.Phase.generate],
}


@coverage_schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, **SETTINGS)
def test_fuzz_coverage(case, callers, roles) -> None:  # type: ignore[no-untyped-def]
    _check(case, callers)


@roles_schema.parametrize()
@hypothesis.settings(max_examples=EXAMPLES, **SETTINGS)
def test_fuzz_roles(case, callers, roles) -> None:  # type: ignore[no-untyped-def]
    _check(case, callers)


# --- what the fuzzer found wrong with the document, each kept as a test of its own ---------------------------


def _declares(responses: dict[str, Any], *statuses: int) -> bool:
    """Whether every status is declared, by itself or by its range (``4XX``, OpenAPI 3.1 §4.8.16.2)."""
    return all(str(status) in responses or f"{status // 100}XX" in responses for status in statuses)


def _declared(label: str) -> dict[str, Any]:
    method, path = label.split(" ", 1)
    return DOCUMENT["paths"][path][method.lower()]["responses"]


async def test_every_error_status_answered_is_declared(client, world) -> None:  # type: ignore[no-untyped-def]
    admin = world.headers("admin")
    r = await client.get("/api/v1/reports/2147483647", headers=admin)
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    r = await client.get("/api/v1/reports", params={"cursor": "0" * 40}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (400, "invalid_cursor")
    r = await client.post("/api/v1/units", json={"name": "市妇联", "kind": "department"}, headers=admin)
    assert (r.status_code, r.json()["code"]) == (409, "unit_name_taken")
    assert _declares(_declared("GET /api/v1/reports/{case_id}"), 404, 503)
    assert _declares(_declared("GET /api/v1/reports"), 400)
    assert _declares(_declared("POST /api/v1/units"), 409)
    assert _declares(_declared("POST /api/v1/reports/{case_id}/actions"), 409, 412)
    assert _declares(_declared("POST /api/v1/reports"), 409, 413, 415, 429, 503)


async def test_open311_formats_are_declared(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/open311/v2/services/99999.json")
    assert (r.status_code, _media_type(r), r.json()[0]["code"]) == (404, "application/json", 404)
    r = await client.get("/open311/v2/services.xml")
    assert (r.status_code, _media_type(r)) == (200, "text/xml")
    responses = _declared("GET /open311/v2/services/{service_code}.{fmt}")
    assert _declares(responses, 400, 404, 429)
    assert all(PROBLEM not in (spec.get("content") or {}) for spec in responses.values())
    assert "text/xml" in _declared("GET /open311/v2/services.{fmt}")["200"]["content"]
    assert "image/jpeg" in _declared("GET /open311/v2/media/{photo_id}.jpg")["200"]["content"]


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


def test_every_reference_resolves() -> None:
    schemas = DOCUMENT["components"]["schemas"]
    dangling = {ref for ref in _refs(DOCUMENT) if ref.removeprefix("#/components/schemas/") not in schemas}
    assert not dangling


def test_operation_ids_are_unique() -> None:
    ids = [op["operationId"] for path in DOCUMENT["paths"].values() for op in path.values()]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_open311_filing_declares_its_body() -> None:
    operation = DOCUMENT["paths"]["/open311/v2/requests.{fmt}"]["post"]
    assert "application/x-www-form-urlencoded" in operation.get("requestBody", {}).get("content", {})
