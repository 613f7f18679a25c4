"""The demo's history (app.demo.history): months of cases filed and worked through the real workflow, loaded
into the test's database (rolled back after each test), and what a newcomer must find in it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from app.cases.models import Alert, Case, CaseEvent, Status
from app.cases.queries import light_condition
from app.deadlines.calendar import WorkCalendar
from app.demo.builder import DEMO_LOGINS
from app.demo.history import DEMO_API_KEY, catalogue_limits, history_present, load_history
from app.demo.story import plan_history
from app.units.models import Assignment, Unit

BEIJING = ZoneInfo("Asia/Shanghai")
# A Monday evening in 平凉, after working hours: working-time clocks stand still until tomorrow.
NOW = dt.datetime(2026, 12, 7, 20, 30, tzinfo=BEIJING).astimezone(dt.UTC)


async def _states(session, now: dt.datetime) -> dict[str, int]:  # type: ignore[no-untyped-def]
    rows = await session.execute(select(Case.status, func.count()).group_by(Case.status))
    counts = {status: n for status, n in rows.all()}
    for light in ("red", "yellow", "paused"):
        counts[light] = await session.scalar(
            select(func.count()).select_from(Case).where(light_condition(light, now))
        )
    counts["extension"] = await session.scalar(
        select(func.count()).select_from(Case).where(Case.pending_extension_hours.is_not(None))
    )
    counts["hold"] = await session.scalar(
        select(func.count()).select_from(Case).where(Case.pending_hold.is_(True))
    )
    counts["veto_alerts"] = await session.scalar(
        select(func.count())
        .select_from(Alert)
        .join(Case, Case.id == Alert.case_id)
        .where(Case.status != "closed")
    )
    return counts


def _show_everything(counts: dict[str, int]) -> None:
    assert {s.value for s in Status} <= {k for k, n in counts.items() if n}, counts
    assert counts["red"] >= 5 and counts["yellow"] >= 3 and counts["paused"] >= 2, counts
    assert counts["extension"] >= 1 and counts["hold"] >= 1 and counts["veto_alerts"] == 1, counts


async def _login(client, username: str, password: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    r = await client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert r.status_code == 200, (username, r.text)
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def test_the_history_shows_every_feature_through_the_api(client, session, settings, db) -> None:  # type: ignore[no-untyped-def]
    loaded = await load_history(session, settings, db, now=NOW)
    await session.commit()
    assert loaded is not None and 220 <= loaded.cases <= 280, loaded
    counts = await _states(session, NOW)
    _show_everything(counts)
    assert counts["closed"] > 0.7 * loaded.cases  # a command centre closes most of what it gets
    events = dict(
        (await session.execute(select(CaseEvent.action, func.count()).group_by(CaseEvent.action))).all()
    )
    for action in (
        "return",
        "rework",
        "decide_extension",
        "decide_hold",
        "resume",
        "urge",
        "self_handle",
        "reject",
    ):
        assert events.get(action, 0) > 0, (action, events)
    sources = dict((await session.execute(select(Case.source, func.count()).group_by(Case.source))).all())
    assert sources.get("open311", 0) >= 10, sources
    filed = [t.astimezone(BEIJING) for t in (await session.execute(select(Case.created_at))).scalars()]
    assert min(filed) >= NOW.astimezone(BEIJING) - dt.timedelta(days=91) and max(filed) < NOW
    assert sum(t.month == 12 for t in filed) >= 20  # some filed this month
    assert sum(8 <= t.hour < 18 for t in filed) > 0.75 * len(filed)  # mostly in working hours
    # Loading again adds nothing.
    assert await history_present(session)
    assert await load_history(session, settings, db, now=NOW) is None

    dispatcher = await _login(client, "dispatcher", "demo-dispatcher-2026")
    r = await client.get("/api/v1/reports?pending=extension&pending=hold", headers=dispatcher)
    assert {p["kind"] for item in r.json()["items"] for p in item["pending"]} == {"extension", "hold"}
    r = await client.get("/api/v1/reports?pending=redispatch", headers=dispatcher)
    assert len(r.json()["items"]) >= 2
    supervisor = await _login(client, "supervisor", "demo-supervisor-2026")
    assert (
        len((await client.get("/api/v1/reports?light=red&limit=100", headers=supervisor)).json()["items"])
        >= 5
    )
    overview = (await client.get("/api/v1/stats/overview", headers=supervisor)).json()
    assert overview["veto_alerts"]["open"] == 1
    day = NOW.astimezone(BEIJING).date()
    period = {"from": str(day - dt.timedelta(days=90)), "to": str(day)}
    r = await client.get(
        "/api/v1/stats/assessment", params={"group_by": "unit", **period}, headers=supervisor
    )
    figures = r.json()["total"]["figures"]
    for key in (
        "closure_rate",
        "on_time_closure_rate",
        "on_time_handling_rate",
        "rework_rate",
        "return_rate",
    ):
        assert 0 < figures[key]["value"] <= 1, (key, figures[key])
    for key in ("extension_rate", "hold_rate", "average_handling_hours"):
        assert figures[key]["value"] > 0, (key, figures[key])
    units = [g for g in r.json()["groups"] if g["key"] is not None]
    assert len(units) == 8 and all(g["counts"]["filed"] > 0 for g in units), units
    assert all(g["figures"]["closure_rate"]["value"] for g in units), units
    exported = (await client.get("/api/v1/reports/export?format=csv", headers=supervisor)).content
    rows = list(csv.reader(io.StringIO(exported.decode("utf-8-sig"))))
    assert len(rows) == loaded.cases + 1 and "+08:00" in exported.decode("utf-8-sig")
    # A fixed case waits for worker2's on-site check; the citizens' app reads what it filed with its key.
    worker2 = await _login(client, "worker2", "demo-worker2-2026")
    assert (await client.get("/api/v1/reports?status=resolved", headers=worker2)).json()["items"]
    r = await client.get("/open311/v2/requests.json", params={"api_key": DEMO_API_KEY})
    assert r.status_code == 200 and len(r.json()) >= 10
    # Every unit routing can choose has a demo login, with work to show.
    routable = (
        await session.execute(select(Unit.id, Unit.name).join(Assignment).where(Unit.active).distinct())
    ).all()
    logins = {login.unit: login for login in DEMO_LOGINS if login.unit}
    assert len(routable) == 8 and {name for _, name in routable} <= set(logins)
    for unit_id, name in routable:
        headers = await _login(client, logins[name].username, logins[name].password)
        r = await client.get("/api/v1/reports", params={"unit": unit_id}, headers=headers)
        assert r.status_code == 200 and r.json()["items"], name


@pytest.mark.parametrize(
    "local",
    [
        dt.datetime(2026, 12, 7, 7, 10),  # Monday before work: the last working time was Friday's
        dt.datetime(2026, 12, 5, 11, 0),  # a Saturday
        dt.datetime(2026, 10, 4, 15, 0),  # 国庆 (National Day) holidays
    ],
)
async def test_the_scenes_hold_whenever_the_demo_is_loaded(session, settings, db, local: dt.datetime) -> None:  # type: ignore[no-untyped-def]
    """Red, yellow, held and pending cases, a veto alert and every state exist at any hour, not only in
    office hours (the scenes are written backwards from "now" on the working calendar)."""
    now = local.replace(tzinfo=BEIJING).astimezone(dt.UTC)
    await load_history(session, settings, db, now=now, cases=0)
    counts = await _states(session, now)
    _show_everything(counts)
    late = await session.scalar(select(func.max(CaseEvent.created_at)))
    assert late is not None and late < now


async def test_with_auto_dispatch_off_the_dispatcher_dispatches(session, settings, db) -> None:  # type: ignore[no-untyped-def]
    manual = settings.model_copy(
        update={"workflow": settings.workflow.model_copy(update={"auto_dispatch": False})}
    )
    await load_history(session, manual, db, now=NOW, cases=0)
    _show_everything(await _states(session, NOW))
    actors = (
        await session.execute(select(CaseEvent.actor_kind).where(CaseEvent.action == "dispatch").distinct())
    ).scalars()
    assert set(actors) == {"user"}


async def _snapshot(session) -> list[tuple]:  # type: ignore[no-untyped-def]
    cases = (await session.execute(select(Case).order_by(Case.created_at, Case.id))).scalars().all()
    events = (await session.execute(select(CaseEvent).order_by(CaseEvent.id))).scalars().all()
    history: dict[int, list[tuple]] = {}
    for e in events:
        history.setdefault(e.case_id, []).append(
            (e.action, e.actor_id, e.to_status, e.note, e.reason, e.created_at)
        )
    return [
        (
            c.category_code,
            c.description,
            c.lat,
            c.lon,
            c.source,
            c.status,
            c.unit_id,
            c.priority,
            c.due_at,
            c.created_at,
            tuple(history[c.id]),
        )
        for c in cases
    ]


async def test_the_same_seed_gives_the_same_cases(session, settings, db) -> None:  # type: ignore[no-untyped-def]
    async def load() -> list[tuple]:
        async with session.begin_nested() as nested:
            await load_history(session, settings, db, now=NOW, cases=12)
            shown = await _snapshot(session)
            await nested.rollback()
        return shown

    first = await load()
    assert len(first) > 35
    assert await load() == first
    # Another seed, another history (the plan alone: what the service then does with it is the same).
    calendar = WorkCalendar()
    limits = await catalogue_limits(session, calendar)
    assert plan_history(14, NOW, calendar, limits, 12) == plan_history(14, NOW, calendar, limits, 12)
    assert plan_history(14, NOW, calendar, limits, 12) != plan_history(15, NOW, calendar, limits, 12)


async def test_one_case_is_seen_exactly_by_who_sees_it_in_lists(session, settings, db) -> None:  # type: ignore[no-untyped-def]
    """Opening one case decides who sees it on the loaded row (app.cases.permissions.sees); lists decide in SQL
    (``visible``). Over the whole demo history (returns, redispatches to another unit, reworks, self-handled,
    Open311 and deleted cases) and every demo login and the demo key, the two agree case by case."""
    from app.auth.models import ApiKey, User, WorkerGrid
    from app.auth.permissions import Principal
    from app.cases.permissions import sees, visible

    await load_history(session, settings, db, now=NOW)
    await session.commit()
    cases = list((await session.execute(select(Case).order_by(Case.id))).scalars())
    for deleted in cases[::40]:  # an admin deleted a few; they exist for nobody
        deleted.deleted_at = NOW
    await session.flush()
    principals = []
    for user in (await session.execute(select(User))).scalars():
        cells = (
            await session.execute(select(WorkerGrid.grid_id).where(WorkerGrid.user_id == user.id))
        ).scalars()
        principals.append(Principal(user=user, grid_ids=frozenset(cells)))
    principals += [Principal(api_key=key) for key in (await session.execute(select(ApiKey))).scalars()]
    assert len(principals) >= 14 and len(cases) >= 220
    for principal in principals:
        listed = set(
            (await session.execute(select(Case.id).where(await visible(session, principal)))).scalars()
        )
        one_by_one = {case.id for case in cases if await sees(session, principal, case)}
        assert one_by_one == listed, (principal.label, sorted(one_by_one ^ listed)[:10])
        assert listed or principal.user is None or principal.user.role == "worker", principal.label
