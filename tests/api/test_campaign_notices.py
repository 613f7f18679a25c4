"""Rectification notices (整改通知): one per responsible unit when a round is published or on demand, signed off
(销号) exactly when the last of its cases is closed through the ordinary workflow, read by each unit for
itself only, and pushed to the unit's endpoints (``campaign.notice``, ``campaign.notice_signed_off``)."""

from __future__ import annotations

import json
from typing import Any

from app.notifications import worker
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
from tests.support.photos import jpeg_at
from tests.support.receivers import Receiver

JIAOJING = "平凉市公安局交通警察支队崆峒大队"
CHENGGUAN = "崆峒区城市管理综合执法局"
FAIL = {"result": "noncompliant", "note": "现场问题", "photos": ["p.jpg"]}
AFTER = jpeg_at(35.5431, 106.6655)


async def _market(client, world) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """The market: 城管 answers for it, 交警 for its parking item (NM-12)."""
    await import_real_checklists(client, world)
    market = await add_point(client, world, "N-MARKET", geometry=MARKET, name="中山街农贸市场")
    duty = {"unit_id": world.units[CHENGGUAN], "items": {"NM-12": world.units[JIAOJING]}}
    r = await client.put(
        f"/api/v1/campaign/points/{market['id']}/duty", json=duty, headers=world.headers("supervisor")
    )
    assert r.status_code == 200, r.text
    return market


async def _round_with_failures(
    client, world, point_id: int, **failed: dict[str, Any]
) -> tuple[int, dict[str, int]]:  # type: ignore[no-untyped-def]
    round_ = await make_round(client, world, grid_id=world.cells["620802002"], points=[point_id])
    await open_round(client, world, round_["id"])
    r = await submit(
        client,
        world,
        "worker2",
        round_["visits"][0]["id"],
        {"results": with_results("NMSC", **failed)},
        [("p.jpg", IPHONE.read_bytes())],
    )
    assert r.status_code == 200, r.text
    return round_["id"], {c["item"]: c["id"] for c in r.json()["cases"]}


async def _act(client, world, case_id: int, user: str, action: str, photo: bytes | None = None, **fields):  # type: ignore[no-untyped-def]
    files = [("action", (None, json.dumps({"action": action, **fields}), "application/json"))]
    if photo is not None:
        files.append(("photos", ("after.jpg", photo, "image/jpeg")))
    r = await client.post(f"/api/v1/reports/{case_id}/actions", files=files, headers=world.headers(user))
    assert r.status_code == 200, (action, r.text)
    return r.json()


async def _resolve(client, world, case_id: int, staff: str) -> None:  # type: ignore[no-untyped-def]
    await _act(client, world, case_id, staff, "accept")
    await _act(client, world, case_id, staff, "resolve", AFTER, note="已整改")


