"""The assessment (考核) can count a unit's campaign rectifications (inspection cases) apart from its reports."""

from __future__ import annotations

from tests.support.campaign import (
    IPHONE,
    MARKET,
    add_point,
    import_real_checklists,
    make_round,
    open_round,
    submit,
    with_results,
)
from tests.support.reports import CENTRE

JIAOJING = "平凉市公安局交通警察支队崆峒大队"


async def _filed(client, world, params: dict[str, str]) -> dict[str | None, int]:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/stats/assessment", params={"group_by": "unit", **params}, headers=world.headers("supervisor")
    )
    assert r.status_code == 200, r.text
    assert r.json()["source"] == params.get("source")
    return {g["name"]: g["counts"]["filed"] for g in r.json()["groups"]}


async def test_a_units_inspection_cases_count_apart_from_its_reports(client, world) -> None:  # type: ignore[no-untyped-def]
    await import_real_checklists(client, world)
    market = await add_point(client, world, "S-MARKET", geometry=MARKET, name="中山街农贸市场")
    r = await client.put(
        f"/api/v1/campaign/points/{market['id']}/duty",
        json={"unit_id": world.units[JIAOJING], "items": {}},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text
    round_ = await make_round(client, world, grid_id=world.cells["620802002"], points=[market["id"]])
    await open_round(client, world, round_["id"])
    failed = {"result": "noncompliant", "note": "违停", "photos": ["p.jpg"]}
    r = await submit(
        client,
        world,
        "worker2",
        round_["visits"][0]["id"],
        {"results": with_results("NMSC", NM_12=failed, NM_13=failed)},
        [("p.jpg", IPHONE.read_bytes())],
    )
    assert r.status_code == 200 and len(r.json()["cases"]) == 2, r.text
    for _ in range(3):  # parking reports go to the traffic police too
        r = await client.post(
            "/api/v1/reports",
            json={"category_code": "09009", "description": "机动车占用人行道", **CENTRE},
            headers=world.headers("worker2"),
        )
        assert r.status_code == 201, r.text

    assert (await _filed(client, world, {}))[JIAOJING] == 5
    assert await _filed(client, world, {"source": "inspection"}) == {JIAOJING: 2}
    assert (await _filed(client, world, {"source": "app"}))[JIAOJING] == 3
    assert await _filed(client, world, {"source": "open311"}) == {}
    r = await client.get(
        "/api/v1/stats/assessment",
        params={"group_by": "unit", "source": "phone"},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 422
