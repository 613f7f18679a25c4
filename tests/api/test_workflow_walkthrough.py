"""The closed loop end to end over HTTP (issue 4's walk-through), and its refusals."""

import json

from tests.support.reports import CENTRE, NO_GPS_JPEG, jpeg_at, report_files


async def act(client, world, case_id: int, user: str, action: str, photo: bytes | None = None, **fields):  # type: ignore[no-untyped-def]
    body = {"action": action, **fields}
    url = f"/api/v1/reports/{case_id}/actions"
    headers = world.headers(user)
    if photo is None:
        return await client.post(url, json=body, headers=headers)
    return await client.post(url, headers=headers, files=[("action", (None, json.dumps(body), "application/json")),
                                                          ("photos", ("p.jpg", photo, "image/jpeg"))])


async def test_the_walk_through(client, world) -> None:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/reports", headers=world.headers("worker2"), files=report_files(
        {"category_code": "09009", "description": "机动车占用人行道", **CENTRE}, [("before.jpg", NO_GPS_JPEG.read_bytes())]))
    case = r.json()
    cid = case["id"]
    assert (case["status"], case["unit"]["name"]) == ("dispatched", "平凉市公安局交通警察支队崆峒大队")
    steps = [
        ("jiaojing", "return", {"reason": "该路段属城管管辖"}, "registered"),
        ("dispatcher", "dispatch", {"unit_id": world.units["崆峒区城市管理综合执法局"], "note": "改派城管"}, "dispatched"),
        ("chengguan", "accept", {}, "in_progress"),
        ("chengguan", "request_extension", {"reason": "需协调车主", "hours": 4}, "in_progress"),
        ("dispatcher", "decide_extension", {"approve": True}, "in_progress"),
    ]
    due_before_extension = None
    for user, action, fields, status in steps:
        r = await act(client, world, cid, user, action, **fields)
        assert r.status_code == 200, (action, r.text)
        assert r.json()["status"] == status, action
        if action == "request_extension":
            due_before_extension = r.json()["due_at"]
    assert r.json()["due_at"] > due_before_extension  # the approved extension moved the deadline
    after = jpeg_at(35.5428, 106.6652)
    r = await act(client, world, cid, "chengguan", "resolve", photo=after, note="车辆已拖离")
    assert r.json()["status"] == "resolved" and r.json()["light"] is None
    r = await act(client, world, cid, "worker2", "rework", reason="车辆又回来了", photo=after)
    assert r.json()["status"] == "in_progress"
    r = await act(client, world, cid, "chengguan", "resolve", photo=after)
    assert r.json()["status"] == "resolved"
    r = await act(client, world, cid, "worker2", "verify", note="核查通过", photo=after)
    assert r.json()["status"] == "closed"
    history = (await client.get(f"/api/v1/reports/{cid}/events", headers=world.headers("worker2"))).json()["items"]
    assert [e["action"] for e in history] == [
        "report", "register", "dispatch", "return", "dispatch", "accept", "request_extension", "decide_extension",
        "resolve", "rework", "resolve", "verify"]
    assert [e["to_status"] for e in history][-1] == "closed"
    assert history[3]["actor"]["username"] == "jiaojing" and history[3]["reason"] == "该路段属城管管辖"
    assert [p["stage"] for p in history[8]["photos"]] == ["resolution"]
    assert history[1]["actor"]["kind"] == "system"


async def test_refusals_name_the_state_and_what_is_allowed(client, world) -> None:  # type: ignore[no-untyped-def]
    case = (await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE},
                              headers=world.headers("worker2"))).json()
    cid = case["id"]
    r = await act(client, world, cid, "jiaojing", "resolve")
    assert r.status_code == 409 and r.json()["code"] == "invalid_transition"
    assert r.json()["current_status"] == "dispatched" and "accept" in r.json()["allowed_actions"]
    r = await act(client, world, cid, "worker2", "accept")
    assert (r.status_code, r.json()["code"]) == (403, "action_not_allowed")
    r = await act(client, world, cid, "jiaojing", "return")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "reason"
    r = await act(client, world, cid, "minzheng", "accept")
    assert r.status_code == 404  # not their case
    r = await client.post(f"/api/v1/reports/{cid}/actions", json={"action": "accept"},
                          headers={**world.headers("jiaojing"), "If-Match": '"case-1-v999"'})
    assert (r.status_code, r.json()["code"]) == (412, "version_conflict")
    etag = (await client.get(f"/api/v1/reports/{cid}", headers=world.headers("jiaojing"))).headers["etag"]
    r = await client.post(f"/api/v1/reports/{cid}/actions", json={"action": "accept"},
                          headers={**world.headers("jiaojing"), "If-Match": etag})
    assert r.status_code == 200 and r.headers["etag"] != etag
    r = await act(client, world, cid, "jiaojing", "resolve")
    assert (r.status_code, r.json()["code"]) == (422, "after_photo_required")
