"""A case as its caller sees it (docs/api.md "Fields that clients rely on"): one presenter for every endpoint
that answers cases, deciding from the caller (app.cases.permissions) what they see.

Names come from the per-process copies of the grid, the catalogue and the units (app.core.revisions), so a
case costs one statement for its photos (and one for Open311 contacts, for the command centre) whatever the
number of cases.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.permissions import Principal
from app.cases.models import Case, CaseContact, Status, status_label
from app.cases.pending import pending_of
from app.cases.permissions import sees_contacts, sees_private_evidence
from app.cases.schemas import CaseOut, DuplicateRef, InspectionRef, PhotoOut
from app.categories.book import book
from app.core.db import utcnow
from app.core.i18n import Lang
from app.deadlines import clock
from app.deadlines.calendar import WorkCalendar
from app.geo.coords import CoordSystem
from app.grids.directory import Directory, directory
from app.grids.schemas import CellRef
from app.photos.models import Photo
from app.photos.service import photos_of
from app.routing.rules import ChainCell, Decision, Duty, Rule
from app.routing.schemas import RoutingOut
from app.units.book import UnitInfo, units
from app.units.schemas import UnitRef


def photo_out(photo: Photo, viewer: Principal | None) -> PhotoOut:
    """A photo's facts; its EXIF position, time and file name only for callers who see private evidence."""
    private = sees_private_evidence(viewer)
    gps = (
        {"lat": photo.gps_lat, "lon": photo.gps_lon}
        if private and photo.gps_lat is not None and photo.gps_lon is not None
        else None
    )
    return PhotoOut(
        id=photo.id,
        stage=photo.stage,
        sha256=photo.sha256,
        width=photo.width,
        height=photo.height,
        format=photo.format,
        size_bytes=photo.size_bytes,
        taken_at=photo.taken_at if private else None,
        gps=gps,
        distance_m=photo.distance_m,
        flags=list(photo.flags),
        filename=photo.original_filename if private else None,
        url=f"/api/v1/photos/{photo.id}",
        thumbnail_url=f"/api/v1/photos/{photo.id}/thumbnail",
        created_at=photo.created_at,
    )


def routing_out(case: Case, cells: Directory, all_units: dict[int, UnitInfo], lang: Lang) -> RoutingOut:
    """Why the case went where routing sent it, as it was decided at filing (its stored rule and cell)."""
    cell = cells.by_id[case.grid_id]
    here = ChainCell(cell.id, cell.code, cell.name, cell.level)
    matched_cell = cells.by_code.get(case.routing_cell_code)
    matched = (
        here
        if case.routing_cell_code == cell.code
        else ChainCell(
            0, case.routing_cell_code, matched_cell.name if matched_cell else case.routing_cell_code, 0
        )
    )
    routed = all_units.get(case.routed_unit_id) if case.routed_unit_id is not None else None
    point = (case.inspection or {}).get("point") or {}
    duty = (
        Duty(
            str(point.get("code", "")),
            str(point.get("name", "")),
            ((case.inspection or {}).get("item") or {}).get("code"),
        )
        if case.routing_rule in (Rule.duty_item.value, Rule.duty_point.value)
        else None
    )
    decision = Decision(
        rule=Rule(case.routing_rule),
        cell=here,
        matched_cell=None if case.routing_rule == Rule.none.value or routed is None else matched,
        assignment_id=case.routing_assignment_id,
        unit_id=case.routed_unit_id,
        unit_name=routed.name if routed else None,
        category_code=case.category_code,
        duty=duty,
    )
    return RoutingOut(
        cell_code=case.routing_cell_code,
        assignment_id=case.routing_assignment_id,
        rule=Rule(case.routing_rule),
        inherited=decision.inherited,
        explanation=decision.explanation(lang),
    )


async def present(
    session: AsyncSession,
    cases: Sequence[Case],
    viewer: Principal | None,
    lang: Lang,
    calendar: WorkCalendar,
    duplicates: list[DuplicateRef] | None = None,
    now: dt.datetime | None = None,
    photos: dict[int, list[Photo]] | None = None,
) -> list[CaseOut]:
    """``cases`` as ``viewer`` sees them: cell, unit, category, routing explanation, deadline and light, photos
    (EXIF details only for private-evidence viewers), Open311 contacts (command centre only).

    ``duplicates`` is the filing answer's list of nearby open cases; ``photos`` the cases' photos when the
    caller read them already (``{case_id: [Photo]}``, oldest first), else they are read here. Cases must be visible to ``viewer``
    (app.cases.permissions decides; this decides only what of them is shown).
    """
    if not cases:
        return []
    cells, catalogue, all_units = await directory(session), await book(session), await units(session)
    ids = [c.id for c in cases]
    photos = photos if photos is not None else await photos_of(session, ids)
    people = await contacts_of(session, ids) if sees_contacts(viewer) else {}
    waiting = await pending_of(session, cases)
    now = now or utcnow()
    out = []
    for case in cases:
        cell = cells.by_id[case.grid_id]
        unit = all_units.get(case.unit_id) if case.unit_id is not None else None
        category = catalogue.categories[case.category_code]
        out.append(
            CaseOut(
                id=case.id,
                tracking_code=case.tracking_code,
                status=Status(case.status),
                status_label=status_label(case.status, lang),
                source=case.source,
                category_code=case.category_code,
                category_name=category.name(lang),
                description=case.description,
                address=case.address,
                lat=case.lat,
                lon=case.lon,
                location_source=case.location_source,
                coord_system=CoordSystem(case.coord_system),
                grid=CellRef(id=cell.id, code=cell.code, name=cell.name, level=cell.level, kind=cell.kind),
                unit=UnitRef(id=unit.id, name=unit.name) if unit else None,
                routing=routing_out(case, cells, all_units, lang),
                priority=case.priority,
                due_at=case.due_at,
                deadline_met=case.resolved_on_time if case.resolved_at is not None else None,
                limit_used=_rounded(clock.used_fraction(case, calendar, now)),
                light=clock.case_light(case, calendar, now),
                pending=waiting.get(case.id, []),
                photos=[photo_out(p, viewer) for p in photos[case.id]],
                flags=list(case.flags),
                observed_at=case.observed_at,
                self_handled=case.self_handled,
                version=case.version,
                created_at=case.created_at,
                updated_at=case.updated_at,
                possible_duplicates=duplicates,
                attributes=case.attributes,
                media_url=case.media_url,
                inspection=InspectionRef.model_validate(case.inspection) if case.inspection else None,
                contact=people.get(case.id),
            )
        )
    return out


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


async def contacts_of(session: AsyncSession, case_ids: Sequence[int]) -> dict[int, dict[str, str | None]]:
    """Open311 reporters' contact details by case id (only cases filed with some)."""
    rows = (
        await session.execute(select(CaseContact).where(CaseContact.case_id.in_(list(case_ids))))
    ).scalars()
    return {p.case_id: {k: getattr(p, k) for k in CaseContact.FIELDS} for p in rows}
