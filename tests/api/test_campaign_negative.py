"""The negative list (负面清单): deductions and vetoes against a unit or a street count only for rounds whose
period holds the event's local date; a veto case proposes an event that counts once a supervisor confirms
it."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text

from tests.support.campaign_scores import JIAOJING, SHANGWU, publish, scored_round
from tests.support.reports import file_report

EVENTS = "/api/v1/campaign/negative-events"
RULE = {"black_below": 80, "red_top": 1, "black_bottom": None, "min_points": 1}


async def _record(client, world, **fields: Any) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    body = {"code": "N", "text": "督查通报", "penalty": "deduct", **fields}
    if body["penalty"] == "deduct":
        body.setdefault("points", 1)
    r = await client.post(EVENTS, json=body, headers=world.headers("supervisor"))
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


async def _board(client, world, round_id: int, kind: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    r = await client.get(
        "/api/v1/campaign/boards",
        params={"round": round_id, "kind": kind},
        headers=world.headers("supervisor"),
    )
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def _entries(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {e["subject"]["name"]: e for e in board["ranking"] + board["unranked"]}


async def test_deductions_count_only_within_the_rounds_period(client, world) -> None:  # type: ignore[no-untyped-def]
    """The round runs 2026-12-07 to 2026-12-18, local dates (UTC+8)."""
    made = await scored_round(client, world, board=RULE)
    jiaojing, shangwu = world.units[JIAOJING], world.units[SHANGWU]
    await _record(client, world, unit_id=jiaojing, points=2, occurred_at="2026-12-08T02:00:00Z")
    await _record(
        client, world, unit_id=jiaojing, points=1.5, occurred_at="2026-12-06T16:30:00Z"
    )  # 12-07 00:30
    await _record(
        client, world, unit_id=jiaojing, points=5, occurred_at="2026-12-18T17:00:00Z"
    )  # 12-19 01:00
    await _record(client, world, unit_id=jiaojing, points=5, occurred_at="2026-11-30T02:00:00Z")
    await _record(
        client, world, grid_id=world.cells["620802001"], points=4, occurred_at="2026-12-10T02:00:00Z"
    )
    # a cell inside 东关 counts for 东关
    await _record(
        client, world, grid_id=world.cells["620802001001550"], points=1, occurred_at="2026-12-10T02:00:00Z"
    )
    await _record(client, world, unit_id=shangwu, penalty="veto", occurred_at="2026-12-19T02:00:00Z")  # after
    await publish(client, world, made["round"])
    units = _entries(await _board(client, world, made["round"], "unit"))
    assert (units[JIAOJING]["penalty"], units[JIAOJING]["score"]) == (3.5, 84.0)  # 87.5 - 2 - 1.5
    assert (units[SHANGWU]["penalty"], units[SHANGWU]["score"]) == (
        0.0,
        94.12,
    )  # its veto is after the period
    board = await _board(client, world, made["round"], "unit")
    assert [e["subject"]["name"] for e in board["red"]] == [SHANGWU] and board["black"] == []
    streets = _entries(await _board(client, world, made["round"], "grid"))
    dongguan = next(e for e in streets.values() if e["subject"]["id"] == world.cells["620802001"])
    assert (dongguan["penalty"], dongguan["score"]) == (5.0, round(94.12 - 5, 2))
    zhongjie = next(e for e in streets.values() if e["subject"]["id"] == world.cells["620802002"])
    assert zhongjie["penalty"] == 0.0


async def test_a_veto_puts_a_subject_on_the_black_board_whatever_its_score(client, world) -> None:  # type: ignore[no-untyped-def]
    made = await scored_round(client, world, board=RULE)
    await _record(
        client, world, unit_id=world.units[SHANGWU], penalty="veto", occurred_at="2026-12-09T02:00:00Z"
    )
    await publish(client, world, made["round"])
    board = await _board(client, world, made["round"], "unit")
    # 商务局 has the best score, 94.12, yet the veto puts it on black; red goes to nobody above it.
    black = {e["subject"]["name"]: e for e in board["black"]}
    assert set(black) == {SHANGWU}
    assert black[SHANGWU]["reason"] == "负面清单一票否决 / veto event" and black[SHANGWU]["score"] == 94.12
    assert board["red"] == []  # rank 1 is black; 交警 (87.5) is rank 2


async def test_a_veto_case_proposes_an_event_a_supervisor_confirms(client, world, session) -> None:  # type: ignore[no-untyped-def]
    case = await file_report(client, world, "91002", description="重大安全事故")
    listed = (
        await client.get(EVENTS, params={"status": "proposed"}, headers=world.headers("dispatcher"))
    ).json()
    (proposed,) = listed["items"]
    assert (proposed["case_id"], proposed["penalty"], proposed["status"]) == (case["id"], "veto", "proposed")
    assert proposed["code"] == "91002"
    routed = (
        await session.execute(
            text("SELECT routed_unit_id, unit_id, grid_id FROM cases WHERE id = :i"), {"i": case["id"]}
        )
    ).one()
    unit = routed.unit_id or routed.routed_unit_id
    assert (proposed["unit_id"], proposed["grid_id"]) == ((unit, None) if unit else (None, routed.grid_id))
    url = f"{EVENTS}/{proposed['id']}/actions"
    assert (
        await client.post(url, json={"action": "confirm"}, headers=world.headers("dispatcher"))
    ).status_code == 403
    r = await client.post(url, json={"action": "confirm"}, headers=world.headers("supervisor"))
    assert (r.status_code, r.json()["status"], r.json()["decided_at"] is not None) == (200, "confirmed", True)
    r = await client.post(url, json={"action": "reject"}, headers=world.headers("supervisor"))
    assert (r.status_code, r.json()["code"]) == (409, "invalid_transition")
    r = await client.post(
        f"{EVENTS}/99999/actions", json={"action": "reject"}, headers=world.headers("supervisor")
    )
    assert (r.status_code, r.json()["code"]) == (404, "not_found")
    # An ordinary case proposes nothing.
    await file_report(client, world)
    assert len((await client.get(EVENTS, headers=world.headers("supervisor"))).json()["items"]) == 1


async def test_a_proposed_or_rejected_event_does_not_count(client, world, session) -> None:  # type: ignore[no-untyped-def]
    made = await scored_round(client, world, board=RULE)
    case = await file_report(client, world, "91002", description="重大安全事故")
    # Point the proposal at 商务局 so it would change the board if it counted.
    await session.execute(
        text("UPDATE campaign_negative_events SET unit_id = :u, grid_id = NULL WHERE case_id = :c"),
        {"u": world.units[SHANGWU], "c": case["id"]},
    )
    await session.commit()
    await publish(client, world, made["round"])
    board = await _board(client, world, made["round"], "unit")
    assert board["black"] == [] and [e["subject"]["name"] for e in board["red"]] == [SHANGWU]


async def test_bad_events_are_refused(client, world) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("supervisor")
    base = {"code": "N", "text": "t", "occurred_at": "2026-12-08T02:00:00Z", "penalty": "deduct", "points": 1}
    for body, code in (
        ({**base, "unit_id": world.units[JIAOJING], "grid_id": world.cells["620802001"]}, "validation_error"),
        (base, "validation_error"),
        ({**base, "unit_id": world.units[JIAOJING], "points": 0}, "validation_error"),
        ({**base, "unit_id": 99999}, "unknown_unit"),
        ({**base, "grid_id": 99999}, "unknown_cell"),
        ({**base, "unit_id": world.units[JIAOJING], "penalty": "fine"}, "validation_error"),
        # A newcomer's: a veto with points was kept as 0, a blank text was kept.
        ({**base, "unit_id": world.units[JIAOJING], "penalty": "veto", "points": 3}, "validation_error"),
        ({**base, "unit_id": world.units[JIAOJING], "text": "   "}, "validation_error"),
    ):
        r = await client.post(EVENTS, json=body, headers=h)
        assert (r.status_code, r.json()["code"]) == (422, code), (body, r.text)
    assert (await client.get(EVENTS, headers=h)).json()["items"] == []
    r = await client.post(
        EVENTS, json={**base, "unit_id": world.units[JIAOJING]}, headers=world.headers("dispatcher")
    )
    assert r.status_code == 403
