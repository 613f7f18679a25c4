"""Every error is problem+json with a stable code; the OpenAPI document describes them: app/core/errors.py."""

from tests.support.http import PROBLEM, client_of


async def test_unknown_route_and_wrong_method_are_problems(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/nothing-here")
    assert (r.status_code, r.headers["content-type"], r.json()["code"]) == (404, PROBLEM, "not_found")
    r = await client.delete("/api/v1/categories")
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed")


async def test_validation_errors_list_field_paths(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/units", json={"name": "", "kind": "x", "extra": 1}, headers=world.headers("admin")
    )
    body = r.json()
    assert (r.status_code, body["code"], body["status"]) == (422, "validation_error", 422)
    assert {e["field"] for e in body["errors"]} == {"name", "kind", "extra"}
    assert body["type"].endswith("/validation_error") and body["title"]


async def test_malformed_json_body_is_422_not_500(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/units",
        content=b'{"name": ',
        headers={**world.headers("admin"), "Content-Type": "application/json"},
    )
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


async def test_openapi_documents_problems_and_examples(client) -> None:  # type: ignore[no-untyped-def]
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status", "code"]
    locate = spec["paths"]["/api/v1/grids/locate"]["get"]
    assert PROBLEM in locate["responses"]["422"]["content"]
    assert "example" in spec["components"]["schemas"]["LocateOut"]
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_a_trailing_slash_is_a_problem_not_a_redirect(client) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: a trailing slash was answered with a redirect, not an error.
    r = await client.get("/api/v1/categories/")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_a_data_exception_is_422_an_unavailable_database_503_and_others_500(app) -> None:  # type: ignore[no-untyped-def]
    from sqlalchemy.exc import DBAPIError

    class DriverError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    @app.get("/_raise/{sqlstate}")
    async def _raise(sqlstate: str) -> None:
        raise DBAPIError("INSERT ...", {}, DriverError(sqlstate))

    async for c in client_of(app, raise_app_exceptions=False):
        r = await c.get("/_raise/22021")
        assert (r.status_code, r.json()["code"]) == (422, "invalid_value")
        r = await c.get("/_raise/53300")  # too many connections: the server's problem, worth retrying
        assert (r.status_code, r.json()["code"], r.headers["retry-after"]) == (
            503,
            "database_unavailable",
            "5",
        )
        r = await c.get("/_raise/42P01")  # an undefined table: our bug, not the client's
        assert (r.status_code, r.json()["code"]) == (500, "internal_error")
