"""Visits from a phone: the list to work offline, a full visit with real photos whose failures become cases for
the right units (by duty, else ordinary routing), scores, retries, and every refusal keeping nothing."""

from pathlib import Path

import pytest
from sqlalchemy import text

from tests.support.campaign import (
    HEIC,
    IN_ZHONGJIE,
    IPHONE,
    MARKET,
    NO_GPS,
    NOKIA,
    add_point,
    all_compliant,
    import_real_checklists,
    make_round,
    open_round,
    submit,
    with_results,
)

JIAOJING, SHANGWU, FULIAN = "平凉市公安局交通警察支队崆峒大队", "区商务局", "市妇联"
TABLES = (
    "campaign_visits",
    "campaign_results",
    "campaign_visit_photos",
    "cases",
    "photos",
    "case_events",
    "idempotency_keys",
)


@pytest.fixture
async def field(client, world):  # type: ignore[no-untyped-def]
    """The real checklists; a market in 中街 with duties (its unit 区商务局, NM-12 to the traffic police) and a
    bus stop with none; an open mock round whose visits are worker2's."""
    await import_real_checklists(client, world)
    market = await add_point(
        client, world, "V-MARKET", geometry=MARKET, name="中山街农贸市场", address="中山街"
    )
    stop = await add_point(client, world, "V-STOP", "GJXL", name="1路 中山街站")
    duty = {"unit_id": world.units[SHANGWU], "items": {"NM-12": world.units[JIAOJING]}}
    r = await client.put(
        f"/api/v1/campaign/points/{market['id']}/duty", json=duty, headers=world.headers("supervisor")
    )
    assert r.status_code == 200, r.text
    round_ = await make_round(
        client, world, grid_id=world.cells["620802002"], points=[market["id"], stop["id"]]
    )
    await open_round(client, world, round_["id"])
    visits = {v["point"]["code"]: v["id"] for v in round_["visits"]}
    assert {v["inspector"]["username"] for v in round_["visits"]} == {"worker2"}
    return {"round": round_["id"], "market": visits["V-MARKET"], "stop": visits["V-STOP"], "point": market}


