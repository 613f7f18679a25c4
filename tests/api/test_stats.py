"""Assessment figures and the dashboard overview (app/stats) against a hand-computed set of cases.

Seven illegal-parking reports (09009, routed to the traffic brigade 交警) taken through the loop:
A closed on time; B resolved after its deadline, then closed; C reworked once, then closed on time;
D put on hold; E extended and still inside its limit; F overdue and in progress; H returned by the
brigade ("not ours", 回退) and then rejected by the dispatcher.
"""

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import update

from app.cases.models import Case
from tests.support.photos import jpeg_at
from tests.support.reports import file_report
from tests.support.workflow import act

AFTER = jpeg_at(35.5428, 106.6652)


async def _loop(client, world, session) -> dict[str, int]:  # type: ignore[no-untyped-def]
    ids = {}
    for name in "ABCDEFH":
        case = await file_report(client, world)
        assert case["status"] == "dispatched", case
        ids[name] = case["id"]

    async def ok(name: str, user: str, action: str, photo: bytes | None = None, **fields) -> None:  # type: ignore[no-untyped-def]
        r = await act(client, world, ids[name], user, action, photo=photo, **fields)
        assert r.status_code == 200, (name, action, r.text)

    async def overdue(name: str) -> None:
        past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
        await session.execute(
            update(Case)
            .where(Case.id == ids[name])
            .values(due_at=past, yellow_at=past - dt.timedelta(hours=1))
        )
        await session.commit()

    for name in "ABCDEF":
        await ok(name, "jiaojing", "accept")
    await ok("A", "jiaojing", "resolve", AFTER)
    await ok("A", "worker2", "verify")
    await overdue("B")
    await ok("B", "jiaojing", "resolve", AFTER)
    await ok("B", "worker2", "verify")
    await ok("C", "jiaojing", "resolve", AFTER)
    await ok("C", "worker2", "rework", AFTER, reason="车又停回来了")
    await ok("C", "jiaojing", "resolve", AFTER)
    await ok("C", "worker2", "verify")
    await ok("D", "jiaojing", "request_hold", reason="待道路改造")
    await ok("D", "dispatcher", "decide_hold", approve=True)
    await ok("E", "jiaojing", "request_extension", reason="需联系车主", hours=4)
    await ok("E", "dispatcher", "decide_extension", approve=True)
    await overdue("F")
    await ok("H", "jiaojing", "return", reason="不属交警管辖")
    await ok("H", "dispatcher", "reject", reason="重复上报")
    return ids


def _today() -> str:
    return dt.datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


async def _assess(client, world, user="supervisor", **params):  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/stats/assessment",
        params={"from": _today(), "to": _today(), **params},
        headers=world.headers(user),
    )
    assert r.status_code == 200, r.text
    return r.json()


def _fig(group, key):  # type: ignore[no-untyped-def]
    f = group["figures"][key]
    return f["numerator"], f["denominator"]


async def test_assessment_by_unit_matches_hand_computed_figures(client, world, session) -> None:  # type: ignore[no-untyped-def]
    await _loop(client, world, session)
    body = await _assess(client, world, group_by="unit")
    groups = {g["name"]: g for g in body["groups"]}
    brigade = groups["平凉市公安局交通警察支队崆峒大队"]
    counts = brigade["counts"]
    # A-F are the brigade's now; H went back to the dispatchers' queue (no unit).
    assert (counts["filed"], counts["registered"], counts["dispatched"]) == (6, 6, 6)
    # Due to close: A, B, C closed, F past its deadline; D is held and E still inside its limit.
    assert _fig(brigade, "closure_rate") == (3, 4)
    assert brigade["figures"]["closure_rate"]["value"] == 0.75
    assert _fig(brigade, "on_time_closure_rate") == (2, 4)  # B was resolved late
    assert _fig(brigade, "on_time_handling_rate") == (2, 4)  # A, C of A, B, C, F
    assert _fig(brigade, "rework_rate") == (1, 4)
    assert _fig(brigade, "extension_rate") == (1, 6) and _fig(brigade, "hold_rate") == (1, 6)
    assert _fig(brigade, "return_rate") == (1, 7)  # H's return counts against the brigade that returned it
    assert brigade["figures"]["average_handling_hours"]["denominator"] == 3
    assert brigade["by_state"] | {} == {
        "reported": 0,
        "registered": 0,
        "dispatched": 0,
        "in_progress": 2,
        "resolved": 0,
        "closed": 3,
        "rejected": 0,
        "on_hold": 1,
    }
    queue = next(g for g in body["groups"] if g["key"] is None)
    assert queue["name"] == "未派遣(调度队列)"
    assert (queue["counts"]["filed"], queue["counts"]["registered"], queue["by_state"]["rejected"]) == (
        1,
        0,
        1,
    )
    total = body["total"]
    assert (total["counts"]["filed"], total["counts"]["decided"], total["counts"]["registered"]) == (7, 7, 6)
    assert _fig(total, "registration_rate") == (6, 7)
    assert body["definitions"]["closure_rate"] == {
        "label_zh": "结案率",
        "label_en": "closure rate",
        "numerator": "closed",
        "denominator": "due_to_close",
    }