async def _publish(client, world, round_id: int) -> None:  # type: ignore[no-untyped-def]
    r = await client.post(
        f"/api/v1/campaign/rounds/{round_id}/actions",
        json={"action": "publish"},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text


async def _deliver(app, settings) -> int:  # type: ignore[no-untyped-def]
    async with worker.http_client(settings) as http:
        return await worker.deliver_once(app.state.db, settings, http, "test-worker")


async def _notices(client, world, user: str, **params: Any) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    r = await client.get("/api/v1/campaign/notices", params=params, headers=world.headers(user))
    assert r.status_code == 200, r.text
    items: list[dict[str, Any]] = r.json()["items"]
    return items


async def _notice(client, world, notice_id: int, user: str = "supervisor") -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(f"/api/v1/campaign/notices/{notice_id}", headers=world.headers(user))
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


async def test_a_notice_is_signed_off_exactly_when_its_last_case_closes(client, world, app, settings) -> None:  # type: ignore[no-untyped-def]
    settings.notify.notify_allow_networks = ["127.0.0.0/8"]
    market = await _market(client, world)
    async with Receiver([(200, {}, {})]) as hook:
        r = await client.post(
            "/api/v1/notifications/endpoints",
            json={
                "kind": "webhook",
                "unit_id": world.units[CHENGGUAN],
                "url": hook.url + "/grid",
                "events": ["campaign.notice", "campaign.notice_signed_off"],
            },
            headers=world.headers("admin"),
        )
        assert r.status_code == 201, r.text
        round_id, cases = await _round_with_failures(
            client, world, market["id"], NM_12=FAIL, NM_13=FAIL, NM_14=FAIL
        )
        assert await _notices(client, world, "supervisor", round=round_id) == []  # not published yet
        await _publish(client, world, round_id)
        assert await _deliver(app, settings) == 1

        both = await _notices(client, world, "supervisor", round=round_id)
        by_unit = {n["unit"]["name"]: n for n in both}
        assert set(by_unit) == {CHENGGUAN, JIAOJING}
        ours = by_unit[CHENGGUAN]
        assert ours["status"] == "open" and ours["progress"] == {"closed": 0, "total": 2}
        assert ours["round"]["id"] == round_id and ours["signed_off_at"] is None
        assert [(i["item"]["code"], i["point"]["code"]) for i in ours["items"]] == [
            ("NM-13", "N-MARKET"),
            ("NM-14", "N-MARKET"),
        ]
        assert {i["case_id"] for i in ours["items"]} == {cases["NM-13"], cases["NM-14"]}
        assert ours["due_at"] == max(i["due_at"] for i in ours["items"])
        assert all(i["case_status"] == "dispatched" and i["tracking_code"] for i in ours["items"])

        # One case closed, the other reworked (返工) then resolved: the notice stays open until both are closed.
        await _resolve(client, world, cases["NM-13"], "chengguan")
        await _act(client, world, cases["NM-13"], "supervisor", "verify")
        await _resolve(client, world, cases["NM-14"], "chengguan")
        await _act(client, world, cases["NM-14"], "worker2", "rework", AFTER, reason="仍有小广告")
        shown = await _notice(client, world, ours["id"])
        assert shown["status"] == "open" and shown["progress"] == {"closed": 1, "total": 2}
        await _act(client, world, cases["NM-14"], "chengguan", "resolve", AFTER, note="已清理")
        assert (await _notice(client, world, ours["id"]))["status"] == "open"  # resolved is not closed
        await _act(client, world, cases["NM-14"], "worker2", "verify", AFTER, note="复查通过")
        shown = await _notice(client, world, ours["id"])
        assert shown["status"] == "signed_off" and shown["signed_off_at"] is not None
        assert shown["progress"] == {"closed": 2, "total": 2}
        assert [i["case_status"] for i in shown["items"]] == ["closed", "closed"]
        # 交警's notice is untouched by 城管's cases.
        assert (await _notice(client, world, by_unit[JIAOJING]["id"]))["status"] == "open"
        assert await _notices(client, world, "dispatcher", status="signed_off") == [shown]

        # The unit heard both: the notice when it was issued, its sign-off when the last case closed.
        assert await _deliver(app, settings) == 1
        notices = [json.loads(got.body) for got in hook.received]
        assert [k["type"] for k in notices] == ["campaign.notice", "campaign.notice_signed_off"]
        issued, signed = (k["data"] for k in notices)
        assert issued["notice"]["id"] == ours["id"] and issued["unit"]["name"] == CHENGGUAN
        assert (
            issued["notice"]["progress"] == {"closed": 0, "total": 2} and issued["due_at"] == ours["due_at"]
        )
        assert issued["link"].endswith(f"/api/v1/campaign/notices/{ours['id']}")
        assert signed["notice"]["status"] == "signed_off" and signed["notice"]["progress"]["closed"] == 2
        assert "现场问题" not in str(notices)  # thin: never the failures' notes


async def test_units_read_only_their_own_notices(client, world) -> None:  # type: ignore[no-untyped-def]
    market = await _market(client, world)
    round_id, _ = await _round_with_failures(client, world, market["id"], NM_12=FAIL, NM_13=FAIL)
    await _publish(client, world, round_id)
    every = {n["unit"]["name"]: n["id"] for n in await _notices(client, world, "supervisor")}
    theirs = await _notices(client, world, "jiaojing")
    assert [n["id"] for n in theirs] == [every[JIAOJING]]
    assert await _notices(client, world, "jiaojing", unit=world.units[CHENGGUAN]) == []
    assert await _notices(client, world, "fulian") == []
    assert (await _notice(client, world, every[JIAOJING], "jiaojing"))["unit"]["name"] == JIAOJING
    other = await client.get(
        f"/api/v1/campaign/notices/{every[CHENGGUAN]}", headers=world.headers("jiaojing")
    )
    assert (other.status_code, other.json()["code"]) == (404, "not_found")
    assert (
        await client.get("/api/v1/campaign/notices/999999", headers=world.headers("jiaojing"))
    ).status_code == 404
    for path in ("/api/v1/campaign/notices", f"/api/v1/campaign/notices/{every[JIAOJING]}"):
        assert (await client.get(path, headers=world.headers("worker2"))).status_code == 403
    r = await client.get(
        "/api/v1/campaign/notices", params={"unit_id": 1}, headers=world.headers("supervisor")
    )
    assert (r.status_code, r.json()["code"]) == (422, "unsupported_filter")


async def test_issuing_on_demand_is_idempotent_and_adds_only_new_failures(client, world) -> None:  # type: ignore[no-untyped-def]
    market = await _market(client, world)
    second = await add_point(client, world, "N-MARKET-2", geometry=MARKET, name="东门市场")
    await client.put(
        f"/api/v1/campaign/points/{second['id']}/duty",
        json={"unit_id": world.units[CHENGGUAN], "items": {}},
        headers=world.headers("supervisor"),
    )
    round_ = await make_round(
        client, world, grid_id=world.cells["620802002"], points=[market["id"], second["id"]]
    )
    h = world.headers("supervisor")
    url = f"/api/v1/campaign/rounds/{round_['id']}/notices"
    draft = await client.post(url, headers=h)
    assert (draft.status_code, draft.json()["code"]) == (409, "round_not_open")
    await open_round(client, world, round_["id"])
    assert (await client.post(url, headers=h)).json()["items"] == []  # nothing failed yet
    visits = {v["point"]["id"]: v["id"] for v in round_["visits"]}
    r = await submit(
        client,
        world,
        "worker2",
        visits[market["id"]],
        {"results": with_results("NMSC", NM_13=FAIL)},
        [("p.jpg", IPHONE.read_bytes())],
    )
    assert r.status_code == 200, r.text
    first = (await client.post(url, headers=h)).json()["items"]
    assert [(n["unit"]["name"], n["progress"]["total"]) for n in first] == [(CHENGGUAN, 1)]
    again = (await client.post(url, headers=h)).json()["items"]
    assert again == first  # idempotent
    r = await submit(
        client,
        world,
        "worker2",
        visits[second["id"]],
        {"results": with_results("NMSC", NM_14=FAIL)},
        [("p.jpg", IPHONE.read_bytes())],
    )
    assert r.status_code == 200, r.text
    await _publish(client, world, round_["id"])  # publishing issues again: the new failure joins the notice
    (notice,) = await _notices(client, world, "supervisor", round=round_["id"])
    assert notice["id"] == first[0]["id"] and notice["progress"]["total"] == 2
    assert [i["point"]["code"] for i in notice["items"]] == ["N-MARKET", "N-MARKET-2"]
    assert (await client.post("/api/v1/campaign/rounds/999999/notices", headers=h)).status_code == 404
    assert (await client.post(url, headers=world.headers("dispatcher"))).status_code == 403


async def test_deleting_the_last_open_case_signs_the_notice_off(client, world) -> None:  # type: ignore[no-untyped-def]
    market = await _market(client, world)
    round_id, cases = await _round_with_failures(client, world, market["id"], NM_12=FAIL)
    await _publish(client, world, round_id)
    (notice,) = await _notices(client, world, "supervisor", round=round_id)
    assert notice["status"] == "open"
    r = await client.delete(
        f"/api/v1/reports/{cases['NM-12']}", params={"reason": "重复"}, headers=world.headers("admin")
    )
    assert r.status_code == 204, r.text
    shown = await _notice(client, world, notice["id"])
    assert shown["status"] == "signed_off" and shown["items"][0]["case_status"] == "deleted"


async def test_the_last_two_cases_closed_at_once_sign_the_notice_off(live_client, world) -> None:  # type: ignore[no-untyped-def]
    """On real connections that see each other's commits. Each closing counts the other's case as open until
    that one committed; the notice's row lock (app.campaign.notices.on_status_changed) makes the later one
    count after the earlier committed. The window is narrow, so this is a smoke test, not a proof."""
    import asyncio
    import uuid

    await import_real_checklists(live_client, world)
    point = await add_point(live_client, world, f"N-RACE-{uuid.uuid4().hex[:8]}", geometry=MARKET)
    r = await live_client.put(
        f"/api/v1/campaign/points/{point['id']}/duty",
        json={"unit_id": world.units[CHENGGUAN], "items": {}},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text
    round_id, cases = await _round_with_failures(live_client, world, point["id"], NM_13=FAIL, NM_14=FAIL)
    await _publish(live_client, world, round_id)
    for case_id in cases.values():
        await _resolve(live_client, world, case_id, "chengguan")
    await asyncio.gather(*(_act(live_client, world, c, "supervisor", "verify") for c in cases.values()))
    (notice,) = await _notices(live_client, world, "supervisor", round=round_id)
    assert notice["status"] == "signed_off" and notice["progress"] == {"closed": 2, "total": 2}


async def test_a_signed_off_notice_given_a_new_open_failure_is_open_again(client, world) -> None:  # type: ignore[no-untyped-def]
    market = await _market(client, world)
    second = await add_point(client, world, "N-MARKET-3", geometry=MARKET, name="西门市场")
    r = await client.put(
        f"/api/v1/campaign/points/{second['id']}/duty",
        json={"unit_id": world.units[CHENGGUAN], "items": {}},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text
    round_ = await make_round(
        client, world, grid_id=world.cells["620802002"], points=[market["id"], second["id"]]
    )
    await open_round(client, world, round_["id"])
    visits = {v["point"]["id"]: v["id"] for v in round_["visits"]}
    url, h = f"/api/v1/campaign/rounds/{round_['id']}/notices", world.headers("supervisor")
    photo = [("p.jpg", IPHONE.read_bytes())]
    r = await submit(
        client, world, "worker2", visits[market["id"]], {"results": with_results("NMSC", NM_13=FAIL)}, photo
    )
    (case,) = r.json()["cases"]
    (notice,) = (await client.post(url, headers=h)).json()["items"]
    await _resolve(client, world, case["id"], "chengguan")
    await _act(client, world, case["id"], "supervisor", "verify")
    assert (await _notice(client, world, notice["id"]))["status"] == "signed_off"
    r = await submit(
        client, world, "worker2", visits[second["id"]], {"results": with_results("NMSC", NM_14=FAIL)}, photo
    )
    assert r.status_code == 200, r.text
    (again,) = (await client.post(url, headers=h)).json()["items"]
    assert again["id"] == notice["id"] and again["status"] == "open" and again["signed_off_at"] is None
    assert again["progress"] == {"closed": 1, "total": 2}
