"""Text a database cannot store (NUL) or over-long labels get a 422, never a 500, on SQLite and PostgreSQL."""

import json

import pytest


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/units", {"name": "a\u0000b", "kind": "bureau"}),
    ("/api/v1/users", {"username": "abc", "password": "pass\u0000word", "role": "worker"}),
    ("/api/v1/api-keys", {"name": "\u0000"}),
    ("/api/v1/units", {"name": "lone \ud800 surrogate", "kind": "bureau"}),
    ("/api/v1/categories", {"code": "90098", "name_zh": "x", "name_en": "y", "time_limit": 1,
                            "time_unit": "working_days", "keywords_zh": ["a\u0000"]}),
])
async def test_nul_in_json_bodies_is_422(client, world, path: str, body: dict) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(path, content=json.dumps(body), headers={**world.headers("admin"),
                                                                   "Content-Type": "application/json"})
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
    doc[0]["properties"] = {"code": "K1", "name": "ok", "kind": "k" * 100}
    other = {"type": "Polygon", "coordinates": [[[3, 3], [4, 3], [4, 4], [3, 3]]]}
    doc.append({"type": "Feature", "geometry": other, "properties": {"code": "K2", "name": "ok", "kind": "k\u0000"}})
    doc.append({"type": "Feature", "geometry": square, "properties": {"code": "K3", "name": "x\ud800"}})
    r = await client.post("/api/v1/grids/import", content=json.dumps(doc), headers=world.headers("admin"))
    assert r.status_code == 422 and [(e["index"], e["type"]) for e in r.json()["errors"]] == [(2, "name_invalid")]
    r = await client.post("/api/v1/grids/import", json=doc[:2], headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    cells = (await client.get("/api/v1/grids", params={"level": 1}, headers=world.headers("admin"))).json()["items"]
    kinds = {c["code"]: c["kind"] for c in cells}
    assert (kinds["K1"], kinds["K2"]) == ("k" * 32, None)


async def test_a_data_exception_is_422_an_unavailable_database_503_and_others_500(app) -> None:  # type: ignore[no-untyped-def]
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
        r = await c.get("/_raise/53300")  # too many connections: the server's problem, worth retrying
        assert (r.status_code, r.json()["code"], r.headers["retry-after"]) == (503, "database_unavailable", "5")
        r = await c.get("/_raise/42P01")  # an undefined table: our bug, not the client's
        assert (r.status_code, r.json()["code"]) == (500, "internal_error")


@pytest.mark.parametrize("cursor", ["eyJhZnRlciI6MjE0NzQ4MzY0OH0", "eyJhZnRlciI6OTIyMzM3MjAzNjg1NDc3NTgwOH0",
                                    "eyJhZnRlciI6LTF9"])
async def test_cursors_out_of_the_id_range_are_invalid(client, world, cursor: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/grids", params={"cursor": cursor}, headers=world.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (400, "invalid_cursor")


async def test_tokens_whose_subject_is_not_a_user_id_are_401(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    from app.core.security import create_access_token

    for sub in (str(2**63), str(2**31), "0", "-1", "١", "abc"):
        token, _ = create_access_token(subject=sub, role="admin", secret=settings.auth.secret_key,
                                       algorithm="HS256", minutes=5)
        r = await client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401, sub


@pytest.mark.parametrize(("level", "ok"), [("²", True), ("9223372036854775808", False), ("99999999999", False),
                                           ("40", False), ("3", True), ([1], False), ("district", True)])
async def test_import_levels_given_as_strings(client, world, level: object, ok: bool) -> None:  # type: ignore[no-untyped-def]
    square = {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}
    doc = [{"type": "Feature", "geometry": square, "properties": {"code": "LV", "name": "n", "level": level}}]
    r = await client.post("/api/v1/grids/import", json=doc, headers=world.headers("admin"))
    assert r.status_code == (201 if ok else 422), r.text


async def test_a_too_deep_chain_of_long_codes_is_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    square = {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}
    doc = [{"type": "Feature", "geometry": square,
            "properties": {"code": f"{i:02d}" + "x" * 30, "name": "n", **({"parent_code": f"{i - 1:02d}" + "x" * 30}
                                                                          if i else {})}} for i in range(20)]
    r = await client.post("/api/v1/grids/import", json=doc, headers=world.headers("admin"))
    assert r.status_code == 422 and {e["type"] for e in r.json()["errors"]} == {"tree_too_deep"}
