"""Regressions for a newcomer's run through the closed loop."""

import json

from tests.support.reports import CENTRE, NO_GPS_JPEG, jpeg_at, report_files


async def self_handled(client, world) -> int:  # type: ignore[no-untyped-def]
    files = report_files({"category_code": "06010", "self_handled": True, **CENTRE}, [("b.jpg", NO_GPS_JPEG.read_bytes())])
    files.append(("after_photos", ("a.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg")))
    r = await client.post("/api/v1/reports", headers=world.headers("worker2"), files=files)
    assert r.json()["status"] == "resolved"
    return r.json()["id"]


async def act(client, world, cid, user, **body):  # type: ignore[no-untyped-def]
    return await client.post(f"/api/v1/reports/{cid}/actions", json=body, headers=world.headers(user))


async def test_a_dispatcher_closes_a_self_handled_case(client, world) -> None:  # type: ignore[no-untyped-def]
    cid = await self_handled(client, world)
    r = await act(client, world, cid, "dispatcher", action="verify", note="已核实")
    assert (r.status_code, r.json()["status"]) == (200, "closed")
    normal = (await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE},
                                headers=world.headers("worker2"))).json()["id"]
    for user, action in (("jiaojing", "accept"),):
        await act(client, world, normal, user, action=action)
    files = [("action", (None, json.dumps({"action": "resolve"}), "application/json")),
             ("photos", ("p.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg"))]
    await client.post(f"/api/v1/reports/{normal}/actions", headers=world.headers("jiaojing"), files=files)
    r = await act(client, world, normal, "dispatcher", action="verify")
    assert r.status_code == 403  # an ordinary case is checked on site by its worker or a supervisor


async def test_a_failed_check_of_a_self_handled_case_goes_to_the_dispatchers(client, world) -> None:  # type: ignore[no-untyped-def]
    cid = await self_handled(client, world)
    r = await act(client, world, cid, "supervisor", action="rework", reason="还有垃圾")
    assert (r.status_code, r.json()["status"], r.json()["light"], r.json()["due_at"]) == (200, "registered", None, None)
    r = await act(client, world, cid, "dispatcher", action="dispatch", unit_id=world.units["崆峒区城市管理综合执法局"])
    assert (r.json()["status"], r.json()["light"]) == ("dispatched", "green")


async def test_types_and_blank_text_are_not_guessed(client, world) -> None:  # type: ignore[no-untyped-def]
    cid = (await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE},
                             headers=world.headers("worker2"))).json()["id"]
    for body in ({"action": "request_extension", "reason": "r", "hours": True},
                 {"action": "request_extension", "reason": "r", "hours": "720"},
                 {"action": "return", "reason": "   "}):
        r = await act(client, world, cid, "jiaojing", **body)
        assert r.status_code == 422, body
    assert (await act(client, world, cid, "jiaojing", action="request_extension", reason="r", hours=2)).status_code == 200
    r = await act(client, world, cid, "dispatcher", action="decide_extension", approve="off")
    assert r.status_code == 422


async def test_list_filters_it_does_not_know_are_refused_and_overdue_works(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/reports", params={"near": "1,2"}, headers=world.headers("dispatcher"))
    assert (r.status_code, r.json()["code"]) == (422, "unsupported_filter")
    await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE}, headers=world.headers("worker2"))
    overdue = await client.get("/api/v1/reports", params={"overdue": "true"}, headers=world.headers("dispatcher"))
    rest = await client.get("/api/v1/reports", params={"overdue": "false"}, headers=world.headers("dispatcher"))
    assert overdue.json()["items"] == [] and len(rest.json()["items"]) == 1
    r = await client.get("/api/v1/reports", params={"overdue": "banana"}, headers=world.headers("dispatcher"))
    assert r.status_code == 422


async def test_a_date_listed_twice_in_a_calendar_year_is_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    days = [{"date": "2031-01-01", "workday": False}, {"date": "2031-01-01", "workday": True}]
    r = await client.put("/api/v1/calendar/2031", json={"days": days}, headers=world.headers("admin"))
    assert r.status_code == 422 and r.json()["errors"][0]["type"] == "duplicate"
