"""Who may call the workflow's routes, and how a caller relates to a case for the workflow table
(app.workflow.rules ``who``): the one place roles become relations."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.auth.permissions import EVERY_ROLE, Allow, Principal
from app.cases.models import Case
from app.cases.permissions import patrol_paths, patrols
from app.workflow.rules import Who

# Any role may ask; the workflow table decides per action and case.
CaseActor = Annotated[Principal, Depends(Allow(*EVERY_ROLE))]
HistoryReader = Annotated[Principal, Depends(Allow(*EVERY_ROLE, api_keys=True))]


def sees_internal_history(principal: Principal) -> bool:
    """Whether a caller reads a case's whole history (notes, reasons, who took each step): users who see the
    case do; a third-party server's API key reads what Open311 shows, the state changes and public notes."""
    return principal.user is not None


# Who checks a case on site (the ``cell_worker`` relation: verify, rework), by where the case came from, for
# sources whose check is not the patrolling worker's: a campaign inspection's failure is re-inspected by the
# round's inspectors (app.campaign registers that rule when the app is made).
OnSiteChecker = Callable[[AsyncSession, Principal, Case], Awaitable[bool]]
_CHECKERS: dict[str, OnSiteChecker] = {}


def checked_on_site_by(source: str, rule: OnSiteChecker) -> None:
    """Say who checks the cases of ``source`` on site (instead of the grid workers of their cell)."""
    _CHECKERS[source] = rule


_ROLE_RELATION = {Role.dispatcher: Who.dispatcher, Role.supervisor: Who.supervisor, Role.admin: Who.admin}


async def relations(
    session: AsyncSession, actor: Principal | None, case: Case, *, filing: bool = False
) -> set[Who]:
    """How ``actor`` relates to ``case`` (who they are for the workflow table); they can see it.

    ``actor`` None is the service itself (:attr:`Who.system`). ``filing``: the case is being filed in this
    request, so whoever files it holds :attr:`Who.reporter` (the self-handling row).
    """
    if actor is None:
        return {Who.system, Who.viewer}
    have = {Who.viewer}
    if filing:
        have.add(Who.reporter)
    user = actor.user
    if user is None:
        return have
    role = Role(user.role)
    if role in _ROLE_RELATION:
        have.add(_ROLE_RELATION[role])
    if role is Role.unit_staff and case.unit_id is not None and user.unit_id == case.unit_id:
        have.add(Who.unit_staff)
    if role is Role.dispatcher and case.self_handled:
        have.add(Who.closer)
    # A self-handled case (自处理) is checked and closed by a dispatcher or supervisor: a second person in the
    # loop, so a worker never closes what they (or a colleague of the cell) fixed and reported themselves.
    special = _CHECKERS.get(case.source)
    if special is not None:
        if await special(session, actor, case):
            have.add(Who.cell_worker)
    elif (
        role is Role.worker
        and not case.self_handled
        and patrols(await patrol_paths(session, actor), case.grid_path)
    ):
        have.add(Who.cell_worker)
    return have
