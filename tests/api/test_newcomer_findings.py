"""Regressions for what a newcomer's attack run found (each failed before its fix)."""

import asyncio
import uuid

import pytest
from sqlalchemy import func, select

from app.units.models import Assignment


async def test_the_last_active_admin_cannot_lock_everyone_out(client, world) -> None:  # type: ignore[no-untyped-def]
    admin_id = world.users["admin"][0]
    h = world.headers("admin")
    for change in ({"active": False}, {"role": "dispatcher"}):
        r = await client.patch(f"/api/v1/users/{admin_id}", json=change, headers=h)
        assert (r.status_code, r.json()["code"]) == (409, "last_admin"), change
    second = await client.post("/api/v1/users", json={"username": "admin2", "password": "long enough pw",
                                                      "role": "admin"}, headers=h)
    assert second.status_code == 201
    assert (await client.patch(f"/api/v1/users/{admin_id}", json={"active": False}, headers=h)).status_code == 200


async def test_usernames_are_case_insensitive(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/users", json={"username": "ADMIN", "password": "long enough pw", "role": "worker"},
                          headers=world.headers("admin"))
    assert (r.status_code, r.json()["code"]) == (409, "username_taken")
    r = await client.post("/api/v1/users", json={"username": "Li.Na", "password": "long enough pw", "role": "worker"},
                          headers=world.headers("admin"))
    assert r.json()["username"] == "li.na"
    r = await client.post("/api/v1/auth/token", data={"username": "Admin", "password": "demo-admin-2026"})
    assert r.status_code == 200


async def test_ids_are_strict_and_names_are_trimmed(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    r = await client.post("/api/v1/assignments", json={"unit_id": True, "grid_id": 1}, headers=h)
    assert r.status_code == 422 and "unit_id" in [e["field"] for e in r.json()["errors"]]
    assert (await client.post("/api/v1/units", json={"name": "   "}, headers=h)).status_code == 422
    r = await client.post("/api/v1/units", json={"name": "  区文明办  ", "kind": "department"}, headers=h)
    assert r.json()["name"] == "区文明办"
    assert (await client.post("/api/v1/units", json={"name": "区文明办"}, headers=h)).status_code == 409


async def test_a_trailing_slash_is_a_problem_not_a_redirect(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/categories/")
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"


async def test_catalogue_rules_hold_for_admin_edits_and_filing(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    r = await client.patch("/api/v1/categories/91001", json={"priority": "low"}, headers=h)
    assert (r.status_code, r.json()["errors"][0]["type"]) == (422, "veto_rules")
    r = await client.post("/api/v1/categories", json={"code": "06099", "name_zh": "x", "name_en": "x", "family": "component",
                                                     "time_limit": 1, "time_unit": "working_days"}, headers=h)
    assert (r.status_code, r.json()["errors"][0]["type"]) == (422, "family_mismatch")
    await client.patch("/api/v1/categories/06010", json={"active": False}, headers=h)
    r = await client.post("/api/v1/reports", json={"category_code": "06010", "lat": 35.5428, "lon": 106.6652},
                          headers=world.headers("worker2"))
    assert (r.status_code, r.json()["code"]) == (422, "unknown_category")


async def test_concurrent_writes_on_the_embedded_database_all_succeed(live_client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    tag = uuid.uuid4().hex[:8]

    async def create(i: int):  # type: ignore[no-untyped-def]
        return await live_client.post("/api/v1/users", json={"username": f"u{tag}{i}", "password": "long enough pw",
                                                             "role": "worker"}, headers=h)

    responses = await asyncio.gather(*[create(i) for i in range(12)])
    assert [r.status_code for r in responses] == [201] * 12


async def test_racing_twins_make_one_row_and_the_rest_are_told(live_client, live_engine, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    unit = (await live_client.post("/api/v1/units", json={"name": f"单位{uuid.uuid4().hex[:6]}"}, headers=h)).json()
    body = {"unit_id": unit["id"], "grid_id": 5, "category_code": "07"}
    responses = await asyncio.gather(*[live_client.post("/api/v1/assignments", json=body, headers=h) for _ in range(10)])
    codes = sorted(r.status_code for r in responses)
    assert codes == [201] + [409] * 9, [r.text[:120] for r in responses]
    async with live_engine.connect() as conn:
        n = (await conn.execute(select(func.count()).select_from(Assignment)
                                .where(Assignment.unit_id == unit["id"]))).scalar()
    assert n == 1
    code = f"Z{uuid.uuid4().hex[:8]}"
    cell = {"code": code, "name": "z", "geometry": {"type": "Polygon", "coordinates": [
        [[150, 50], [150.001, 50], [150.001, 50.001], [150, 50.001], [150, 50]]]}}
    responses = await asyncio.gather(*[live_client.post("/api/v1/grids", json=cell, headers=h) for _ in range(6)])
    assert sorted(r.status_code for r in responses)[0] == 201
    assert all(r.status_code in (201, 409, 422) for r in responses) and sum(r.status_code == 201 for r in responses) == 1


@pytest.mark.parametrize("entry", [
    {"code": "06990", "family": "matter", "time_limit": 1, "time_unit": "working_days", "priority": "low",
     "name_en": "x"},  # no name_zh
    {"code": "06990", "family": "matter", "name_zh": "x", "name_en": "x", "time_limit": 1e23,
     "time_unit": "working_days", "priority": "low"},
    {"code": "06990", "family": "matter", "name_zh": "x", "name_en": "x", "time_limit": 1, "time_unit": "working_days",
     "priority": "low", "veto": "yes"},
    {"code": "06990", "family": "matter", "name_zh": "x", "name_en": "x", "time_limit": 1, "time_unit": "working_days",
     "priority": "low", "keywords_zh": "notalist"},
    {"code": "06990", "family": "component", "name_zh": "x", "name_en": "x", "time_limit": 1,
     "time_unit": "working_days", "priority": "low"},
    "a bare string",
])
async def test_catalogue_files_with_bad_entries_are_refused(session, tmp_path, entry) -> None:  # type: ignore[no-untyped-def]
    import json

    from app.categories.service import CatalogueInvalid, load_catalogue

    path = tmp_path / "c.json"
    path.write_text(json.dumps({"majors": [{"code": "06", "family": "matter", "name_zh": "市容", "name_en": "a"}],
                                "categories": [entry]}))
    with pytest.raises(CatalogueInvalid):
        await load_catalogue(session, path)
