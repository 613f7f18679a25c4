"""Grid cells over HTTP: locating points (WGS-84, GCJ-02, BD-09), the shared-edge rule, listing, creating and
editing one cell, every process seeing a change: app/grids (importing files: test_grid_import.py)."""

import httpx
import pytest

from app.main import create_app
from tests.support.grids import INSIDE_KONGTONG, post_import, square


async def test_every_process_notices_a_grid_change(settings, empty_db, admin_token) -> None:  # type: ignore[no-untyped-def]
    from app.auth.models import User

    async with empty_db.sessionmaker() as s:
        s.add(User(id=1, username="root", password_hash="x", role="admin"))
        await s.commit()
    apps = [create_app(settings=settings, database=empty_db) for _ in range(2)]  # two server processes
    clients = [httpx.AsyncClient(transport=httpx.ASGITransport(app=a), base_url="http://test") for a in apps]
    try:
        await post_import(clients[0], [square("P", 0, 0, 1.0)], admin_token)
        r = await clients[1].get("/api/v1/grids/locate", params={"lat": 0.5, "lon": 0.5}, headers=admin_token)
        assert [c["code"] for c in r.json()["chain"]] == ["P"]  # process 2 builds its index
        await post_import(clients[0], [square("P1", 0, 0, 0.5, parent_code="P")], admin_token)
        r = await clients[1].get(
            "/api/v1/grids/locate", params={"lat": 0.25, "lon": 0.25}, headers=admin_token
        )
        assert [c["code"] for c in r.json()["chain"]] == [
            "P1",
            "P",
        ]  # and rebuilds it after process 1's import
        cell = r.json()["chain"][0]
        moved = {"geometry": square("", 0.5, 0.5, 0.5)["geometry"]}
        assert (
            await clients[0].patch(f"/api/v1/grids/{cell['id']}", json=moved, headers=admin_token)
        ).status_code == 200
        r = await clients[1].get(
            "/api/v1/grids/locate", params={"lat": 0.25, "lon": 0.25}, headers=admin_token
        )
        assert [c["code"] for c in r.json()["chain"]] == ["P"]
    finally:
        for c in clients:
            await c.aclose()


async def test_shared_edges_go_to_one_cell_by_the_documented_rule(empty_client, admin_token) -> None:  # type: ignore[no-untyped-def]
    doc = [
        square("E", 0, 0, 2.0),
        square("E002", 1.0, 0, 1.0, parent_code="E"),
        square("E001", 0, 0, 1.0, parent_code="E"),
    ]
    assert (await post_import(empty_client, doc, admin_token)).status_code == 201
    for lon, lat, code in ((1.0, 0.5, "E001"), (0.999999, 0.5, "E001"), (1.000001, 0.5, "E002")):
        r = await empty_client.get(
            "/api/v1/grids/locate", params={"lat": lat, "lon": lon}, headers=admin_token
        )
        assert r.json()["chain"][0]["code"] == code, (lon, lat)


async def test_locate_converts_gcj02_and_bd09_points(client, world) -> None:  # type: ignore[no-untyped-def]
    from app.geo.coords import from_wgs84

    lat, lon = INSIDE_KONGTONG
    wgs = (
        await client.get(
            "/api/v1/grids/locate", params={"lat": lat, "lon": lon}, headers=world.headers("worker1")
        )
    ).json()
    for system in ("gcj02", "bd09"):
        glon, glat = from_wgs84(lon, lat, system)
        r = await client.get(
            "/api/v1/grids/locate",
            params={"lat": glat, "lon": glon, "coord_system": system},
            headers=world.headers("worker1"),
        )
        assert r.status_code == 200
        body = r.json()
        assert body["chain"] == wgs["chain"] and body["coord_system"] == system
        assert abs(body["point"]["lat"] - lat) < 1e-5 and abs(body["point"]["lon"] - lon) < 1e-5