async def footprint(session, storage: Path) -> tuple:  # type: ignore[no-untyped-def]
    counts = {t: (await session.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES}
    statuses = (await session.execute(text("SELECT status FROM campaign_visits ORDER BY id"))).scalars().all()
    files = sorted(str(p) for p in storage.rglob("*") if p.is_file()) if storage.exists() else []
    return counts, list(statuses), files


async def test_a_phone_lists_its_visits_with_everything_to_work_offline(client, world, field) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/campaign/visits", params={"mine": "true"}, headers=world.headers("worker2"))
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [v["point"]["code"] for v in items] == ["V-MARKET", "V-STOP"]
    market = items[0]
    assert market["checklist"]["code"] == "NMSC" and len(market["checklist"]["items"]) == 15
    assert market["point"]["geometry"]["type"] == "Polygon" and market["point"]["grid"]["code"].startswith(
        "620802002"
    )
    assert market["round"]["status"] == "open" and market["status"] == "pending"
    others = (await client.get("/api/v1/campaign/visits", headers=world.headers("worker1"))).json()["items"]
    assert others == []  # worker1 has none: a worker sees only their own, mine or not
    r = await client.get(f"/api/v1/campaign/visits/{field['market']}", headers=world.headers("worker1"))
    assert r.status_code == 404
    all_of_them = (await client.get("/api/v1/campaign/visits", headers=world.headers("supervisor"))).json()[
        "items"
    ]
    assert len(all_of_them) == 2


async def test_a_full_visit_with_real_photos_opens_cases_for_the_right_units(
    client, world, field, app
) -> None:  # type: ignore[no-untyped-def]
    market = with_results(
        "NMSC",
        NM_12={"result": "noncompliant", "amount": 2, "note": "东门外两辆车占道", "photos": ["east.jpg"]},
        NM_05={"result": "noncompliant", "note": "摊主争吵", "photos": ["talk.heic"]},
        NM_01={"result": "noncompliant", "amount": 1, "note": "只有一处", "photos": ["east.jpg", "wall.jpg"]},
        NM_09={"result": "not_applicable"},
    )
    photos = [
        ("east.jpg", IPHONE.read_bytes()),
        ("talk.heic", HEIC.read_bytes()),
        ("wall.jpg", NOKIA.read_bytes()),
    ]
    visit = {"results": market, "lat": 35.5431, "lon": 106.6655, "observed_at": "2026-12-08T09:30:00+08:00"}
    r = await submit(client, world, "worker2", field["market"], visit, photos)
    assert r.status_code == 200, r.text
    shown = r.json()
    assert shown["status"] == "submitted"
    assert shown["score"] == {"numerator": 11.0, "denominator": 14.0, "value": 78.57}
    assert shown["compliance"] == {"numerator": 11.0, "denominator": 14.0, "value": 0.7857}
    assert shown["passed"] is False
    by_item = {c["item"]: c for c in shown["cases"]}
    assert {i: c["unit"]["name"] for i, c in by_item.items()} == {
        "NM-12": JIAOJING,
        "NM-05": SHANGWU,
        "NM-01": SHANGWU,
    }
    assert not any(c["repeat"] for c in shown["cases"])
    results = {x["item"]: x for x in shown["results"]}
    assert (
        results["NM-13"]["text"] == "无占道经营现象" and results["NM-12"]["case_id"] == by_item["NM-12"]["id"]
    )
    # The photos: one row per case that shows it (east.jpg on two cases), not flagged as reused within the visit.
    assert sorted(p["name"] for p in shown["photos"]) == ["east.jpg", "east.jpg", "talk.heic", "wall.jpg"]
    assert all("reused_photo" not in p["flags"] and "far_from_report" in p["flags"] for p in shown["photos"])
    h = world.headers("dispatcher")
    item_case = (await client.get(f"/api/v1/reports/{by_item['NM-12']['id']}", headers=h)).json()
    assert (item_case["source"], item_case["status"], item_case["category_code"]) == (
        "inspection",
        "dispatched",
        "09009",
    )
    assert item_case["routing"]["rule"] == "duty_item" and "NM-12" in item_case["routing"]["explanation"]
    assert item_case["inspection"] == {
        "round_id": field["round"],
        "visit_id": field["market"],
        "point": {"id": field["point"]["id"], "code": "V-MARKET", "name": "中山街农贸市场"},
        "item": {"code": "NM-12", "text": "无违章停车(机动车、非机动车)现象"},
        "repeats": 0,
    }
    assert (
        item_case["due_at"] and item_case["location_source"] == "client"
    )  # the photo was far: the point's place
    assert "东门外两辆车占道" in item_case["description"] and "中山街农贸市场" in item_case["description"]
    point_case = (await client.get(f"/api/v1/reports/{by_item['NM-05']['id']}", headers=h)).json()
    assert point_case["routing"]["rule"] == "duty_point" and SHANGWU in point_case["routing"]["explanation"]
    events = (await client.get(f"/api/v1/reports/{by_item['NM-05']['id']}/events", headers=h)).json()["items"]
    assert [e["action"] for e in events] == ["report", "register", "dispatch"]
    assert events[0]["actor"]["username"] == "worker2" and events[2]["actor"]["kind"] == "system"
    listed = (await client.get("/api/v1/reports", params={"round": field["round"]}, headers=h)).json()[
        "items"
    ]
    assert sorted(c["id"] for c in listed) == sorted(c["id"] for c in shown["cases"])
    # The bus stop has no duty: ordinary routing for the item's category where it is (中街's general unit).
    stop = with_results("GJXL", GJ_05={"result": "noncompliant", "note": "甩站", "photos": ["bus.jpg"]})
    r = await submit(
        client, world, "worker2", field["stop"], {"results": stop}, [("bus.jpg", NO_GPS.read_bytes())]
    )
    assert r.status_code == 200, r.text
    (ordinary,) = r.json()["cases"]
    case = (await client.get(f"/api/v1/reports/{ordinary['id']}", headers=h)).json()
    assert (case["routing"]["rule"], case["unit"]["name"]) == ("general", FULIAN)
    assert r.json()["score"]["value"] == pytest.approx(100 * 8 / 9, abs=0.01)
    await app.state.workshop.drain()


async def test_a_photo_near_the_point_places_the_case(client, world, field) -> None:  # type: ignore[no-untyped-def]
    from tests.support.photos import jpeg_at

    near = jpeg_at(35.54335, 106.66585)  # inside the market's outline, 100 m from its middle
    results = with_results("NMSC", NM_13={"result": "noncompliant", "note": "占道", "photos": ["n.jpg"]})
    r = await submit(client, world, "worker2", field["market"], {"results": results}, [("n.jpg", near)])
    (opened,) = r.json()["cases"]
    case = (await client.get(f"/api/v1/reports/{opened['id']}", headers=world.headers("supervisor"))).json()
    assert case["location_source"] == "exif" and abs(case["lat"] - 35.54335) < 1e-5
    assert case["photos"][0]["flags"] == [] and case["photos"][0]["distance_m"] == 0


async def test_an_unable_visit_keeps_its_reason_and_photo(client, world, field) -> None:  # type: ignore[no-untyped-def]
    r = await submit(
        client,
        world,
        "worker2",
        field["stop"],
        {"unable": True, "reason": "站台施工封闭"},
        [("closed.jpg", NO_GPS.read_bytes())],
    )
    assert r.status_code == 200, r.text
    shown = r.json()
    assert (shown["status"], shown["unable_reason"], shown["score"], shown["cases"]) == (
        "unable",
        "站台施工封闭",
        None,
        [],
    )
    (photo,) = shown["photos"]
    assert (photo["name"], photo["case_id"]) == ("closed.jpg", None)
    seen = await client.get(photo["url"], headers=world.headers("supervisor"))
    assert (
        seen.status_code == 200 and seen.content.startswith(b"\xff\xd8") and b"Exif" not in seen.content[:64]
    )
    small = await client.get(photo["url"], params={"size": "thumbnail"}, headers=world.headers("worker2"))
    assert small.status_code == 200 and len(small.content) < len(seen.content)
    again = await client.get(
        photo["url"], headers={**world.headers("worker2"), "If-None-Match": seen.headers["etag"]}
    )
    assert again.status_code == 304
    assert (
        await client.get(photo["url"], headers=world.headers("worker1"))
    ).status_code == 404  # not their visit
    assert (
        await client.get(f"/api/v1/photos/{photo['id']}", headers=world.headers("supervisor"))
    ).status_code == 404
    other = f"/api/v1/campaign/visits/{field['market']}/photos/{photo['id']}"
    assert (
        await client.get(other, headers=world.headers("supervisor"))
    ).status_code == 404  # not that visit's
    r = await submit(client, world, "worker2", field["market"], {"unable": True}, [])
    assert {e["type"] for e in r.json()["errors"]} == {"missing", "photo_count"}


async def test_a_retry_gets_the_first_answer_and_opens_nothing_more(client, world, field, session) -> None:  # type: ignore[no-untyped-def]
    results = with_results("NMSC", NM_13={"result": "noncompliant", "note": "占道", "photos": ["a.jpg"]})
    photos = [("a.jpg", IPHONE.read_bytes())]
    key = {"Idempotency-Key": "visit-market-1"}
    first = await submit(client, world, "worker2", field["market"], {"results": results}, photos, key)
    assert first.status_code == 200 and "idempotent-replayed" not in first.headers
    cases = text("SELECT count(*) FROM cases")
    before = (await session.execute(cases)).scalar_one()
    again = await submit(client, world, "worker2", field["market"], {"results": results}, photos, key)
    assert again.status_code == 200 and again.headers["idempotent-replayed"] == "true"
    assert again.json() == first.json() and (await session.execute(cases)).scalar_one() == before
    other = with_results("NMSC", NM_13={"result": "noncompliant", "note": "另一处", "photos": ["a.jpg"]})
    r = await submit(client, world, "worker2", field["market"], {"results": other}, photos, key)
    assert (r.status_code, r.json()["code"]) == (409, "idempotency_key_reused")
    r = await submit(client, world, "worker2", field["market"], {"results": results}, photos)
    assert (r.status_code, r.json()["code"]) == (409, "visit_not_open")


def _refusals(field: dict) -> list:  # type: ignore[type-arg]
    """(name, user, visit id, the visit part, photos, status, code, the error type or None)."""
    photo = [("p.jpg", IPHONE.read_bytes())]
    fail = {"result": "noncompliant", "note": "x", "photos": ["p.jpg"]}
    market = field["market"]
    missing = all_compliant("NMSC")[:-1]
    twice = [*all_compliant("NMSC"), {"item": "NM-03", "result": "compliant"}]
    unknown = [*all_compliant("NMSC"), {"item": "GJ-05", "result": "compliant"}]
    return [
        ("missing", "worker2", market, {"results": missing}, [], 422, "validation_error", "missing_item"),
        (
            "answered twice",
            "worker2",
            market,
            {"results": twice},
            [],
            422,
            "validation_error",
            "duplicate_item",
        ),
        (
            "unknown item",
            "worker2",
            market,
            {"results": unknown},
            [],
            422,
            "validation_error",
            "unknown_item",
        ),
        (
            "failure without its photo",
            "worker2",
            market,
            {
                "results": with_results("NMSC", NM_13={"result": "noncompliant", "note": "x"}),
                "observed_at": None,
            },
            photo[:0],
            422,
            "validation_error",
            "photo_required",
        ),
        (
            "count on a compliant yes/no answer",
            "worker2",
            market,
            {"results": with_results("NMSC", NM_13={"result": "compliant", "amount": 1}, NM_12=fail)},
            photo,
            422,
            "validation_error",
            "amount_not_allowed",
        ),
        (
            "count on a not-applicable yes/no answer",
            "worker2",
            market,
            {"results": with_results("NMSC", NM_13={"result": "not_applicable", "amount": 0}, NM_12=fail)},
            photo,
            422,
            "validation_error",
            "amount_not_allowed",
        ),
        (
            "a count item without its count",
            "worker2",
            market,
            {"results": with_results("NMSC", NM_01={"result": "compliant"}, NM_12=fail)},
            photo,
            422,
            "validation_error",
            "amount_required",
        ),
        (
            "a photo no result names",
            "worker2",
            market,
            {"results": all_compliant("NMSC")},
            photo,
            422,
            "validation_error",
            "unreferenced_photo",
        ),
        (
            "not theirs",
            "worker1",
            market,
            {"results": with_results("NMSC", NM_12=fail)},
            photo,
            404,
            "not_found",
            None,
        ),
        (
            "not an inspector",
            "jiaojing",
            market,
            {"results": all_compliant("NMSC")},
            [],
            403,
            "forbidden",
            None,
        ),
    ]


async def test_every_refusal_keeps_nothing(client, world, field, session, settings, app) -> None:  # type: ignore[no-untyped-def]
    storage = Path(settings.storage.storage_dir)
    for name, user, visit_id, visit, photos, status, code, kind in _refusals(field):
        before = await footprint(session, storage)
        r = await submit(client, world, user, visit_id, visit, photos)
        assert (r.status_code, r.json()["code"]) == (status, code), (name, r.text)
        if kind is not None:
            types = [e["type"] for e in r.json()["errors"]]
            assert kind in types, (name, r.json()["errors"])
            assert all(e.get("item") or e["loc"][0] == "photos" for e in r.json()["errors"]), (
                name
            )  # names the item
        await app.state.workshop.drain()
        assert await footprint(session, storage) == before, name
    # Not open: the round in draft, and a visit submitted already (after real photos were read).
    draft = await make_round(client, world, grid_id=world.cells["620802002"], points=[field["point"]["id"]])
    visit = {
        "results": with_results("NMSC", NM_12={"result": "noncompliant", "photos": ["p.jpg"], "note": "x"})
    }
    photo = [("p.jpg", NOKIA.read_bytes())]
    before = await footprint(session, storage)
    r = await submit(client, world, "worker2", draft["visits"][0]["id"], visit, photo)
    assert (r.status_code, r.json()["code"]) == (409, "visit_not_open")
    assert await footprint(session, storage) == before
    assert (await submit(client, world, "worker2", field["market"], visit, photo)).status_code == 200
    await app.state.workshop.drain()
    before = await footprint(session, storage)
    r = await submit(client, world, "worker2", field["market"], visit, photo)
    assert (r.status_code, r.json()["code"]) == (409, "visit_not_open")
    await app.state.workshop.drain()
    assert await footprint(session, storage) == before


async def test_a_count_must_agree_with_the_answer(client, world, field) -> None:  # type: ignore[no-untyped-def]
    contradiction = with_results("NMSC", NM_02={"result": "compliant", "amount": 3})  # at least 5 asked
    r = await submit(client, world, "worker2", field["market"], {"results": contradiction})
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert (error["type"], error["item"], error["loc"]) == (
        "result_mismatch",
        "NM-02",
        ["visit", "results", 1, "result"],
    )
    near = IN_ZHONGJIE
    r = await client.post(
        f"/api/v1/campaign/visits/{field['market']}/submit",
        json={"results": all_compliant("NMSC"), "lat": near[0], "lon": near[1]},
        headers=world.headers("worker2"),
    )
    assert r.status_code == 200 and r.json()["score"]["value"] == 100.0 and r.json()["passed"] is True


async def test_a_photo_no_case_shows_survives_the_orphan_sweep(client, world, field, app) -> None:  # type: ignore[no-untyped-def]
    """An unable visit's photo is on no case; its photos row keeps its files from `sweep-orphans`."""
    from app.photos.storage import key_for
    from app.photos.sweeper import sweep_orphans

    data = NO_GPS.read_bytes()
    r = await submit(
        client, world, "worker2", field["stop"], {"unable": True, "reason": "封闭"}, [("c.jpg", data)]
    )
    assert r.status_code == 200, r.text
    await app.state.workshop.drain()
    storage = app.state.workshop.storage
    report = await sweep_orphans(storage, app.state.db, older_than=0)
    assert report.orphans_swept == 0 and report.referenced >= 1
    assert storage.exists(key_for("originals", r.json()["photos"][0]["sha256"]))


async def test_a_failure_opens_its_case_even_when_its_category_was_retired(client, world, field) -> None:  # type: ignore[no-untyped-def]
    """The checklist names the category; retiring it from new reports does not refuse an inspector's visit."""
    r = await client.patch("/api/v1/categories/90001", json={"active": False}, headers=world.headers("admin"))
    assert r.status_code == 200, r.text
    stop = with_results("GJXL", GJ_09={"result": "noncompliant", "note": "拥挤", "photos": ["q.jpg"]})
    r = await submit(
        client, world, "worker2", field["stop"], {"results": stop}, [("q.jpg", NO_GPS.read_bytes())]
    )
    assert r.status_code == 200, r.text
    (case,) = r.json()["cases"]
    shown = (await client.get(f"/api/v1/reports/{case['id']}", headers=world.headers("supervisor"))).json()
    assert (shown["category_code"], shown["routing"]["rule"], shown["unit"]["name"]) == (
        "90001",
        "general",
        FULIAN,
    )
