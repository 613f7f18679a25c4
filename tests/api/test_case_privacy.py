"""What leaves the command centre, and who closes what (issue 15: items 4, 6, 8, 9, 12; issue 14: item 7).

Each test failed before its fix: a worker could close their own self-handled case; verify and self-handling
notes were published as Open311 status_notes; an API key read staff notes and usernames in the history; a
veto case became public when its category's flag was cleared; loading a year's calendar left running
deadlines counted on the old one; and anyone read every case through Open311 without a key.
"""

from __future__ import annotations

import datetime as dt

from tests.support.keys import new_api_key
from tests.support.photos import NO_GPS_JPEG, jpeg_at
from tests.support.reports import CENTRE, report_files
from tests.support.workflow import act

PARKING = {"category_code": "09009", "description": "机动车占用人行道", **CENTRE}
PHONE = "13800138000"


async def api_key(client, world) -> str:  # type: ignore[no-untyped-def]
    return (await new_api_key(client, world.headers("admin"), "市民随手拍"))["key"]


async def self_handled(client, world) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post(
        "/api/v1/reports",
        headers=world.headers("worker2"),
        files=report_files(
            {"category_code": "06010", "description": "路边垃圾", "self_handled": True, **CENTRE},
            [("before.jpg", NO_GPS_JPEG.read_bytes())],
        )
        + [("after_photos", ("after.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg"))],
    )
    assert r.status_code == 201 and r.json()["status"] == "resolved", r.text
    return r.json()


async def test_a_worker_never_closes_a_self_handled_case_the_command_centre_does(client, world) -> None:  # type: ignore[no-untyped-def]
    case = await self_handled(client, world)
    mine = await act(client, world, case["id"], "worker2", action="verify")
    assert (mine.status_code, mine.json()["code"]) == (403, "action_not_allowed")
    assert (await act(client, world, case["id"], "dispatcher", action="verify")).json()["status"] == "closed"


