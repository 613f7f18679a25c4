"""Who sees which case (DOMAIN.md "Who sees what"), as one SQL condition per caller.

A grid worker sees the cases of the cells they patrol (and below) and the cases they filed; unit
staff see the cases their unit holds or has held; dispatchers, supervisors and admins see all; a
third-party server's API key sees the cases it filed. A case the caller may not see does not exist
for them: 404, never 403, for the case, its photos and its history. A deleted case exists for
nobody, except as a tombstone in a phone's delta sync (app.reports.listing).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, false, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, WorkerGrid
from app.auth.permissions import Principal
from app.core.errors import NotFound
from app.grids.models import GridCell, subtree
from app.reports.models import Case, CaseEvent


async def visible(session: AsyncSession, principal: Principal, *, deleted: bool = False,
                  after_id: int | None = None) -> ColumnElement[bool]:
    """A condition on :class:`Case` true for exactly the cases ``principal`` may see.

    ``deleted=True`` also admits deleted cases the caller could see before (for tombstones).
    ``after_id``: the caller reads only ids above it (a keyset page); the bound is repeated where
    PostgreSQL would not carry it over by itself, so a deep page costs what the first does.
    """
    alive = true() if deleted else Case.deleted_at.is_(None)
    return and_(alive, await _in_scope(session, principal, after_id))


async def _in_scope(session: AsyncSession, principal: Principal, after_id: int | None) -> ColumnElement[bool]:
    if principal.api_key is not None:
        return Case.api_key_id == principal.api_key.id
    user = principal.user
    assert user is not None
    role = Role(user.role)
    if role in (Role.dispatcher, Role.supervisor, Role.admin):
        return true()
    if role is Role.unit_staff:
        if user.unit_id is None:
            return false()
        # A unit gets a case only by a dispatch, which names it in an event: the dispatches cover
        # "holds now" as well as "has held", from one partial index read in case order.
        held = select(CaseEvent.case_id).where(CaseEvent.action == literal_column("'dispatch'"),
                                               CaseEvent.unit_id == user.unit_id)
        if after_id is not None:
            held = held.where(CaseEvent.case_id > after_id)
        return Case.id.in_(held)
    paths = list((await session.execute(
        select(GridCell.path).join(WorkerGrid, WorkerGrid.grid_id == GridCell.id)
        .where(WorkerGrid.user_id == user.id))).scalars())
    return or_(Case.reporter_id == user.id, *[subtree(Case.grid_path, p) for p in paths])


async def get_visible_case(session: AsyncSession, principal: Principal, case_id: int) -> Case:
    """The case if ``principal`` may see it; 404 ``not_found`` otherwise (whether or not it exists)."""
    case = (await session.execute(select(Case).where(Case.id == case_id, await visible(session, principal))
                                  )).scalar_one_or_none()
    if case is None:
        raise NotFound(f"No case with id {case_id}")
    return case
