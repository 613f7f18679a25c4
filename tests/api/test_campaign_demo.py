"""The campaign's demo (app.campaign.demo, with its past patrols: app.demo.campaign) loads onto the demo data set
and works as the walk-through expects."""

import datetime as dt

from sqlalchemy import select

from app.campaign.demo import load_campaign_demo
from app.campaign.models import Notice, Round, Visit, VisitPhoto
from app.cases.models import Case
from app.core.config import Settings
from app.demo.campaign import load_campaign
from app.photos.models import Photo
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


TODAY = dt.date(2026, 12, 7)
PATROLS = ["2026年9月 常态巡查", "2026年10月 常态巡查", "2026年11月 常态巡查"]


async def test_the_demo_shows_every_campaign_feature(client, world, db, settings) -> None:  # type: ignore[no-untyped-def]
    async with db.sessionmaker() as session:
        loaded = await load_campaign(session, settings, db, today=TODAY)
        await session.commit()
    assert (loaded.rounds, loaded.published) == (4, 3), loaded
    assert 0 < loaded.closed < loaded.cases <= loaded.failures and loaded.notices > loaded.signed_off > 0, (
        loaded
    )
    office = world.headers("supervisor")
    rounds = (await client.get("/api/v1/campaign/rounds", headers=office)).json()["items"]
    assert [(r["title"], r["status"]) for r in rounds] == [
        ("模拟测评(演示)", "open"),
        *((title, "published") for title in reversed(PATROLS)),
    ]
    patrols = sorted((r for r in rounds if r["kind"] == "patrol"), key=lambda r: r["period_from"])
    assert [(r["period_from"], r["period_to"]) for r in patrols] == [
        ("2026-09-01", "2026-09-30"),
        ("2026-10-01", "2026-10-31"),
        ("2026-11-01", "2026-11-30"),
    ]

    # Every published patrol has its boards and its notices; the older ones have notices signed off.
    for r in patrols:
        board = (
            await client.get(
                "/api/v1/campaign/boards", params={"round": r["id"], "kind": "unit"}, headers=office
            )
        ).json()
        assert board["rule"]["black_below"] == 85 and board["red"] and board["black"], board
        assert all(e["subject"]["id"] is not None for e in board["red"] + board["black"])
        grid = await client.get(
            "/api/v1/campaign/boards", params={"round": r["id"], "kind": "grid"}, headers=office
        )
        assert len(grid.json()["ranking"]) == 3  # the three streets
        notices = (
            await client.get("/api/v1/campaign/notices", params={"round": r["id"]}, headers=office)
        ).json()
        assert notices["items"], r["title"]
    september = (
        await client.get("/api/v1/campaign/notices", params={"round": patrols[0]["id"]}, headers=office)
    ).json()["items"]
    assert "signed_off" in {n["status"] for n in september}

    # The trend over the published rounds rises; the older rounds' failures are mostly rectified.
    trend = (await client.get("/api/v1/campaign/scores/trend", headers=office)).json()["points"]
    assert [p["round"]["title"] for p in trend] == PATROLS
    scores = [p["score"]["value"] for p in trend]
    assert scores == sorted(scores) and scores[0] < scores[-1], scores
    assert trend[0]["rectified"]["value"] > 0.5 and trend[0]["compliance"]["value"] < 0.9, trend[0]
    failed = 1 - trend[0]["compliance"]["value"], 1 - trend[-1]["compliance"]["value"]
    assert 0.09 <= failed[1] < failed[0] <= 0.2, failed  # about 10-20% of the items fail
    latest = patrols[-1]["id"]
    by_street = (
        await client.get(
            "/api/v1/campaign/scores", params={"round": latest, "group_by": "grid"}, headers=office
        )
    ).json()
    assert by_street["rounds"] == [latest] and by_street["groups"], by_street

    # The printable report of the latest published round: boards and the trend's line.
    r = await client.get(f"/api/v1/campaign/rounds/{latest}/report", headers=office)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "已发布 published" in page and "红榜 red board" in page and "黑榜 black board" in page
    assert "polyline" in page and "2026-09" in page  # the trend over the three patrols, a line

    # Visits and their cases happened within their round's period; one visit was unable, its photo flagged.
    async with db.sessionmaker() as session:
        rows = (
            await session.execute(
                select(Round.period_from, Round.period_to, Visit.status, Visit.submitted_at)
                .join(Visit, Visit.round_id == Round.id)
                .where(Round.kind == "patrol")
            )
        ).all()
        assert sorted(status for *_, status, _ in rows).count("unable") == 1
        for start, end, _, submitted in rows:
            local = submitted.replace(tzinfo=dt.UTC).astimezone(settings.workflow_tz).date()
            assert start <= local <= end
        cases = (
            await session.execute(
                select(Round.period_from, Round.period_to, Case.created_at)
                .join(Case, Case.round_id == Round.id)
                .where(Round.kind == "patrol")
            )
        ).all()
        assert len(cases) == loaded.cases
        for start, end, created in cases:
            assert start <= created.replace(tzinfo=dt.UTC).astimezone(settings.workflow_tz).date() <= end
        flags = (
            await session.execute(select(Photo.flags).join(VisitPhoto, VisitPhoto.photo_id == Photo.id))
        ).scalars()
        assert ["far_from_report" in f for f in flags if f] == [True]  # GPS near the point but the unable's


async def _snapshot(session) -> dict[str, list[tuple]]:  # type: ignore[no-untyped-def]
    visits = await session.execute(
        select(Round.title, Visit.status, Visit.score_num, Visit.submitted_at)
        .join(Visit, Visit.round_id == Round.id)
        .order_by(Round.title, Visit.submitted_at)
    )
    cases = await session.execute(
        select(
            Case.category_code, Case.description, Case.status, Case.unit_id, Case.created_at, Case.closed_at
        )
        .where(Case.source == "inspection")
        .order_by(Case.created_at, Case.description)
    )
    notices = await session.execute(
        select(Round.title, Notice.unit_id, Notice.status, Notice.due_at)
        .join(Notice, Notice.round_id == Round.id)
        .order_by(Round.title, Notice.unit_id)
    )
    return {"visits": visits.all(), "cases": cases.all(), "notices": notices.all()}


async def test_the_same_day_gives_the_same_campaign(session, settings, db) -> None:  # type: ignore[no-untyped-def]
    async def load(settings: Settings) -> dict[str, list[tuple]]:
        async with session.begin_nested() as nested:
            await load_campaign(session, settings, db, today=TODAY)
            shown = await _snapshot(session)
            await nested.rollback()
        return shown

    first = await load(settings)
    assert len(first["visits"]) == 24 and len(first["cases"]) > 20 and len(first["notices"]) > 5
    assert await load(settings) == first
    # Without auto-dispatch the dispatcher dispatches the failures (20 minutes later: their deadlines move):
    # the same cases end the same way.
    manual = settings.model_copy(
        update={"workflow": settings.workflow.model_copy(update={"auto_dispatch": False})}
    )
    by_hand = await load(manual)
    assert (by_hand["visits"], by_hand["cases"]) == (first["visits"], first["cases"])
