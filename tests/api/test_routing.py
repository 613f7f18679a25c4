"""Routing preview over the demo data (app/routing): category over general, inheritance, fallbacks,
explanations."""

import pytest

from tests.support.reports import CENTRE  # a 中街街道 cell


async def preview(client, headers: dict, category: str, **point: float):  # type: ignore[no-untyped-def]
    params = {**CENTRE, **point, "category": category}
    return await client.get("/api/v1/routing/preview", params=params, headers=headers)


async def test_parking_goes_to_the_traffic_brigade_from_district_level(client, world) -> None:  # type: ignore[no-untyped-def]
    body = (await preview(client, world.headers("dispatcher"), "09009")).json()
    assert body["unit"]["name"] == "平凉市公安局交通警察支队崆峒大队"
    assert (body["routing"]["rule"], body["routing"]["cell_code"], body["routing"]["inherited"]) == (
        "category",
        "620802",
        True,
    )
    assert body["grid"]["code"].startswith("620802002001") and body["category"]["name"] == "机动车乱停放"
    assert (
        "交通警察支队崆峒大队" in body["routing"]["explanation"] and "09009" in body["routing"]["explanation"]
    )


async def test_general_matter_goes_to_the_streets_partner_unit(client, world) -> None:  # type: ignore[no-untyped-def]
    body = (await preview(client, world.headers("supervisor"), "06010")).json()
    assert (body["unit"]["name"], body["routing"]["rule"], body["routing"]["cell_code"]) == (
        "市妇联",
        "general",
        "620802002",
    )


async def test_major_class_and_exact_category_specialists(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    assert (await preview(client, h, "08004")).json()["unit"]["name"] == "崆峒区住房和城乡建设局"  # major 08
    assert (await preview(client, h, "08004")).json()["routing"]["rule"] == "major"
    assert (await preview(client, h, "01001")).json()["unit"]["name"] == "平凉市供水总公司"
    assert (await preview(client, h, "09020")).json()["unit"]["name"] == "区商务局"


async def test_a_deeper_general_assignment_beats_the_streets(client, world) -> None:  # type: ignore[no-untyped-def]
    # the eastern edge of 东关街道 is 十里铺村's; one column further west is still 市民政局's
    body = (await preview(client, world.headers("admin"), "06010", lat=35.54, lon=106.6920)).json()
    assert (body["unit"]["name"], body["routing"]["inherited"]) == ("十里铺村", False)
    body = (await preview(client, world.headers("admin"), "06010", lat=35.54, lon=106.6800)).json()
    assert body["unit"]["name"] == "市民政局"


async def test_retired_units_fall_back_up_the_tree_then_to_dispatchers(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    await client.patch(f"/api/v1/units/{world.units['市妇联']}", json={"active": False}, headers=h)
    body = (await preview(client, h, "06010")).json()
    assert (body["unit"]["name"], body["routing"]["cell_code"]) == ("崆峒区城市管理综合执法局", "620802")
    await client.patch(
        f"/api/v1/units/{world.units['崆峒区城市管理综合执法局']}", json={"active": False}, headers=h
    )
    body = (
        await client.get(
            "/api/v1/routing/preview",
            params={**CENTRE, "category": "06010"},
            headers={**h, "Accept-Language": "en"},
        )
    ).json()
    assert body["unit"] is None and body["routing"]["rule"] == "none"
    assert "waits for a dispatcher" in body["routing"]["explanation"]


async def test_two_general_units_on_one_cell_the_older_assignment_wins(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("admin")
    cell = (await preview(client, h, "06010")).json()["grid"]
    units = []
    for name in ("甲单位", "乙单位"):
        units.append(
            (await client.post("/api/v1/units", json={"name": name, "kind": "community"}, headers=h)).json()
        )
    for unit in reversed(units):  # 乙 is assigned first, so 乙 holds the older assignment
        r = await client.post(
            "/api/v1/assignments", json={"unit_id": unit["id"], "grid_id": cell["id"]}, headers=h
        )
        assert r.status_code == 201 and r.json()["scope"] == "general"
    body = (await preview(client, h, "06010")).json()
    assert (body["unit"]["name"], body["routing"]["cell_code"], body["routing"]["inherited"]) == (
        "乙单位",
        cell["code"],
        False,
    )


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"category": "99999"}, "unknown_category"),
        ({"category": "0601"}, "validation_error"),
        ({"category": "06010", "lat": 39.9, "lon": 116.4}, "outside_service_area"),
    ],
)
async def test_bad_previews_are_422(client, world, params: dict, code: str) -> None:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/routing/preview", params={**CENTRE, **params}, headers=world.headers("admin")
    )
    assert (r.status_code, r.json()["code"]) == (422, code)


async def test_workers_and_unit_staff_may_not_preview(client, world) -> None:  # type: ignore[no-untyped-def]
    for username in ("worker1", "jiaojing"):
        assert (await preview(client, world.headers(username), "06010")).status_code == 403
    assert (await preview(client, {}, "06010")).status_code == 401
