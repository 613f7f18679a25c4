"""The campaign's demo (app.campaign.demo) loads onto the demo data set and works as the walk-through expects."""

import datetime as dt

from app.campaign.demo import load_campaign_demo
from tests.support.campaign import IPHONE, submit, with_results


async def test_the_demo_gives_worker2_and_the_supervisor_an_open_round(client, world, db) -> None:  # type: ignore[no-untyped-def]
    async with db.sessionmaker() as session:
        await load_campaign_demo(session, today=dt.date(2026, 12, 7))
        await session.commit()
    mine = (await client.get("/api/v1/campaign/visits", headers=world.headers("worker2"))).json()["items"]
    assert sorted(v["point"]["code"] for v in mine) == ["KT-GJ-002", "KT-NM-001"]  # 中街街道's
    office = (
        await client.get(
            "/api/v1/campaign/visits", params={"mine": "true"}, headers=world.headers("supervisor")
        )
    ).json()
    assert sorted(v["point"]["code"] for v in office["items"]) == [
        "KT-GC-001",
        "KT-GJ-001",
        "KT-GJ-003",
        "KT-NM-002",
    ]
    assert {v["round"]["status"] for v in mine} == {"open"}
    points = (await client.get("/api/v1/campaign/points", headers=world.headers("supervisor"))).json()[
        "items"
    ]
    streets = {p["code"]: p["grid"]["code"][:9] for p in points}
    assert streets == {
        "KT-NM-001": "620802002",
        "KT-NM-002": "620802003",
        "KT-GC-001": "620802001",
        "KT-GJ-001": "620802003",
        "KT-GJ-002": "620802002",
        "KT-GJ-003": "620802001",
    }
    market = next(v for v in mine if v["point"]["code"] == "KT-NM-001")
    results = with_results("NMSC", NM_12={"result": "noncompliant", "note": "违停", "photos": ["a.jpg"]})
    r = await submit(
        client, world, "worker2", market["id"], {"results": results}, [("a.jpg", IPHONE.read_bytes())]
    )
    assert r.status_code == 200, r.text
    assert r.json()["cases"][0]["unit"]["name"] == "平凉市公安局交通警察支队崆峒大队"
