"""Partner units, assignments and the category catalogue."""

import pytest

DOMAIN_EXAMPLES = {"06010": "暴露垃圾", "06013": "道路破损", "07001": "非法小广告", "08004": "工地扬尘",
                   "09006": "占道经营", "09009": "机动车乱停放", "09012": "占用消防通道", "09020": "农贸市场秩序问题",
                   "10001": "道路积雪、结冰"}


async def test_unit_crud_and_unique_names(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    r = await client.post("/api/v1/units", json={"name": "崆峒区市场监督管理局", "kind": "bureau", "contact": "值班室",
                                                "webhook_url": "https://example.org/hook"}, headers=h)
    assert r.status_code == 201 and r.json()["kind_label"] == "局"
    unit = r.json()
    assert (await client.post("/api/v1/units", json={"name": "崆峒区市场监督管理局"}, headers=h)).status_code == 409
    r = await client.patch(f"/api/v1/units/{unit['id']}", json={"contact": "张科长", "kind": "department"}, headers=h)
    assert (r.json()["contact"], r.json()["kind"]) == ("张科长", "department")
    r = await client.patch(f"/api/v1/units/{unit['id']}", json={"name": "市民政局"}, headers=h)
    assert (r.status_code, r.json()["code"]) == (409, "unit_name_taken")
    assert (await client.get(f"/api/v1/units/{unit['id']}", headers=world.headers("worker1"))).status_code == 200
    bad = await client.post("/api/v1/units", json={"name": "x", "kind": "church"}, headers=h)
    assert bad.status_code == 422
    bad = await client.post("/api/v1/units", json={"name": "x", "webhook_url": "ftp://x"}, headers=h)
    assert bad.status_code == 422
    assert (await client.post("/api/v1/units", json={"name": "y"}, headers=world.headers("dispatcher"))).status_code == 403


async def test_assignments_validate_and_list_and_delete(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    unit, cell = world.units["市民政局"], world.cells["620802001001001"]
    r = await client.post("/api/v1/assignments", json={"unit_id": unit, "grid_id": cell, "category_code": "06"},
                          headers=h)
    assert r.status_code == 201 and (r.json()["scope"], r.json()["grid_code"]) == ("major", "620802001001001")
    assignment = r.json()
    again = await client.post("/api/v1/assignments", json={"unit_id": unit, "grid_id": cell, "category_code": "06"},
                              headers=h)
    assert (again.status_code, again.json()["code"]) == (409, "assignment_exists")
    for body, field in (({"unit_id": unit, "grid_id": cell, "category_code": "77"}, "category_code"),
                        ({"unit_id": unit, "grid_id": cell, "category_code": "0601"}, "category_code"),
                        ({"unit_id": 999999, "grid_id": cell}, "unit_id"),
                        ({"unit_id": unit, "grid_id": 999999}, "grid_id")):
        r = await client.post("/api/v1/assignments", json=body, headers=h)
        assert r.status_code == 422 and field in [e["field"] for e in r.json()["errors"]], (body, r.json())
    listed = (await client.get("/api/v1/assignments", params={"grid_id": cell}, headers=world.headers("dispatcher")))
    assert [a["id"] for a in listed.json()["items"]] == [assignment["id"]]
    assert (await client.get("/api/v1/assignments", headers=world.headers("worker1"))).status_code == 403
    assert (await client.delete(f"/api/v1/assignments/{assignment['id']}", headers=h)).status_code == 204
    assert (await client.delete(f"/api/v1/assignments/{assignment['id']}", headers=h)).status_code == 404


async def test_catalogue_is_public_and_zh_by_default(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/categories")
    assert r.status_code == 200 and r.headers["content-language"] == "zh-CN"
    items = {c["code"]: c for c in r.json()["items"]}
    assert {code: items[code]["name"] for code in DOMAIN_EXAMPLES} == DOMAIN_EXAMPLES
    veto = [c for c in items.values() if c["veto"]]
    assert {c["name_zh"] for c in veto} == {"群体性事件", "重大安全事故", "环保事件"}
    assert {(c["priority"], c["time_unit"]) for c in veto} == {("urgent", "natural_hours")}
    assert {c["family"] for c in items.values()} == {"component", "matter"}
    majors = {m["code"]: m["name"] for m in r.json()["majors"]}
    assert majors["09"] == "街面秩序" and all(c["major_code"] in majors for c in items.values())


async def test_catalogue_in_english_and_filtered(client) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/categories", params={"major": "09"}, headers={"Accept-Language": "en-US,en;q=0.9"})
    assert r.headers["content-language"] == "en"
    names = {c["code"]: c["name"] for c in r.json()["items"]}
    assert set(names) and all(code.startswith("09") for code in names)
    assert names["09009"] == "Illegal parking"
    r = await client.get("/api/v1/categories", params={"family": "component"})
    assert all(c["family"] == "component" for c in r.json()["items"])


async def test_admins_add_and_edit_categories(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    body = {"code": "90099", "name_zh": "乱贴乱画", "name_en": "Graffiti", "time_limit": 2, "time_unit": "working_days"}
    r = await client.post("/api/v1/categories", json=body, headers=h)
    assert r.status_code == 201 and (r.json()["family"], r.json()["name"]) == ("matter", "乱贴乱画")
    assert (await client.post("/api/v1/categories", json=body, headers=h)).status_code == 409
    r = await client.patch("/api/v1/categories/90099", json={"active": False, "priority": "high"}, headers=h)
    assert (r.json()["active"], r.json()["priority"]) == (False, "high")
    codes = [c["code"] for c in (await client.get("/api/v1/categories")).json()["items"]]
    assert "90099" not in codes
    assert (await client.post("/api/v1/categories", json={**body, "code": "55001"}, headers=h)).status_code == 422
    assert (await client.patch("/api/v1/categories/90099", json={}, headers=world.headers("supervisor"))).status_code == 403


async def test_loading_the_catalogue_again_updates_in_place(session) -> None:  # type: ignore[no-untyped-def]
    from app.categories.service import load_catalogue

    result = await load_catalogue(session)
    assert result.created == 0 and result.updated >= 60 and result.majors >= 12


@pytest.mark.parametrize("bad", [
    {"majors": [], "categories": [{"code": "06010"}]},
    {"majors": [{"code": "06", "family": "matter", "name_zh": "a", "name_en": "b"}],
     "categories": [{"code": "06010", "family": "matter", "time_unit": "fortnights", "priority": "low",
                     "time_limit": 1}]},
    {"nope": 1},
])
async def test_a_broken_catalogue_file_is_refused_before_writing(session, tmp_path, bad: dict) -> None:  # type: ignore[no-untyped-def]
    import json

    from app.categories.service import CatalogueInvalid, load_catalogue

    path = tmp_path / "c.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CatalogueInvalid):
        await load_catalogue(session, path)
