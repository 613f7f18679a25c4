"""Failures after they became cases: the repeat rule (多次整改), the re-inspection (复查) through the ordinary
workflow by the round's inspectors, and unit staff seeing only their own unit's."""

import json

from tests.support.campaign import (
    IPHONE,
    MARKET,
    NO_GPS,
    add_point,
    import_real_checklists,
    make_round,
    open_round,
    submit,
    with_results,
)
from tests.support.photos import jpeg_at

JIAOJING = "平凉市公安局交通警察支队崆峒大队"


async def _market(client, world) -> dict:  # type: ignore[no-untyped-def,type-arg]
    await import_real_checklists(client, world)
    market = await add_point(client, world, "R-MARKET", geometry=MARKET, name="中山街农贸市场")
    duty = {"unit_id": world.units["区商务局"], "items": {"NM-12": world.units[JIAOJING]}}
    await client.put(
        f"/api/v1/campaign/points/{market['id']}/duty", json=duty, headers=world.headers("supervisor")
    )
    return market


async def _visit(client, world, point_id: int, kind: str = "patrol") -> int:  # type: ignore[no-untyped-def]
    round_ = await make_round(client, world, kind=kind, grid_id=world.cells["620802002"], points=[point_id])
    await open_round(client, world, round_["id"])
    return int(round_["visits"][0]["id"])


PARKING = {"result": "noncompliant", "amount": 1, "note": "门口违停", "photos": ["car.jpg"]}


async def test_a_failure_again_while_its_case_is_open_adds_to_that_case(client, world) -> None:  # type: ignore[no-untyped-def]
    market = await _market(client, world)
    first = await submit(
        client,
        world,
        "worker2",
        await _visit(client, world, market["id"]),
        {"results": with_results("NMSC", NM_12=PARKING)},
        [("car.jpg", IPHONE.read_bytes())],
    )
    (case,) = first.json()["cases"]
    second = await submit(
        client,
        world,
        "worker2",
        await _visit(client, world, market["id"], "supervision"),
        {
            "results": with_results(
                "NMSC",
                NM_12={**PARKING, "note": "又有违停"},
                NM_13={"result": "noncompliant", "note": "占道", "photos": ["car.jpg"]},
            )
        },
        [("car.jpg", NO_GPS.read_bytes())],
    )
    assert second.status_code == 200, second.text
    again = {c["item"]: c for c in second.json()["cases"]}
    assert again["NM-12"]["id"] == case["id"] and again["NM-12"]["repeat"] is True
    assert again["NM-13"]["id"] != case["id"] and again["NM-13"]["repeat"] is False
    h = world.headers("dispatcher")
    shown = (await client.get(f"/api/v1/reports/{case['id']}", headers=h)).json()
    assert shown["inspection"]["repeats"] == 1 and shown["inspection"]["visit_id"] != again["NM-13"]["id"]
    assert len(shown["photos"]) == 2  # the first visit's photo and the repeat's
    events = (await client.get(f"/api/v1/reports/{case['id']}/events", headers=h)).json()["items"]
    repeat = events[-1]
    assert (repeat["action"], repeat["from_status"], repeat["to_status"]) == (
        "repeat",
        "dispatched",
        "dispatched",
    )
    assert "又有违停" in repeat["note"] and len(repeat["photos"]) == 1
    listed = (await client.get("/api/v1/reports", params={"source": "inspection"}, headers=h)).json()["items"]
    assert len(listed) == 2
    # Once the case is closed, the next failure of the item opens a new one.
    await _close(client, world, case["id"])
    third = await submit(
        client,
        world,
        "worker2",
        await _visit(client, world, market["id"], "recheck"),
        {"results": with_results("NMSC", NM_12=PARKING)},
        [("car.jpg", IPHONE.read_bytes())],
    )
    (new,) = third.json()["cases"]
    assert new["id"] != case["id"] and new["repeat"] is False


async def _act(client, world, case_id: int, user: str, action: str, photo: bytes | None = None, **fields):  # type: ignore[no-untyped-def]
    body = json.dumps({"action": action, **fields})
    files = [("action", (None, body, "application/json"))]
    if photo is not None:
        files.append(("photos", ("p.jpg", photo, "image/jpeg")))
    return await client.post(f"/api/v1/reports/{case_id}/actions", files=files, headers=world.headers(user))


async def _close(client, world, case_id: int) -> None:  # type: ignore[no-untyped-def]
    after = jpeg_at(35.5431, 106.6655)
    for user, action, photo, fields in (
        ("jiaojing", "accept", None, {}),
        ("jiaojing", "resolve", after, {"note": "已劝离"}),
        ("supervisor", "verify", None, {"note": "复查通过"}),
    ):
        r = await _act(client, world, case_id, user, action, photo, **fields)
        assert r.status_code == 200, (action, r.text)


