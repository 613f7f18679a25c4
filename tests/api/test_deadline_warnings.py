"""Deadline warnings (issue 16): once each per deadline, at the working-time instant the light turns, with a
frozen clock (the sweep is given its instant), never twice however many sweeps run."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from app.cases.models import Case
from app.deadlines.cache import calendar_for
from app.notifications import deadlines
from app.notifications.models import DeadlineNotice, Delivery, Event
from tests.support.reports import CENTRE

JIAOJING = "平凉市公安局交通警察支队崆峒大队"
SECOND = dt.timedelta(seconds=1)


async def events(session, case_id: int) -> list[tuple[str, int]]:  # type: ignore[no-untyped-def]
    rows = await session.execute(
        select(Event.type, Delivery.endpoint_id)
        .join(Delivery, Delivery.event_id == Event.id)
        .where(Event.case_id == case_id, Event.type.in_(("case.deadline_warning", "case.overdue")))
        .order_by(Event.id, Delivery.endpoint_id)
    )
    return [(t, e) for t, e in rows.all()]


async def test_a_warning_at_yellow_and_a_notice_at_red_once_each(
    client, world, app, settings, session
) -> None:  # type: ignore[no-untyped-def]
    settings.notify.notify_allow_networks = ["127.0.0.0/8"]
    made = []
    for body in (
        {"kind": "webhook", "unit_id": world.units[JIAOJING], "url": "http://127.0.0.1:9/unit"},
        {"kind": "webhook", "url": "http://127.0.0.1:9/centre"},
    ):
        r = await client.post("/api/v1/notifications/endpoints", json=body, headers=world.headers("admin"))
        made.append(r.json()["id"])
    unit_endpoint, centre_endpoint = made
    r = await client.post(
        "/api/v1/reports", json={"category_code": "09009", **CENTRE}, headers=world.headers("worker2")
    )
    case_id = r.json()["id"]
    case = (await session.execute(select(Case).where(Case.id == case_id))).scalar_one()
    yellow, due = case.yellow_at, case.due_at
    # The instants are the calendar's: 80 % of the limit in working time from the dispatch.
    calendar = await calendar_for(session, settings)
    assert calendar.working_seconds_between(case.dispatched_at, yellow) == 0.8 * case.limit_seconds
    assert calendar.working_seconds_between(case.dispatched_at, due) == case.limit_seconds

    db = app.state.db
    assert await deadlines.sweep(db, settings, now=yellow - SECOND) == 0
    assert await deadlines.sweep(db, settings, now=yellow) == 1
    assert await deadlines.sweep(db, settings, now=yellow + SECOND) == 0  # once per deadline
    assert await events(session, case_id) == [("case.deadline_warning", unit_endpoint)]
    assert await deadlines.sweep(db, settings, now=due) == 0  # red is after the due instant
    assert await deadlines.sweep(db, settings, now=due + SECOND) == 1
    assert await deadlines.sweep(db, settings, now=due + 10 * SECOND) == 0
    assert await events(session, case_id) == [
        ("case.deadline_warning", unit_endpoint),
        ("case.overdue", unit_endpoint),
        ("case.overdue", centre_endpoint),  # the dispatchers hear of overdue cases
    ]


async def test_an_extension_makes_a_new_deadline_and_a_hold_stops_the_sweep(
    client, world, app, settings, session
) -> None:  # type: ignore[no-untyped-def]
    h = world.headers("worker2")
    first = (
        await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE}, headers=h)
    ).json()
    held = (await client.post("/api/v1/reports", json={"category_code": "09009", **CENTRE}, headers=h)).json()
    for user, body in (
        ("jiaojing", {"action": "request_hold", "reason": "待修缮资金"}),
        ("dispatcher", {"action": "decide_hold", "approve": True}),
    ):
        r = await client.post(f"/api/v1/reports/{held['id']}/actions", json=body, headers=world.headers(user))
        assert r.status_code == 200
    db = app.state.db
    case = (await session.execute(select(Case).where(Case.id == first["id"]))).scalar_one()
    old_due = case.due_at
    assert await deadlines.sweep(db, settings, now=old_due + SECOND) == 1  # the held case's clock is stopped
    for user, body in (
        ("jiaojing", {"action": "request_extension", "hours": 8, "reason": "需协调车主"}),
        ("dispatcher", {"action": "decide_extension", "approve": True}),
    ):
        r = await client.post(
            f"/api/v1/reports/{first['id']}/actions", json=body, headers=world.headers(user)
        )
        assert r.status_code == 200
    await session.refresh(case)
    assert case.due_at > old_due  # a new deadline: it will be warned and flagged again
    assert await deadlines.sweep(db, settings, now=case.due_at + dt.timedelta(days=30)) == 1
    rows = (
        await session.execute(
            select(DeadlineNotice.case_id, DeadlineNotice.kind, DeadlineNotice.due_at).where(
                DeadlineNotice.case_id.in_((first["id"], held["id"]))
            )
        )
    ).all()
    assert [r for r in rows if r.case_id == held["id"]] == []
    assert {d for c, k, d in rows if k == "overdue"} == {old_due, case.due_at}
