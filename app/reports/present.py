"""A case as clients see it (API.md): one function, used by every endpoint that returns cases."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import Role
from app.auth.schemas import UnitRef
from app.categories.models import Category
from app.core.db import utcnow
from app.core.i18n import Lang
from app.grids.models import GridCell
from app.grids.schemas import CellRef
from app.photos.models import Photo
from app.photos.service import photos_of
from app.reports.models import STATUS_LABELS_ZH, Case, CaseContact, Status
from app.reports.schemas import CaseOut, DuplicateRef, PhotoOut
from app.routing.rules import ChainCell, Decision, Rule
from app.routing.schemas import RoutingOut
from app.units.models import Unit
from app.workflow import clock
from app.workflow.calendar import WorkCalendar


def photo_out(photo: Photo, private: bool = True) -> PhotoOut:
    """A photo's facts; without ``private``, its EXIF position, time and file name are left out."""
    gps = {"lat": photo.gps_lat, "lon": photo.gps_lon} if private and photo.gps_lat is not None \
        and photo.gps_lon is not None else None
    return PhotoOut(id=photo.id, stage=photo.stage, sha256=photo.sha256, width=photo.width, height=photo.height,
                    format=photo.format, size_bytes=photo.size_bytes, taken_at=photo.taken_at if private else None,
                    gps=gps, distance_m=photo.distance_m, flags=list(photo.flags),
                    filename=photo.original_filename if private else None,
                    url=f"/api/v1/photos/{photo.id}", thumbnail_url=f"/api/v1/photos/{photo.id}/thumbnail",
                    created_at=photo.created_at)


async def cases_out(session: AsyncSession, cases: Sequence[Case], lang: Lang, calendar: WorkCalendar,
                    duplicates: list[DuplicateRef] | None = None, private: bool = True,
                    contacts: bool = False) -> list[CaseOut]:
    """Cases with their cell, unit, category, photos and routing explanation, in a fixed number of queries.

    ``private`` shows each photo's EXIF position, time and file name (where the worker stood, and
    when): for the command centre and grid workers, not for unit staff or third-party servers.
    """
    if not cases:
        return []
    cells = {c.id: c for c in (await session.execute(
        select(GridCell).where(GridCell.id.in_({c.grid_id for c in cases})))).scalars()}
    matched_names = dict((await session.execute(select(GridCell.code, GridCell.name).where(
        GridCell.code.in_({c.routing_cell_code for c in cases})))).all())
    unit_ids = {u for c in cases for u in (c.unit_id, c.routed_unit_id) if u is not None}
    units = {u.id: u for u in (await session.execute(select(Unit).where(Unit.id.in_(unit_ids)))).scalars()} \
        if unit_ids else {}
    categories = {c.code: c for c in (await session.execute(
        select(Category).where(Category.code.in_({c.category_code for c in cases})))).scalars()}
    photos = await photos_of(session, [c.id for c in cases])
    people = {p.case_id: {k: getattr(p, k) for k in CaseContact.FIELDS} for p in (await session.execute(
        select(CaseContact).where(CaseContact.case_id.in_([c.id for c in cases])))).scalars()} if contacts else {}
    now = utcnow()
    out = []
    for case in cases:
        cell = cells[case.grid_id]
        unit = units.get(case.unit_id) if case.unit_id is not None else None
        category = categories[case.category_code]
        chain_cell = ChainCell(cell.id, cell.code, cell.name, cell.level)
        matched = chain_cell if case.routing_cell_code == cell.code else \
            ChainCell(0, case.routing_cell_code, matched_names.get(case.routing_cell_code, case.routing_cell_code), 0)
        routed = units.get(case.routed_unit_id) if case.routed_unit_id is not None else None
        decision = Decision(rule=Rule(case.routing_rule), cell=chain_cell,
                            matched_cell=None if case.routing_rule == Rule.none.value or routed is None else matched,
                            assignment_id=case.routing_assignment_id, unit_id=case.routed_unit_id,
                            unit_name=routed.name if routed else None, category_code=case.category_code)
        status = Status(case.status)
        out.append(CaseOut(
            id=case.id, tracking_code=case.tracking_code, status=status,
            status_label=STATUS_LABELS_ZH[status] if lang == "zh" else status.value.replace("_", " "),
            source=case.source, category_code=case.category_code,
            category_name=category.name_zh if lang == "zh" else category.name_en, description=case.description,
            address=case.address, lat=case.lat, lon=case.lon, location_source=case.location_source,
            coord_system=case.coord_system,
            grid=CellRef(id=cell.id, code=cell.code, name=cell.name, level=cell.level, kind=cell.kind),
            unit=UnitRef(id=unit.id, name=unit.name) if unit else None,
            routing=RoutingOut(cell_code=case.routing_cell_code, assignment_id=case.routing_assignment_id,
                               rule=Rule(case.routing_rule), inherited=decision.inherited,
                               explanation=decision.explanation(lang)),
            priority=case.priority, due_at=case.due_at, light=clock.case_light(case, calendar, now),
            photos=[photo_out(p, private) for p in photos[case.id]], flags=list(case.flags), observed_at=case.observed_at,
            self_handled=case.self_handled, version=case.version, created_at=case.created_at,
            updated_at=case.updated_at, possible_duplicates=duplicates, attributes=case.attributes,
            media_url=case.media_url, contact=people.get(case.id)))
    return out


def sees_contacts(principal: object) -> bool:
    """Whether a caller sees an Open311 reporter's contact details: the command centre only."""
    return getattr(principal, "role", None) in (Role.dispatcher, Role.supervisor, Role.admin)


def sees_private_evidence(principal: object) -> bool:
    """Whether a caller sees photos' EXIF positions, times and file names (see :func:`cases_out`)."""
    role = getattr(principal, "role", None)
    return role is not None and role is not Role.unit_staff
