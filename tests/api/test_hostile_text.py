"""Text a database cannot store (NUL) or over-long labels get a 422, never a 500, on SQLite and PostgreSQL."""

import json

import pytest


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/api/v1/units", {"name": "a\u0000b", "kind": "bureau"}),
        ("/api/v1/users", {"username": "abc", "password": "pass\u0000word", "role": "worker"}),
        ("/api/v1/api-keys", {"name": "\u0000"}),
        ("/api/v1/units", {"name": "lone \ud800 surrogate", "kind": "bureau"}),
        (
            "/api/v1/categories",
            {
                "code": "90098",
                "name_zh": "x",
                "name_en": "y",
                "time_limit": 1,
                "time_unit": "working_days",
                "keywords_zh": ["a\u0000"],
            },
        ),
    ],
)
async def test_nul_in_json_bodies_is_422(client, world, path: str, body: dict) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        path, content=json.dumps(body), headers={**world.headers("admin"), "Content-Type": "application/json"}
    )
    assert (r.status_code, r.json()["code"]) == (422, "validation_error"), r.text


async def test_nul_in_query_strings_is_422(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/grids?code=62%00", headers=world.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


async def test_nul_in_login_form_is_a_failed_login(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/auth/token", data={"username": "ad\u0000min", "password": "demo-admin-2026"}
    )
    assert (r.status_code, r.json()["code"]) == (401, "invalid_credentials")


async def test_nul_and_long_kinds_in_geojson_properties(client, world) -> None:  # type: ignore[no-untyped-def]
    square = {"type": "Polygon", "coordinates": [[[1, 1], [2, 1], [2, 2], [1, 1]]]}
    doc = [{"type": "Feature", "geometry": square, "properties": {"code": "K1", "name": "a\u0000"}}]
    r = await client.post("/api/v1/grids/import", json=doc, headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "name_invalid"
    doc[0]["properties"] = {"code": "K1", "name": "ok", "kind": "k" * 100}
    other = {"type": "Polygon", "coordinates": [[[3, 3], [4, 3], [4, 4], [3, 3]]]}
    doc.append(
        {"type": "Feature", "geometry": other, "properties": {"code": "K2", "name": "ok", "kind": "k\u0000"}}
    )
    doc.append({"type": "Feature", "geometry": square, "properties": {"code": "K3", "name": "x\ud800"}})
    r = await client.post("/api/v1/grids/import", content=json.dumps(doc), headers=world.headers("admin"))
    assert r.status_code == 422 and [(e["index"], e["type"]) for e in r.json()["errors"]] == [
        (2, "name_invalid")
    ]
    r = await client.post("/api/v1/grids/import", json=doc[:2], headers=world.headers("admin"))
    assert r.status_code == 201, r.text
    cells = (await client.get("/api/v1/grids", params={"level": 1}, headers=world.headers("admin"))).json()[
        "items"
    ]
    kinds = {c["code"]: c["kind"] for c in cells}
    assert (kinds["K1"], kinds["K2"]) == ("k" * 32, None)
