"""The dispatcher's queue: what waits for a decision shows on the case and in the list (``pending``), and
deadlines stay visible on resolved, closed and held cases."""

from __future__ import annotations

import csv
import io

from tests.support.photos import jpeg_at
from tests.support.reports import CENTRE
from tests.support.workflow import act

PARKING = {"category_code": "09009", "description": "机动车占用人行道", **CENTRE}  # 交警 takes it in 中街


async def dispatched_case(client, world) -> dict:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", json=PARKING, headers=world.headers("worker2"))
    assert r.status_code == 201 and r.json()["status"] == "dispatched"
    return r.json()


async def queue(client, world, kind: str) -> list[int]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/reports?pending={kind}&limit=200", headers=world.headers("dispatcher"))
    assert r.status_code == 200, r.text
    return [i["id"] for i in r.json()["items"]]


async def test_an_extension_request_waits_on_the_case_and_in_the_queue(client, world) -> None:  # type: ignore[no-untyped-def]
    case = await dispatched_case(client, world)
    assert case["pending"] == []
    r = await act(
        client, world, case["id"], "jiaojing", action="request_extension", hours=4, reason="需协调车主"
    )
    assert r.status_code == 200
    [waiting] = r.json()["pending"]
    assert (waiting["kind"], waiting["hours"], waiting["reason"]) == ("extension", 4, "需协调车主")
    assert waiting["requested_by"]["username"] == "jiaojing"
    assert waiting["requested_by"]["unit"]["name"] == "平凉市公安局交通警察支队崆峒大队"
    assert waiting["requested_at"].endswith("Z")
    shown = (await client.get(f"/api/v1/reports/{case['id']}", headers=world.headers("dispatcher"))).json()
    assert shown["pending"] == r.json()["pending"]
    assert case["id"] in await queue(client, world, "extension")
    assert case["id"] not in await queue(client, world, "hold")
    item = next(
        i
        for i in (
            await client.get("/api/v1/reports?pending=extension", headers=world.headers("dispatcher"))
        ).json()["items"]
        if i["id"] == case["id"]
    )
    assert item["pending"] == shown["pending"]  # the dispatcher's screen is one query
    # A second request while the first waits is refused, not silently replacing it.
    again = await act(
        client, world, case["id"], "jiaojing", action="request_extension", hours=8, reason="再延"
    )
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert "已有延期申请在等待审批" in again.json()["detail"]  # zh-CN by default; en says "already waits"
    r = await act(client, world, case["id"], "dispatcher", action="decide_extension", approve=True)
    assert r.status_code == 200 and r.json()["pending"] == []
    assert case["id"] not in await queue(client, world, "extension")


async def test_a_hold_request_and_a_returned_case_wait_for_the_dispatcher(client, world) -> None:  # type: ignore[no-untyped-def]
    held = await dispatched_case(client, world)
    r = await act(client, world, held["id"], "jiaojing", action="request_hold", reason="待修缮资金")
    assert [(p["kind"], p["reason"]) for p in r.json()["pending"]] == [("hold", "待修缮资金")]
    assert held["id"] in await queue(client, world, "hold")
    returned = await dispatched_case(client, world)
    r = await act(client, world, returned["id"], "jiaojing", action="return", reason="该路段属城管管辖")
    assert r.status_code == 200 and r.json()["status"] == "registered"
    [waiting] = (
        await client.get(f"/api/v1/reports/{returned['id']}", headers=world.headers("dispatcher"))
    ).json()["pending"]
    assert (waiting["kind"], waiting["reason"], waiting["requested_by"]["username"]) == (
        "redispatch",
        "该路段属城管管辖",
        "jiaojing",
    )
    both = await queue(client, world, "hold&pending=redispatch")
    assert {held["id"], returned["id"]} <= set(both)
    r = await act(
        client,
        world,
        returned["id"],
        "dispatcher",
        action="dispatch",
        unit_id=world.units["崆峒区城市管理综合执法局"],
    )
    assert r.status_code == 200 and r.json()["pending"] == []


async def test_pending_cannot_be_synced(client, world) -> None:  # type: ignore[no-untyped-def]
    # A case leaves the queue without a change a delta sync would show as leaving it: refused like status.
    r = await client.get(
        "/api/v1/reports?pending=hold&updated_since=2026-01-01T00:00:00Z", headers=world.headers("dispatcher")
    )
    assert (r.status_code, r.json()["code"]) == (422, "unsupported_filter")


async def test_deadlines_stay_visible_once_resolved_closed_or_held(client, world) -> None:  # type: ignore[no-untyped-def]
    case = await dispatched_case(client, world)
    due = case["due_at"]
    assert due is not None and case["deadline_met"] is None and case["light"] == "green"
    await act(client, world, case["id"], "jiaojing", action="accept")
    r = await client.post(
        f"/api/v1/reports/{case['id']}/actions",
        headers=world.headers("jiaojing"),
        files=[
            ("action", (None, '{"action": "resolve"}', "application/json")),
            ("photos", ("after.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg")),
        ],
    )
    resolved = r.json()
    assert (resolved["status"], resolved["due_at"], resolved["deadline_met"], resolved["light"]) == (
        "resolved",
        due,
        True,
        None,
    )
    closed = (await act(client, world, case["id"], "worker2", action="verify")).json()
    assert (closed["status"], closed["due_at"], closed["deadline_met"]) == ("closed", due, True)
    export = await client.get(
        f"/api/v1/reports/export?format=csv&lang=en&q={case['tracking_code']}",
        headers=world.headers("dispatcher"),
    )
    [row] = list(csv.DictReader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert row["due at"] and row["resolved on time"] == "yes"

    held = await dispatched_case(client, world)
    await act(client, world, held["id"], "jiaojing", action="request_hold", reason="待修缮资金")
    r = await act(client, world, held["id"], "dispatcher", action="decide_hold", approve=True)
    shown = r.json()
    assert (shown["status"], shown["light"], shown["due_at"]) == ("on_hold", "paused", held["due_at"])
    assert 0 <= shown["limit_used"] < 0.8
    paused = await client.get("/api/v1/reports?light=paused&limit=200", headers=world.headers("dispatcher"))
    assert held["id"] in [i["id"] for i in paused.json()["items"]]
    green = await client.get("/api/v1/reports?light=green&limit=200", headers=world.headers("dispatcher"))
    assert held["id"] not in [i["id"] for i in green.json()["items"]]


async def test_a_self_handled_case_whose_check_failed_waits_for_a_dispatch(client, world) -> None:  # type: ignore[no-untyped-def]
    # Found by the demo's history: a reworked self-handled case has no unit to go back to, so it waits in the
    # dispatchers' queue like a returned one, and must show there.
    r = await client.post(
        "/api/v1/reports",
        headers=world.headers("worker2"),
        files=[
            (
                "report",
                (
                    None,
                    '{"category_code": "06010", "self_handled": true, "lat": 35.5428, "lon": 106.6652}',
                    "application/json",
                ),
            ),
            ("photos", ("before.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg")),
            ("after_photos", ("after.jpg", jpeg_at(35.5428, 106.6652), "image/jpeg")),
        ],
    )
    case = r.json()
    assert case["status"] == "resolved"
    r = await act(client, world, case["id"], "supervisor", action="rework", reason="仍有垃圾")
    assert r.json()["status"] == "registered"
    assert [(p["kind"], p["reason"]) for p in r.json()["pending"]] == [("redispatch", "仍有垃圾")]
    assert case["id"] in await queue(client, world, "redispatch")