async def test_assessment_by_grid_worker_category_and_views(client, world, session) -> None:  # type: ignore[no-untyped-def]
    await _loop(client, world, session)
    streets = await _assess(client, world, group_by="grid", grid=world.cells["620802"])
    by_code = {g["key"]: g for g in streets["groups"]}
    assert {g["name"]: g["counts"]["filed"] for g in streets["groups"]} == {"中街街道": 7}
    assert str(world.cells["620802002"]) in by_code
    top = await _assess(client, world, group_by="grid")  # one district: grouped by its streets
    assert [(g["name"], g["counts"]["filed"]) for g in top["groups"]] == [("中街街道", 7)]
    east = await _assess(client, world, group_by="grid", grid=world.cells["620802001"])
    assert east["groups"] == [] and east["total"]["counts"]["filed"] == 0
    assert east["total"]["figures"]["closure_rate"]["value"] is None  # nothing due: no figure, no error
    workers = await _assess(client, world, group_by="worker")
    assert [g["counts"]["filed"] for g in workers["groups"]] == [7]
    categories = await _assess(client, world, group_by="category")
    assert [(g["key"], g["name"]) for g in categories["groups"]] == [("09009", "机动车乱停放")]
    # Each caller's figures cover only the cases they may see.
    assert (await _assess(client, world, user="jiaojing", group_by="unit"))["total"]["counts"]["filed"] == 7
    assert (await _assess(client, world, user="minzheng", group_by="unit"))["groups"] == []
    assert (await _assess(client, world, user="worker1", group_by="unit"))["groups"] == []
    # Another period holds none of them.
    old = await _assess(client, world, group_by="unit", **{"from": "2025-01-01", "to": "2025-01-31"})
    assert old["groups"] == []


async def test_assessment_refuses_bad_periods(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("supervisor")
    for params in (
        {"group_by": "unit", "from": "2026-12-01", "to": "2026-11-01"},
        {"group_by": "unit", "from": "yesterday"},
        {"group_by": "unit", "from": "2026-11-01T00:00:00"},  # no offset: ambiguous
        {"group_by": "unit", "from": "2020-01-01", "to": "2026-01-01"},
        {"group_by": "street"},
        {"group_by": "unit", "grid": 99999999},
        {"group_by": "unit", "unit": 1},
    ):
        r = await client.get("/api/v1/stats/assessment", params=params, headers=h)
        assert r.status_code == 422, (params, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.get("/api/v1/stats/assessment", params={"group_by": "unit"})
    assert r.status_code == 401


async def test_overview_counts_open_cases_today_and_veto_alerts(client, world, session) -> None:  # type: ignore[no-untyped-def]
    await _loop(client, world, session)
    veto = await file_report(client, world, "91001")
    r = await client.get("/api/v1/stats/overview", headers=world.headers("supervisor"))
    assert r.status_code == 200, r.text
    body = r.json()
    veto_status = veto["status"]
    assert body["open"] == 4
    assert body["open_by_state"]["in_progress"] == 2 and body["open_by_state"]["on_hold"] == 1
    assert body["open_by_state"][veto_status] == 1 + (veto_status == "in_progress") * 2
    assert body["open_by_light"]["red"] == 1  # F
    assert sum(body["open_by_light"].values()) == 4
    assert (body["new_today"], body["closed_today"]) == (8, 3)
    assert body["veto_alerts"]["open"] == 1
    assert body["veto_alerts"]["latest"][0]["case_id"] == veto["id"]
    assert (await client.get("/api/v1/stats/overview", headers=world.headers("worker1"))).json()["open"] == 0


async def test_stopping_the_clock_late_keeps_a_case_in_the_figures(client, world, session) -> None:  # type: ignore[no-untyped-def]
    """A case resolved after its deadline (not yet checked) and one put on hold after it stay due."""
    ids = []
    for _ in range(2):
        ids.append((await file_report(client, world))["id"])
        assert (await act(client, world, ids[-1], "jiaojing", "accept")).status_code == 200
    now = dt.datetime.now(dt.UTC)
    await session.execute(
        update(Case)
        .where(Case.id.in_(ids))
        .values(
            clock_started_at=now - dt.timedelta(days=10),
            due_at=now - dt.timedelta(hours=1),
            yellow_at=now - dt.timedelta(hours=2),
        )
    )
    await session.commit()
    late_resolved, late_held = ids
    assert (await act(client, world, late_resolved, "jiaojing", "resolve", AFTER)).status_code == 200
    assert (
        await act(client, world, late_held, "jiaojing", "request_hold", reason="待改造")
    ).status_code == 200
    assert (await act(client, world, late_held, "dispatcher", "decide_hold", approve=True)).status_code == 200
    body = await _assess(client, world, group_by="unit")
    brigade = next(g for g in body["groups"] if g["name"] == "平凉市公安局交通警察支队崆峒大队")
    assert brigade["by_state"]["resolved"] == 1 and brigade["by_state"]["on_hold"] == 1
    assert _fig(brigade, "closure_rate") == (0, 2)
    assert _fig(brigade, "on_time_handling_rate") == (0, 2)
    assert _fig(brigade, "hold_rate") == (1, 2)
