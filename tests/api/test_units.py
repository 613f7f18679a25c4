"""Partner units (包抓共建单位) and their assignments to grid cells: app/units."""

import asyncio
import uuid

from sqlalchemy import func, select

from app.units.models import Assignment


async def test_unit_crud_and_unique_names(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    r = await client.post(
        "/api/v1/units",
        json={
            "name": "崆峒区市场监督管理局",
            "kind": "bureau",
            "contact": "值班室",
        },
        headers=h,
    )
    assert r.status_code == 201 and r.json()["kind_label"] == "局"
    unit = r.json()
    assert (
        await client.post("/api/v1/units", json={"name": "崆峒区市场监督管理局"}, headers=h)
    ).status_code == 409
    r = await client.patch(
        f"/api/v1/units/{unit['id']}", json={"contact": "张科长", "kind": "department"}, headers=h
    )
    assert (r.json()["contact"], r.json()["kind"]) == ("张科长", "department")
    r = await client.patch(f"/api/v1/units/{unit['id']}", json={"name": "市民政局"}, headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "unit_name_taken")
    assert (
        await client.get(f"/api/v1/units/{unit['id']}", headers=world.headers("worker1"))
    ).status_code == 200
    bad = await client.post("/api/v1/units", json={"name": "x", "kind": "church"}, headers=h)
    assert bad.status_code == 422
    # Units have no webhook_url any more (notification endpoints replace it): the field is refused.
    bad = await client.post(
        "/api/v1/units", json={"name": "x", "webhook_url": "https://x.example/"}, headers=h
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (422, "webhook_url")
    assert (
        await client.post("/api/v1/units", json={"name": "y"}, headers=world.headers("dispatcher"))
    ).status_code == 403


async def test_assignments_validate_and_list_and_delete(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    unit, cell = world.units["市民政局"], world.cells["620802001001001"]
    r = await client.post(
        "/api/v1/assignments", json={"unit_id": unit, "grid_id": cell, "category_code": "06"}, headers=h
    )
    assert r.status_code == 201 and (r.json()["scope"], r.json()["grid_code"]) == ("major", "620802001001001")
    assignment = r.json()
    again = await client.post(
        "/api/v1/assignments", json={"unit_id": unit, "grid_id": cell, "category_code": "06"}, headers=h
    )
    assert (again.status_code, again.json()["code"]) == (409, "assignment_exists")
    for body, field in (
        ({"unit_id": unit, "grid_id": cell, "category_code": "77"}, "category_code"),
        ({"unit_id": unit, "grid_id": cell, "category_code": "0601"}, "category_code"),
        ({"unit_id": 999999, "grid_id": cell}, "unit_id"),
        ({"unit_id": unit, "grid_id": 999999}, "grid_id"),
    ):
        r = await client.post("/api/v1/assignments", json=body, headers=h)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    listed = await client.get(
        "/api/v1/assignments", params={"grid_id": cell}, headers=world.headers("dispatcher")
    )
    assert [a["id"] for a in listed.json()["items"]] == [assignment["id"]]
    assert (await client.get("/api/v1/assignments", headers=world.headers("worker1"))).status_code == 403
    assert (await client.delete(f"/api/v1/assignments/{assignment['id']}", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v1/assignments/{assignment['id']}", headers=h)).status_code == 404


async def test_ids_are_strict_and_names_are_trimmed(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: true was read as id 1, and blank or padded names were kept.
    h = world.headers("admin")
    r = await client.post("/api/v1/assignments", json={"unit_id": True, "grid_id": 1}, headers=h)
    assert r.status_code == 422 and "unit_id" in [e["field"] for e in r.json()["errors"]]
    assert (await client.post("/api/v1/units", json={"name": "   "}, headers=h)).status_code == 422
    r = await client.post("/api/v1/units", json={"name": "  区文明办  ", "kind": "department"}, headers=h)
    assert r.json()["name"] == "区文明办"
    assert (await client.post("/api/v1/units", json={"name": "区文明办"}, headers=h)).status_code == 409


async def test_racing_twins_make_one_row_and_the_rest_are_told(live_client, live_engine, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: a lost uniqueness race was not answered 409, and one assignment could be
    # made twice (assignments are now unique per unit, cell and scope).
    h = world.headers("admin")
    unit = (
        await live_client.post("/api/v1/units", json={"name": f"单位{uuid.uuid4().hex[:6]}"}, headers=h)
    ).json()
    body = {"unit_id": unit["id"], "grid_id": 5, "category_code": "07"}
    responses = await asyncio.gather(
        *[live_client.post("/api/v1/assignments", json=body, headers=h) for _ in range(10)]
    )
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 9, [r.text[:120] for r in responses]
    async with live_engine.connect() as conn:
        n = (
            await conn.execute(
                select(func.count()).select_from(Assignment).where(Assignment.unit_id == unit["id"])
            )
        ).scalar()
    assert n == 1
    code = f"Z{uuid.uuid4().hex[:8]}"
    cell = {
        "code": code,
        "name": "z",
        "geometry": {
            "type": "Polygon",
            "coordinates": [[[150, 50], [150.001, 50], [150.001, 50.001], [150, 50.001], [150, 50]]],
        },
    }
    responses = await asyncio.gather(
        *[live_client.post("/api/v1/grids", json=cell, headers=h) for _ in range(6)]
    )
    assert sorted(r.status_code for r in responses)[0] == 201
    assert (
        all(r.status_code in (201, 409, 422) for r in responses)
        and sum(r.status_code == 201 for r in responses) == 1
    )
