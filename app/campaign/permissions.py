"""Who may call the campaign's routes, and who inspects what (docs/campaign.md "Who does what").

Supervisors (the campaign office, 创文办) and admins keep editions, checklists, points, duties and rounds;
the command centre reads points and rounds. Inspectors are supervisors, admins, or grid workers whose cells
contain the point; they see and submit the visits assigned to them (a visit that is not theirs does not
exist for a worker: 404). Anyone signed in may read the checklists: they are the standards units are judged
by. Unit staff see the failures of their unit's points as the cases their unit holds (app.cases.permissions);
a round's inspectors re-inspect its failures (:func:`inspects_round`, registered with the workflow).
Rectification notices: the office and the command centre read every notice, a unit's staff only their unit's
(:func:`notice_scope`; another unit's is a 404); the office issues them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, false, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role, User, WorkerGrid
from app.auth.permissions import EVERY_ROLE, Allow, Principal
from app.campaign.models import Notice, Point, Visit
from app.cases.models import Case
from app.cases.permissions import patrols
from app.core.errors import AppError, NotFound
from app.grids.directory import directory

OFFICE = (Role.supervisor, Role.admin)
INSPECTORS = (Role.worker, Role.supervisor, Role.admin)

ChecklistReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
CampaignReader = Annotated[Principal, Depends(Allow(Role.dispatcher, *OFFICE))]
CampaignEditor = Annotated[Principal, Depends(Allow(*OFFICE))]
Inspector = Annotated[Principal, Depends(Allow(*INSPECTORS))]
NoticeReader = Annotated[Principal, Depends(Allow(Role.unit_staff, Role.dispatcher, *OFFICE))]


class InspectorNotEligible(AppError):
    status, code, title = 422, "inspector_not_eligible", "That user may not inspect that point"
    title_zh = "该用户不能测评该点位"


def sees_every_visit(principal: Principal) -> bool:
    """Supervisors and admins see every visit; other inspectors only those assigned to them."""
    return principal.role in OFFICE


def check_visit_visible(principal: Principal, visit: Visit) -> None:
    """404 unless ``principal`` sees ``visit`` (the same answer whether it exists or not)."""
    user = principal.user
    if sees_every_visit(principal):
        return
    if user is None or visit.inspector_id != user.id:
        raise NotFound(f"No visit with id {visit.id}")


async def check_inspector(session: AsyncSession, user_id: int, points: list[Point], field: str) -> User:
    """The user with ``user_id`` if they may inspect every one of ``points``: an active supervisor or admin,
    or an active grid worker whose cells contain each point; 422 ``inspector_not_eligible`` otherwise."""
    user = await session.get(User, user_id)
    role = Role(user.role) if user is not None else None
    if user is None or not user.active or role not in INSPECTORS:
        raise InspectorNotEligible(
            errors=[{"loc": [field], "msg": "an active worker, supervisor or admin", "type": "not_eligible"}]
        )
    if role is Role.worker:
        cells = set(
            (await session.execute(select(WorkerGrid.grid_id).where(WorkerGrid.user_id == user.id))).scalars()
        )
        paths = (await directory(session)).paths(cells)
        outside = [p.code for p in points if not patrols(paths, p.grid_path)]
        if outside:
            raise InspectorNotEligible(
                f"{user.username} patrols no cell containing point(s) {', '.join(outside[:10])}",
                errors=[
                    {
                        "loc": [field],
                        "msg": "a worker inspects points in the cells they patrol",
                        "type": "not_eligible",
                    }
                ],
            )
    return user


async def inspects_round(session: AsyncSession, principal: Principal, case: Case) -> bool:
    """Whether ``principal`` re-inspects ``case`` (复查: verify or rework), a campaign failure: they are
    assigned to a visit of its round. Supervisors and admins check any case by the workflow table anyway."""
    if principal.user is None or case.round_id is None:
        return False
    found = await session.execute(
        select(Visit.id)
        .where(Visit.round_id == case.round_id, Visit.inspector_id == principal.user.id)
        .limit(1)
    )
    return found.first() is not None


def notice_scope(principal: Principal) -> ColumnElement[bool]:
    """The notices ``principal`` sees: all for the office and the command centre, their unit's for unit
    staff, none for anyone else."""
    if principal.role in (Role.dispatcher, *OFFICE):
        return true()
    user = principal.user
    if principal.role is Role.unit_staff and user is not None and user.unit_id is not None:
        return Notice.unit_id == user.unit_id
    return false()
