"""Text a database cannot store (NUL) or over-long labels get a 422, never a 500, on SQLite and PostgreSQL."""

import pytest


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/units", {"name": "a\u0000b", "kind": "bureau"}),
    ("/api/v1/users", {"username": "abc", "password": "pass\u0000word", "role": "worker"}),
    ("/api/v1/api-keys", {"name": "\u0000"}),
    ("/api/v1/categories", {"code": "90098", "name_zh": "x", "name_en": "y", "time_limit": 1,
                            "time_unit": "working_days", "keywords_zh": ["a\u0000"]}),
])
async def test_nul_in_json_bodies_is_422(client, world, path: str, body: dict) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(path, json=body, headers=world.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (422, "validation_error"), r.text


async def test_nul_in_query_strings_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/grids?code=62%00", headers=world.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


async def test_nul_in_login_form_is_a_failed_login(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/token", data={"username": "ad\u0000min", "password": "demo-admin-2026"})
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")


async def test_nul_and_long_kinds_in_geojson_properties(client, world) -> None:  # type: ignore[no-untyped-def]
    square = {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}
    doc = [{"type": "Feature", "geometry": square, "properties": {"code": "K1", "name": "a\u0000"}}]
    r = await client.post("/api/v1/grids/import", json=doc, headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "name_invalid"
    doc[0]["properties"] = {"code": "K1", "name": "ok", "kind": "k" * 100 + "\u0000"}
    r = await client.post("/api/v1/grids/import", json=doc, headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    cell = (await client.get("/api/v1/grids", params={"code": "K1"}, headers=world.headers("admin"))).json()["items"]
    assert cell[0]["kind"] == "k" * 32


async def test_a_data_exception_from_the_database_is_422_and_others_500(app) -> None:  # type: ignore[no-untyped-def]
    import httpx
    from sqlalchemy.exc import DBAPIError

    class DriverError(Exception):
        def __init__(self, sqlstate: str) -> None:
            super().__init__(sqlstate)
            self.sqlstate = sqlstate

    @app.get("/_raise/{sqlstate}")
    async def _raise(sqlstate: str) -> None:
        raise DBAPIError("INSERT ...", {}, DriverError(sqlstate))

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                                 base_url="http://test") as c:
        r = await c.get("/_raise/22021")
        assert (r.status_code, r.json()["code"]) == (422, "invalid_value")
        r = await c.get("/_raise/53300")  # too many connections: the server's problem, not the client's
        assert (r.status_code, r.json()["code"]) == (500, "internal_error")