async def test_the_rounds_inspectors_reinspect_through_the_workflow(client, world) -> None:  # type: ignore[no-untyped-def]
    market = await _market(client, world)
    r = await submit(
        client,
        world,
        "worker2",
        await _visit(client, world, market["id"]),
        {"results": with_results("NMSC", NM_12=PARKING)},
        [("car.jpg", IPHONE.read_bytes())],
    )
    (case,) = r.json()["cases"]
    after = jpeg_at(35.5431, 106.6655)
    assert (await _act(client, world, case["id"], "jiaojing", "accept")).status_code == 200
    assert (
        await _act(client, world, case["id"], "jiaojing", "resolve", after, note="车已挪走")
    ).status_code == 200
    # worker1 patrols 东关, not the market's cell, and is no inspector of this round: the case is not theirs.
    assert (await _act(client, world, case["id"], "worker1", "verify")).status_code == 404
    r = await _act(client, world, case["id"], "worker2", "rework", after, reason="复查仍有违停")
    assert (r.status_code, r.json()["status"]) == (200, "in_progress"), r.text
    assert (
        await _act(client, world, case["id"], "jiaojing", "resolve", after, note="已设隔离桩")
    ).status_code == 200
    r = await _act(client, world, case["id"], "worker2", "verify", after, note="复查通过，销号")
    assert (r.status_code, r.json()["status"]) == (200, "closed"), r.text
    events = (
        await client.get(f"/api/v1/reports/{case['id']}/events", headers=world.headers("worker2"))
    ).json()["items"]
    assert [e["action"] for e in events] == [
        "report",
        "register",
        "dispatch",
        "accept",
        "resolve",
        "rework",
        "resolve",
        "verify",
    ]
    assert [p["stage"] for p in events[-1]["photos"]] == ["check"]


async def test_an_inspector_of_another_round_does_not_reinspect(client, world, session) -> None:  # type: ignore[no-untyped-def]
    """The on-site check of an inspection case is its round's inspectors', not every worker of the cell."""
    from sqlalchemy import text

    market = await _market(client, world)
    visit_id = await _visit(client, world, market["id"])
    r = await submit(
        client,
        world,
        "worker2",
        visit_id,
        {"results": with_results("NMSC", NM_12=PARKING)},
        [("car.jpg", IPHONE.read_bytes())],
    )
    (case,) = r.json()["cases"]
    await _act(client, world, case["id"], "jiaojing", "accept")
    await _act(client, world, case["id"], "jiaojing", "resolve", jpeg_at(35.5431, 106.6655))
    # Hand the round's visit to the supervisor: worker2 (who still sees the case, having filed it) no longer
    # inspects this round.
    await session.execute(
        text("UPDATE campaign_visits SET inspector_id = :s WHERE id = :v"),
        {"s": world.users["supervisor"][0], "v": visit_id},
    )
    await session.commit()
    r = await _act(client, world, case["id"], "worker2", "verify")
    assert (r.status_code, r.json()["code"]) == (403, "action_not_allowed")


async def test_unit_staff_see_their_units_inspection_cases_only(client, world) -> None:  # type: ignore[no-untyped-def]
    market = await _market(client, world)
    r = await submit(
        client,
        world,
        "worker2",
        await _visit(client, world, market["id"]),
        {
            "results": with_results(
                "NMSC", NM_12=PARKING, NM_13={"result": "noncompliant", "note": "占道", "photos": ["car.jpg"]}
            )
        },
        [("car.jpg", IPHONE.read_bytes())],
    )
    cases = {c["item"]: c for c in r.json()["cases"]}
    parking, stalls = cases["NM-12"], cases["NM-13"]
    assert parking["unit"]["name"] == JIAOJING and stalls["unit"]["name"] == "区商务局"
    theirs = world.headers("jiaojing")
    assert (await client.get(f"/api/v1/reports/{parking['id']}", headers=theirs)).status_code == 200
    for url in (f"/api/v1/reports/{stalls['id']}", f"/api/v1/reports/{stalls['id']}/events"):
        assert (await client.get(url, headers=theirs)).status_code == 404
    listed = (await client.get("/api/v1/reports", params={"source": "inspection"}, headers=theirs)).json()[
        "items"
    ]
    assert [c["id"] for c in listed] == [parking["id"]]
    for path in ("/api/v1/campaign/visits", "/api/v1/campaign/points", "/api/v1/campaign/rounds"):
        assert (await client.get(path, headers=theirs)).status_code == 403
