"""The negative list (负面清单, docs/campaign.md "The negative list"): events against a unit or a street that
deduct points from its ranking or put it on the black board (veto), for every round whose period holds the
event's local date (app.campaign.boards).

Supervisors record events, confirmed at once. A case filed in a veto category (一票否决) proposes one
against the case's unit (the unit it was routed to; else its cell) through :func:`propose_veto_event`, a
handler of the workflow's ``veto.alert`` event, so the reports code never imports the campaign; a supervisor
confirms or rejects it. Only confirmed events count.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.campaign.models import NegativeEvent
from app.campaign.score_schemas import NegativeEventIn, NegativeEventOut
from app.cases.models import Case
from app.core.db import utcnow
from app.core.errors import AppError, NotFound, ValidationProblem
from app.grids.directory import directory
from app.units.book import units
from app.workflow.events import Happened


class NegativeEventDecided(AppError):
    status, code, title = 409, "invalid_transition", "The event was decided already"
    title_zh = "该负面清单事项已处理"


def present(event: NegativeEvent) -> NegativeEventOut:
    return NegativeEventOut.model_validate(event, from_attributes=True)


async def record(session: AsyncSession, principal: Principal, data: NegativeEventIn) -> NegativeEvent:
    """A confirmed event (module docstring). 422 ``unknown_unit`` / ``unknown_cell`` naming the field."""
    if data.unit_id is not None and data.unit_id not in await units(session):
        raise ValidationProblem(
            [{"loc": ["unit_id"], "msg": f"no unit with id {data.unit_id}", "type": "unknown_unit"}],
            code="unknown_unit",
        )
    if data.grid_id is not None and data.grid_id not in (await directory(session)).by_id:
        raise ValidationProblem(
            [{"loc": ["grid_id"], "msg": f"no cell with id {data.grid_id}", "type": "unknown_cell"}],
            code="unknown_cell",
        )
    now = utcnow()
    user_id = principal.user.id if principal.user else None
    event = NegativeEvent(
        code=data.code,
        text=data.text,
        unit_id=data.unit_id,
        grid_id=data.grid_id,
        occurred_at=data.occurred_at,
        penalty=data.penalty,
        points=data.points if data.penalty == "deduct" else 0.0,
        status="confirmed",
        created_by_id=user_id,
        created_at=now,
        decided_by_id=user_id,
        decided_at=now,
    )
    session.add(event)
    await session.flush()
    return event


async def list_events(
    session: AsyncSession, status: str | None, unit: int | None, grid: int | None, limit: int
) -> list[NegativeEvent]:
    """Newest first, at most ``limit``."""
    query = select(NegativeEvent)
    if status is not None:
        query = query.where(NegativeEvent.status == status)
    if unit is not None:
        query = query.where(NegativeEvent.unit_id == unit)
    if grid is not None:
        query = query.where(NegativeEvent.grid_id == grid)
    rows = await session.execute(query.order_by(NegativeEvent.id.desc()).limit(limit))
    return list(rows.scalars())


async def decide(session: AsyncSession, principal: Principal, event_id: int, action: str) -> NegativeEvent:
    """``confirm`` or ``reject`` a proposed event. 404 ``not_found``; 409 ``invalid_transition`` when it was
    decided already (the body adds ``current_status``)."""
    event = await session.get(NegativeEvent, event_id, with_for_update=True)
    if event is None:
        raise NotFound(f"No negative-list event with id {event_id}")
    if event.status != "proposed":
        raise NegativeEventDecided(
            f"The event is {event.status} already", current_status=event.status, allowed_actions=[]
        )
    event.status = "confirmed" if action == "confirm" else "rejected"
    event.decided_by_id = principal.user.id if principal.user else None
    event.decided_at = utcnow()
    await session.flush()
    return event


async def propose_veto_event(session: AsyncSession, event: Happened) -> None:
    """On ``veto.alert`` (a case filed in a veto category): a proposed veto event against the case's unit,
    else its cell, dated when the case was filed; one per case."""
    if event.name != "veto.alert":
        return
    case = await session.get(Case, event.case_id)
    if case is None:
        return
    taken = await session.execute(select(NegativeEvent.id).where(NegativeEvent.case_id == case.id))
    if taken.first() is not None:
        return
    unit_id = case.unit_id or case.routed_unit_id
    session.add(
        NegativeEvent(
            code=case.category_code,
            text=f"一票否决事项 {case.category_code}: {case.tracking_code} {case.description[:200]}".strip(),
            unit_id=unit_id,
            grid_id=None if unit_id is not None else case.grid_id,
            occurred_at=case.created_at or event.occurred_at,
            penalty="veto",
            points=0.0,
            status="proposed",
            case_id=case.id,
            created_at=event.occurred_at,
        )
    )
    await session.flush()
