"""Who sees which case, and what of it (docs/domain.md "Who sees what"): the one home of these rules.

A grid worker sees the cases of the cells they patrol (and below) and the cases they filed; unit
staff see the cases their unit holds or has held; dispatchers, supervisors and admins see all; a
third-party server's API key sees the cases it filed. A case the caller may not see does not exist
for them: 404, never 403, for the case, its photos and its history. A deleted case exists for
nobody, except as a tombstone in a phone's delta sync (app.reports.listing).

What a visible case shows also depends on the caller: the photos' EXIF position, time and file name
(where the worker stood, and when) are for the command centre and grid workers, not for unit staff or
third-party servers; an Open311 reporter's contact details are for the command centre only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends
from sqlalchemy import ColumnElement, and_, bindparam, false, literal_column, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.auth.permissions import OptionalPrincipal, Principal
from app.cases.models import Case, CaseEvent
from app.core.deps import IdPath, SessionDep, release
from app.core.errors import NotFound, Unauthorized
from app.core.i18n import Text
from app.grids.directory import directory
from app.grids.models import subtree
from app.photos.models import Photo

COMMAND_CENTRE = (Role.dispatcher, Role.supervisor, Role.admin)


async def patrol_paths(session: AsyncSession, principal: Principal | None) -> list[str]:
    """The materialised paths of the cells a grid worker patrols ([] for anyone else); no statement when
    the cell directory is current (the principal carries the worker's cell ids)."""
    user = principal.user if principal else None
    if principal is None or user is None or user.role != Role.worker.value:
        return []
    return (await directory(session)).paths(principal.grid_ids)


def patrols(paths: Sequence[str], grid_path: str) -> bool:
    """Whether a worker patrolling the cells at ``paths`` patrols the cell at ``grid_path`` (it or a cell above)."""
    return any(grid_path.startswith(p) for p in paths)


async def visible(
    session: AsyncSession, principal: Principal, *, deleted: bool = False, after_id: int | None = None
) -> ColumnElement[bool]:
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
    if role in COMMAND_CENTRE:
        return true()
    if role is Role.unit_staff:
        if user.unit_id is None:
            return false()
        # A unit gets a case only by a dispatch, which names it in an event: the dispatches cover
        # "holds now" as well as "has held", from one partial index read in case order.
        held = select(CaseEvent.case_id).where(
            CaseEvent.action == literal_column("'dispatch'"), CaseEvent.unit_id == user.unit_id
        )
        if after_id is not None:
            held = held.where(CaseEvent.case_id > after_id)
        return Case.id.in_(held)
    paths = await patrol_paths(session, principal)
    return or_(Case.reporter_id == user.id, *[subtree(Case.grid_path, p) for p in paths])


_CASE_BY_ID = select(Case).where(Case.id == bindparam("case_id"))
_DISPATCHED_TO = select(CaseEvent.id).where(
    CaseEvent.case_id == bindparam("case_id"),
    CaseEvent.action == literal_column("'dispatch'"),
    CaseEvent.unit_id == bindparam("unit_id"),
)


async def sees(session: AsyncSession, principal: Principal, case: Case) -> bool:
    """Whether ``principal`` may see ``case``: :func:`visible`'s rule for one loaded case, decided in Python
    (a statement only for unit staff whose unit no longer holds it: did it ever?)."""
    if case.deleted_at is not None:
        return False
    if principal.api_key is not None:
        return case.api_key_id == principal.api_key.id
    user = principal.user
    assert user is not None
    role = Role(user.role)
    if role in COMMAND_CENTRE:
        return True
    if role is Role.unit_staff:
        if user.unit_id is None:
            return False
        if case.unit_id == user.unit_id:
            return True  # it holds the case now, so it was dispatched to it
        found = await session.execute(_DISPATCHED_TO, {"case_id": case.id, "unit_id": user.unit_id})
        return found.first() is not None
    return case.reporter_id == user.id or patrols(await patrol_paths(session, principal), case.grid_path)


async def get_visible_case(session: AsyncSession, principal: Principal, case_id: int) -> Case:
    """The case if ``principal`` may see it; 404 ``not_found`` otherwise (whether or not it exists).
    One prebuilt primary-key statement; who sees it is decided on the loaded row (:func:`sees`)."""
    case = (await session.execute(_CASE_BY_ID, {"case_id": case_id})).scalar_one_or_none()
    if case is None or not await sees(session, principal, case):
        raise NotFound(Text(f"没有编号为 {case_id} 的案件", f"No case with id {case_id}"))
    return case


async def _visible_case(case_id: IdPath, principal: OptionalPrincipal, session: SessionDep) -> Case:
    # The route's own caller dependency (its Allow) comes first in its signature and has admitted the
    # caller by the time this runs; this only decides whether the case exists for them.
    if principal is None:
        raise Unauthorized()
    case = await get_visible_case(session, principal, case_id)
    await release(session)  # a writing request reads its body next: no lock held while it arrives
    return case


# Load-or-404 of ``{case_id}`` for the caller: every route that takes a case id uses it.
VisibleCase = Annotated[Case, Depends(_visible_case)]


@dataclass(frozen=True)
class ShownCase:
    """A case the caller may see, with its photos (every stage, oldest first), read together to show it."""

    case: Case
    photos: list[Photo]


_CASE_AND_PHOTOS = (
    select(Case, Photo)
    .outerjoin(Photo, Photo.case_id == Case.id)
    .where(Case.id == bindparam("case_id"))
    .order_by(Photo.id)
)


async def _shown_case(case_id: IdPath, principal: OptionalPrincipal, session: SessionDep) -> ShownCase:
    # As _visible_case, for the route that shows the case: its photos come in the same statement (one row
    # per photo, the case's columns repeated), one round trip fewer on the busiest read.
    if principal is None:
        raise Unauthorized()
    rows = (await session.execute(_CASE_AND_PHOTOS, {"case_id": case_id})).all()
    if not rows or not await sees(session, principal, rows[0][0]):
        raise NotFound(Text(f"没有编号为 {case_id} 的案件", f"No case with id {case_id}"))
    return ShownCase(rows[0][0], [photo for _, photo in rows if photo is not None])


# Load-or-404 of ``{case_id}`` with its photos, for ``GET /reports/{case_id}``.
VisibleCaseWithPhotos = Annotated[ShownCase, Depends(_shown_case)]


def sees_contacts(principal: Principal | None) -> bool:
    """Whether a caller sees an Open311 reporter's contact details: the command centre only."""
    return principal is not None and principal.role in COMMAND_CENTRE


def sees_private_evidence(principal: Principal | None) -> bool:
    """Whether a caller sees photos' EXIF positions, times and file names: everyone but unit staff and keys."""
    return principal is not None and principal.role is not None and principal.role is not Role.unit_staff


def sees_originals(principal: Principal | None) -> bool:
    """Whether a caller may download a photo's original bytes (metadata removed): staff, not grid workers or
    third-party servers."""
    return principal is not None and principal.role in (Role.unit_staff, *COMMAND_CENTRE)
