"""Writing what must be sent, in the transaction that caused it (docs/notifications.md "Delivery").

The workflow's domain events (app.workflow.events.Happened) reach :func:`on_happened` through the request's
event bus just before the commit; it writes one :class:`Event` (with a thin payload: type, time, case, status,
category, unit, deadline, light, link; never the reporter's contact or photos) and one pending
:class:`Delivery` per active endpoint that hears it. Nothing is sent here: the worker sends after the commit.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case, status_label
from app.categories.book import book
from app.core.config import Settings
from app.core.db import utcnow
from app.core.events import Handler
from app.deadlines import clock
from app.deadlines.cache import calendar_for
from app.grids.directory import directory
from app.notifications.kinds import Owner, hears
from app.notifications.models import Delivery, Endpoint, Event
from app.units.book import units
from app.workflow.events import Happened
from app.workflow.rules import Audience


def new_message_id() -> str:
    """A ``webhook-id``: ``msg_`` and 32 hex digits, unique per event, the same on every retry."""
    return f"msg_{uuid.uuid4().hex}"


def link(settings: Settings, case_id: int) -> str:
    base = (settings.public_url or "/").rstrip("/")
    return f"{base}/api/v1/reports/{case_id}"


async def case_data(
    session: AsyncSession, settings: Settings, case: Case, now: dt.datetime
) -> dict[str, Any]:
    """The thin payload of an event about ``case``."""
    catalogue, all_units, cells = await book(session), await units(session), await directory(session)
    category = catalogue.categories.get(case.category_code)
    cell = cells.by_id.get(case.grid_id)
    unit = all_units.get(case.unit_id) if case.unit_id is not None else None
    calendar = await calendar_for(session, settings)
    return {
        "case": {
            "id": case.id,
            "tracking_code": case.tracking_code,
            "status": case.status,
            "status_label": status_label(case.status, "zh"),
            "category_code": case.category_code,
            "category_name": category.name_zh if category else case.category_code,
            "place": case.address or (f"{cell.name}（{cell.code}）" if cell else None),
        },
        "unit": {"id": unit.id, "name": unit.name} if unit else None,
        "due_at": case.due_at.isoformat().replace("+00:00", "Z") if case.due_at else None,
        "light": clock.case_light(case, calendar, now),
        "link": link(settings, case.id),
    }


async def endpoints_hearing(
    session: AsyncSession, event_type: str, owners: Iterable[int | None]
) -> list[Endpoint]:
    """Active endpoints of ``owners`` (unit ids; None: the command centre) that hear ``event_type``."""
    wanted = list(owners)
    unit_ids = [o for o in wanted if o is not None]
    clauses = []
    if unit_ids:
        clauses.append(Endpoint.unit_id.in_(unit_ids))
    if None in wanted:
        clauses.append(Endpoint.unit_id.is_(None))
    if not clauses:
        return []
    rows = (
        await session.execute(
            select(Endpoint).where(Endpoint.active.is_(True), Endpoint.deleted_at.is_(None), or_(*clauses))
        )
    ).scalars()
    out = []
    for endpoint in rows:
        owner: Owner = "unit" if endpoint.unit_id is not None else "command_centre"
        if hears(owner, list(endpoint.events or []), event_type):
            out.append(endpoint)
    return out


async def record(
    session: AsyncSession,
    event_type: str,
    data: dict[str, Any],
    endpoints: Iterable[Endpoint],
    *,
    case_id: int | None = None,
    unit_id: int | None = None,
    occurred_at: dt.datetime | None = None,
) -> Event | None:
    """Write the event and a pending delivery per endpoint (none: nothing is written)."""
    targets = list(endpoints)
    if not targets:
        return None
    now = occurred_at or utcnow()
    event = Event(
        message_id=new_message_id(),
        type=event_type,
        case_id=case_id,
        unit_id=unit_id,
        payload=data,
        occurred_at=now,
    )
    session.add(event)
    await session.flush()
    session.add_all(
        Delivery(event_id=event.id, endpoint_id=e.id, status="pending", attempts=0, next_attempt_at=now)
        for e in targets
    )
    await session.flush()
    return event


def owners_of(audience: Audience, unit_id: int | None) -> list[int | None]:
    """Whose endpoints hear an event for ``audience``: the unit's, or the command centre's."""
    if audience is Audience.unit:
        return [unit_id] if unit_id is not None else []
    return [None]


def on_happened(settings: Settings) -> Handler:
    """The bus handler for the workflow's events: an outbox row per endpoint that must hear it."""

    async def handle(session: AsyncSession, happened: Happened) -> None:
        endpoints = await endpoints_hearing(
            session, happened.name, owners_of(happened.audience, happened.unit_id)
        )
        if not endpoints:
            return
        case = await session.get(Case, happened.case_id)
        if case is None:
            return
        data = await case_data(session, settings, case, happened.occurred_at)
        await record(
            session,
            happened.name,
            data,
            endpoints,
            case_id=happened.case_id,
            unit_id=happened.unit_id,
            occurred_at=happened.occurred_at,
        )

    return handle
