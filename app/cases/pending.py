"""What waits for a dispatcher (the approval queue, docs/api.md "Native resources": ``pending``): a unit's
extension (延期) or hold (挂账) request, and a case its unit returned (回退) waiting for a new dispatch.

Whether something waits is read from the case's own columns (so lists filter on it from an index); what
was asked, by whom and when comes from the request's history row, one statement for a page of cases.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, Protocol

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.cases.models import Case, CaseEvent, Status
from app.cases.schemas import PendingOut, Requester
from app.units.book import units
from app.units.schemas import UnitRef

Pending = Literal["extension", "hold", "redispatch"]
PENDING: tuple[Pending, ...] = ("extension", "hold", "redispatch")
# The history rows that asked for each (the latest one counts).
_REQUEST: dict[Pending, tuple[str, ...]] = {
    "extension": ("request_extension",),
    "hold": ("request_hold",),
    "redispatch": ("return", "rework"),
}


class Waiting(Protocol):
    """What tells whether something waits (a :class:`Case`, or a list's row of its columns)."""

    id: int
    status: str
    unit_id: int | None
    pending_extension_hours: int | None
    pending_hold: bool
    return_count: int
    rework_count: int


def pending_kinds(case: Waiting) -> list[Pending]:
    """What of ``case`` waits for a dispatcher's decision."""
    kinds: list[Pending] = []
    if case.pending_extension_hours:
        kinds.append("extension")
    if case.pending_hold:
        kinds.append("hold")
    if (
        case.status == Status.registered.value
        and case.unit_id is None
        and (case.return_count or case.rework_count)
    ):
        kinds.append("redispatch")  # returned by its unit, or a self-handled case whose check failed
    return kinds


def pending_condition(kind: Pending) -> ColumnElement[bool]:
    """Cases where ``kind`` waits (the list's ``pending`` filter)."""
    if kind == "extension":
        return Case.pending_extension_hours.is_not(None)
    if kind == "hold":
        return Case.pending_hold.is_(True)
    return and_(
        Case.status == Status.registered.value,
        Case.unit_id.is_(None),
        or_(Case.return_count > 0, Case.rework_count > 0),
    )


async def pending_of(session: AsyncSession, cases: Sequence[Waiting]) -> dict[int, list[PendingOut]]:
    """Each case's waiting requests with what was asked, by whom and when (cases with none are left out);
    one statement, and none when nothing waits."""
    wanted = {c.id: pending_kinds(c) for c in cases}
    wanted = {case_id: kinds for case_id, kinds in wanted.items() if kinds}
    if not wanted:
        return {}
    rows = await session.execute(
        select(CaseEvent, User)
        .outerjoin(User, User.id == CaseEvent.actor_id)
        .where(
            CaseEvent.case_id.in_(list(wanted)),
            CaseEvent.action.in_([a for v in _REQUEST.values() for a in v]),
        )
        .order_by(CaseEvent.id)
    )
    latest: dict[tuple[int, Pending], tuple[CaseEvent, User | None]] = {}
    for event, user in rows.all():
        for kind, actions in _REQUEST.items():
            if event.action in actions:
                latest[(event.case_id, kind)] = (event, user)  # the last one of each kind wins
    all_units = await units(session)
    out: dict[int, list[PendingOut]] = {}
    for case_id, kinds in wanted.items():
        for kind in kinds:
            found = latest.get((case_id, kind))
            if found is None:
                continue
            event, who = found
            requester = None
            if who is not None:
                unit = all_units.get(who.unit_id) if who.unit_id is not None else None
                requester = Requester(
                    id=who.id,
                    username=who.username,
                    display_name=who.display_name or None,
                    unit=UnitRef(id=unit.id, name=unit.name) if unit else None,
                )
            hours = (event.data or {}).get("hours") if kind == "extension" else None
            out.setdefault(case_id, []).append(
                PendingOut(
                    kind=kind,
                    hours=hours,
                    reason=event.reason,
                    requested_by=requester,
                    requested_at=event.created_at,
                )
            )
    return out