async def test_only_text_written_for_the_public_leaves_through_open311(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.open311_public_reads = "all"
    case = (await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))).json()
    await act(client, world, case["id"], "jiaojing", action="accept")
    await client.post(
        f"/api/v1/reports/{case['id']}/actions",
        headers=world.headers("jiaojing"),
        files=[
            ("action", (None, '{"action": "resolve"}', "application/json")),
            ("photos", ("a.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg")),
        ],
    )
    r = await act(
        client,
        world,
        case["id"],
        "worker2",
        action="verify",
        note=f"车主王先生 {PHONE} 已挪车",
        public_note="车辆已挪走，问题已解决",
    )
    assert r.status_code == 200
    handled = await self_handled(client, world)
    for case_id in (case["id"], handled["id"]):
        feed = (await client.get(f"/open311/v2/requests/{case_id}.json")).json()[0]
        assert PHONE not in str(feed) and "自处理" not in str(feed)
    published = (await client.get(f"/open311/v2/requests/{case['id']}.json")).json()[0]
    assert published["status_notes"] == "车辆已挪走，问题已解决"
    day = (dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    updates = (await client.get(f"/open311/v2/servicerequestupdates.json?start_date={day}")).json()
    assert updates and PHONE not in str(updates)


async def test_an_api_key_reads_what_open311_shows_of_the_history(client, world) -> None:  # type: ignore[no-untyped-def]
    key = await api_key(client, world)
    filed = await client.post(
        "/api/v1/reports", json={**PARKING, "description": "乱停车"}, headers={"X-API-Key": key}
    )
    case_id = filed.json()["id"]
    await act(client, world, case_id, "supervisor", action="urge", note=f"督办：联系 {PHONE}")
    history = (await client.get(f"/api/v1/reports/{case_id}/events", headers={"X-API-Key": key})).json()[
        "items"
    ]
    assert [e["action"] for e in history] == ["report", "register", "dispatch"]
    assert PHONE not in str(history)
    assert all(e["actor"]["username"] is None and e["note"] is None and e["data"] == {} for e in history)
    staff = (
        await client.get(f"/api/v1/reports/{case_id}/events", headers=world.headers("dispatcher"))
    ).json()
    assert "urge" in [e["action"] for e in staff["items"]]  # the command centre reads all of it


async def test_a_veto_case_stays_internal_when_its_category_changes(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    settings.open311_public_reads = "all"
    r = await client.post(
        "/api/v1/reports",
        json={"category_code": "91002", "description": "重大安全事故", **CENTRE},
        headers=world.headers("worker2"),
    )
    case_id = r.json()["id"]
    assert (await client.get(f"/open311/v2/requests/{case_id}.json")).status_code == 404
    r = await client.patch(
        "/api/v1/categories/91002",
        json={"veto": False, "priority": "high", "time_unit": "working_hours"},
        headers=world.headers("admin"),
    )
    assert r.status_code == 200, r.text
    assert (await client.get(f"/open311/v2/requests/{case_id}.json")).status_code == 404


async def test_open311_reads_are_a_setting_and_none_by_default(client, world, settings) -> None:  # type: ignore[no-untyped-def]
    key = await api_key(client, world)
    by_phone = (await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))).json()
    by_open311 = await client.post(
        "/open311/v2/requests.json",
        data={
            "api_key": key,
            "service_code": "06010",
            "lat": "35.5428",
            "long": "106.6652",
            "description": "垃圾",
            "attribute[amount]": "medium",
        },
    )
    assert by_open311.status_code == 200, by_open311.text
    open311_id = int(by_open311.json()[0]["service_request_id"])
    assert settings.open311_public_reads == "none"
    anonymous = await client.get("/open311/v2/requests.json")
    assert anonymous.status_code == 403 and "api_key" in anonymous.json()[0]["description"]
    assert (await client.get(f"/open311/v2/requests/{by_phone['id']}.json")).status_code == 403
    own = (await client.get(f"/open311/v2/requests.json?api_key={key}")).json()
    assert [r["service_request_id"] for r in own] == [str(open311_id)]  # a key reads what it filed
    settings.open311_public_reads = "open311"
    listed = {r["service_request_id"] for r in (await client.get("/open311/v2/requests.json")).json()}
    assert str(open311_id) in listed and str(by_phone["id"]) not in listed
    settings.open311_public_reads = "all"
    listed = {r["service_request_id"] for r in (await client.get("/open311/v2/requests.json")).json()}
    assert {str(open311_id), str(by_phone["id"])} <= listed


async def test_loading_a_year_retimes_running_deadlines(client, world) -> None:  # type: ignore[no-untyped-def]
    # A 40-working-day limit dispatched now runs into 2027, which the installed calendar does not know yet.
    r = await client.post(
        "/api/v1/categories",
        json={
            "code": "10099",
            "name_zh": "长期整治事项",
            "name_en": "Long rectification",
            "time_limit": 40,
            "time_unit": "working_days",
        },
        headers=world.headers("admin"),
    )
    assert r.status_code == 201, r.text
    case = (
        await client.post(
            "/api/v1/reports", json={"category_code": "10099", **CENTRE}, headers=world.headers("worker2")
        )
    ).json()
    assert case["status"] == "dispatched" and case["due_at"] > "2027-01"
    week = [{"date": f"2027-01-{d:02d}", "workday": False, "note": "测试假期"} for d in range(4, 9)]
    r = await client.put("/api/v1/calendar/2027", json={"days": week}, headers=world.headers("admin"))
    assert r.status_code == 200
    after = (await client.get(f"/api/v1/reports/{case['id']}", headers=world.headers("dispatcher"))).json()
    assert after["due_at"] > case["due_at"] and after["version"] > case["version"]
    moved = dt.datetime.fromisoformat(after["due_at"]) - dt.datetime.fromisoformat(case["due_at"])
    assert moved >= dt.timedelta(days=5)  # the five working days lost come after them
    history = (
        await client.get(f"/api/v1/reports/{case['id']}/events", headers=world.headers("dispatcher"))
    ).json()
    [retime] = [e for e in history["items"] if e["action"] == "retime"]
    assert (retime["actor"]["kind"], retime["data"]["due_at"]) == (
        "system",
        after["due_at"].replace("Z", "+00:00"),
    )