@pytest.mark.parametrize(
    "params",
    [
        {"lat": "91", "lon": "106"},
        {"lat": "35", "lon": "-181"},
        {"lat": "nan", "lon": "106"},
        {"lat": "35", "lon": "inf"},
        {"lat": "35"},
        {"lat": "abc", "lon": "106"},
        {"lat": "35", "lon": "106", "coord_system": "utm"},
    ],
)
async def test_bad_coordinates_are_422(client, world, params: dict) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/grids/locate", params=params, headers=world.headers("worker1"))
    assert (r.status_code, r.json()["code"]) == (422, "validation_error")


async def test_demo_chain_for_the_city_centre(client, world) -> None:  # type: ignore[no-untyped-def]
    lat, lon = INSIDE_KONGTONG
    r = await client.get(
        "/api/v1/grids/locate", params={"lat": lat, "lon": lon}, headers=world.headers("worker1")
    )
    chain = r.json()["chain"]
    assert [c["level"] for c in chain] == [3, 2, 1]
    assert chain[0]["code"].startswith("620802002001") and len(chain[0]["code"]) == 15
    assert [c["code"] for c in chain[1:]] == ["620802002", "620802"]


async def test_list_get_create_and_patch_cells(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    street = world.cells["620802001"]
    page = (
        await client.get(
            "/api/v1/grids", params={"parent_id": street, "limit": 5}, headers=world.headers("worker1")
        )
    ).json()
    assert (
        len(page["items"]) == 5 and page["next_cursor"] and all(c["geometry"] is None for c in page["items"])
    )
    assert all(c["code"].startswith("620802001001") and 9_000 < c["area_m2"] < 11_000 for c in page["items"])
    cell = (await client.get(f"/api/v1/grids/{page['items'][0]['id']}", headers=h)).json()
    assert cell["geometry"]["type"] == "Polygon" and len(cell["bbox"]) == 4
    overlapping = {
        "code": "620802001002001",
        "name": "新建网格",
        "parent_id": street,
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[106.69, 35.53], [106.691, 35.53], [106.691, 35.531], [106.69, 35.531], [106.69, 35.53]]
            ],
        },
    }
    r = await client.post("/api/v1/grids", json=overlapping, headers=h)
    assert r.status_code == 422 and {(e["field"], e["type"]) for e in r.json()["errors"]} == {
        ("geometry", "cell_overlap")
    }
    district = world.cells["620802"]
    new = {
        "code": "620802101",
        "name": "崆峒镇",
        "parent_id": district,
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[106.75, 35.45], [106.76, 35.45], [106.76, 35.46], [106.75, 35.46], [106.75, 35.45]]
            ],
        },
    }
    r = await client.post("/api/v1/grids", json=new, headers=h)
    assert r.status_code == 201, r.text
    assert (r.json()["level"], r.json()["parent_id"]) == (2, district)
    assert (await client.post("/api/v1/grids", json=new, headers=h)).json()["code"] == "grid_code_taken"
    r = await client.patch(f"/api/v1/grids/{r.json()['id']}", json={"name": "改名网格"}, headers=h)
    assert r.json()["name"] == "改名网格"
    assert (await client.get("/api/v1/grids/2147483647", headers=h)).status_code == 404
    assert (await client.get("/api/v1/grids/99999999999999999999", headers=h)).status_code == 422
    assert (await client.get("/api/v1/grids", params={"cursor": "!!!"}, headers=h)).json()[
        "code"
    ] == "invalid_cursor"


@pytest.mark.parametrize(
    "cursor", ["eyJhZnRlciI6MjE0NzQ4MzY0OH0", "eyJhZnRlciI6OTIyMzM3MjAzNjg1NDc3NTgwOH0", "eyJhZnRlciI6LTF9"]
)
async def test_cursors_out_of_the_id_range_are_invalid(client, world, cursor: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/grids", params={"cursor": cursor}, headers=world.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (400, "invalid_cursor")
