"""The category catalogue (部件/事项): reading it, admins editing it, loading catalogue files: app/categories."""

import pytest

DOMAIN_EXAMPLES = {
    "06010": "暴露垃圾",
    "06013": "道路破损",
    "07001": "非法小广告",
    "08004": "工地扬尘",
    "09006": "占道经营",
    "09009": "机动车乱停放",
    "09012": "占用消防通道",
    "09020": "农贸市场秩序问题",
    "10001": "道路积雪、结冰",
}


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
    r = await client.get(
        "/api/v1/categories", params={"major": "09"}, headers={"Accept-Language": "en-US,en;q=0.9"}
    )
    assert r.headers["content-language"] == "en"
    names = {c["code"]: c["name"] for c in r.json()["items"]}
    assert set(names) and all(code.startswith("09") for code in names)
    assert names["09009"] == "Illegal parking"
    r = await client.get("/api/v1/categories", params={"family": "component"})
    assert all(c["family"] == "component" for c in r.json()["items"])


async def test_admins_add_and_edit_categories(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    body = {
        "code": "90099",
        "name_zh": "乱贴乱画",
        "name_en": "Graffiti",
        "time_limit": 2,
        "time_unit": "working_days",
    }
    r = await client.post("/api/v1/categories", json=body, headers=h)
    assert r.status_code == 201 and (r.json()["family"], r.json()["name"]) == ("matter", "乱贴乱画")
    assert (await client.post("/api/v1/categories", json=body, headers=h)).status_code == 409
    r = await client.patch("/api/v1/categories/90099", json={"active": False, "priority": "high"}, headers=h)
    assert (r.json()["active"], r.json()["priority"]) == (False, "high")
    codes = [c["code"] for c in (await client.get("/api/v1/categories")).json()["items"]]
    assert "90099" not in codes
    assert (
        await client.post("/api/v1/categories", json={**body, "code": "55001"}, headers=h)
    ).status_code == 422
    assert (
        await client.patch("/api/v1/categories/90099", json={}, headers=world.headers("supervisor"))
    ).status_code == 403


async def test_loading_the_catalogue_again_updates_in_place(session) -> None:  # type: ignore[no-untyped-def]
    from app.categories.service import load_catalogue

    result = await load_catalogue(session)
    assert result.created == 0 and result.updated >= 60 and result.majors >= 12


@pytest.mark.parametrize(
    "bad",
    [
        {"majors": [], "categories": [{"code": "06010"}]},
        {
            "majors": [{"code": "06", "family": "matter", "name_zh": "a", "name_en": "b"}],
            "categories": [
                {
                    "code": "06010",
                    "family": "matter",
                    "time_unit": "fortnights",
                    "priority": "low",
                    "time_limit": 1,
                }
            ],
        },
        {"nope": 1},
    ],
)
async def test_a_broken_catalogue_file_is_refused_before_writing(session, tmp_path, bad: dict) -> None:  # type: ignore[no-untyped-def]
    import json

    from app.categories.service import CatalogueInvalid, load_catalogue

    path = tmp_path / "c.json"
    path.write_text(json.dumps(bad))
    with pytest.raises(CatalogueInvalid):
        await load_catalogue(session, path)


async def test_catalogue_rules_hold_for_admin_edits_and_filing(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: admin edits could break the veto and family rules, and a retired
    # category could still be filed.
    h = world.headers("admin")
    r = await client.patch("/api/v1/categories/91001", json={"priority": "low"}, headers=h)
    assert (r.status_code, r.json()["errors"][0]["type"]) == (422, "veto_rules")
    r = await client.post(
        "/api/v1/categories",
        json={
            "code": "06099",
            "name_zh": "x",
            "name_en": "x",
            "family": "component",
            "time_limit": 1,
            "time_unit": "working_days",
        },
        headers=h,
    )
    assert (r.status_code, r.json()["errors"][0]["type"]) == (422, "family_mismatch")
    await client.patch("/api/v1/categories/06010", json={"active": False}, headers=h)
    r = await client.post(
        "/api/v1/reports",
        json={"category_code": "06010", "lat": 35.5428, "lon": 106.6652},
        headers=world.headers("worker2"),
    )
    assert (r.status_code, r.json()["code"]) == (422, "unknown_category")


@pytest.mark.parametrize(
    "entry",
    [
        {
            "code": "06990",
            "family": "matter",
            "time_limit": 1,
            "time_unit": "working_days",
            "priority": "low",
            "name_en": "x",
        },  # no name_zh
        {
            "code": "06990",
            "family": "matter",
            "name_zh": "x",
            "name_en": "x",
            "time_limit": 1e23,
            "time_unit": "working_days",
            "priority": "low",
        },
        {
            "code": "06990",
            "family": "matter",
            "name_zh": "x",
            "name_en": "x",
            "time_limit": 1,
            "time_unit": "working_days",
            "priority": "low",
            "veto": "yes",
        },
        {
            "code": "06990",
            "family": "matter",
            "name_zh": "x",
            "name_en": "x",
            "time_limit": 1,
            "time_unit": "working_days",
            "priority": "low",
            "keywords_zh": "notalist",
        },
        {
            "code": "06990",
            "family": "component",
            "name_zh": "x",
            "name_en": "x",
            "time_limit": 1,
            "time_unit": "working_days",
            "priority": "low",
        },
        "a bare string",
    ],
)
async def test_catalogue_files_with_bad_entries_are_refused(session, tmp_path, entry) -> None:  # type: ignore[no-untyped-def]
    # Found by a newcomer's attack run: catalogue files were loaded without checking each entry's fields and types.
    import json

    from app.categories.service import CatalogueInvalid, load_catalogue

    path = tmp_path / "c.json"
    path.write_text(
        json.dumps(
            {
                "majors": [{"code": "06", "family": "matter", "name_zh": "市容", "name_en": "a"}],
                "categories": [entry],
            }
        )
    )
    with pytest.raises(CatalogueInvalid):
        await load_catalogue(session, path)
