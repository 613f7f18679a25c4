"""A failed item becomes a rectification case (整改), or adds to the one still open (多次整改).

Routing (定岗定责, docs/campaign.md "Points and duties"): the item's own responsible unit at that point, else
the point's responsible unit, else ordinary routing for the item's category at the case's place; a duty unit
that is no longer active is passed over. The case's ``routing`` says which rule chose the unit.

The case's place is the GPS of the failure's first geotagged photo when it lies within the evidence distance
(``GRID_PHOTO_FAR_M``) of the point's geometry, else the point's representative point, so a far photo is
flagged as on a report. The case opens through app.reports.opening, like every case: its first history row
and photos, then the workflow's filing steps (register and dispatch by the system when a unit is known).

The repeat rule: when the same item (by code) failed at the same point and its case is still open (not
closed, rejected or deleted), the failure adds a ``repeat`` history row with its photos to that case and
counts it in ``inspection.repeats`` instead of opening a second case. Submissions for one point are
serialised by a lock on the point's row (app.campaign.submission), so two visits at once cannot both open one.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from app.auth.permissions import Principal
from app.campaign import geometry
from app.campaign.models import Item, ItemDuty, Point, Result, Round, Visit
from app.cases.models import Case, Status
from app.categories.service import get_category
from app.core.errors import Conflict
from app.grids import service as grids
from app.grids.index import GridIndexCache
from app.photos.models import Photo
from app.photos.service import Ingested, attach
from app.reports.opening import Opening, Place, new_case, take_filing_steps
from app.reports.placement import clock_flags
from app.routing.rules import ChainCell, Decision, Duty, Rule, route
from app.routing.service import Routed, candidates_on
from app.units.book import units
from app.workflow.actions import ActionContext
from app.workflow.history import new_event

CLOSED = (Status.closed.value, Status.rejected.value)


@dataclass(frozen=True)
class Failure:
    """One noncompliant result to turn into a case: its row, its item, its photos (in the order named)."""

    result: Result
    item: Item
    photos: list[Ingested]


@dataclass(frozen=True)
class Outcome:
    case: Case
    repeat: bool
    photos: list[Photo]  # the photo rows made for this failure, in the order of ``Failure.photos``


def place_of(point: Point, photos: Sequence[Ingested], far_m: float) -> Place:
    """Where the failure's case is (module docstring), WGS-84."""
    for photo in photos:
        f = photo.facts
        if f.gps_lat is not None and f.gps_lon is not None:
            if geometry.distance_m(point.geometry, f.gps_lat, f.gps_lon) <= far_m:
                return Place(f.gps_lat, f.gps_lon, f.gps_lat, f.gps_lon, "wgs84", "exif")
            break
    return Place(point.lat, point.lon, point.lat, point.lon, "wgs84", "client")


async def duty_of(session: AsyncSession, point: Point, item_code: str) -> tuple[Rule, int, str] | None:
    """The duty rule that answers for ``item_code`` at ``point`` and its active unit (id, name), if any."""
    all_units = await units(session)
    own = await session.get(ItemDuty, (point.id, item_code))
    for rule, unit_id in ((Rule.duty_item, own.unit_id if own else None), (Rule.duty_point, point.unit_id)):
        info = all_units.get(unit_id) if unit_id is not None else None
        if info is not None and info.active:
            return rule, info.id, info.name
    return None


async def route_failure(
    session: AsyncSession, cache: GridIndexCache, point: Point, item: Item, place: Place
) -> Routed:
    """Who answers for a failure of ``item`` at ``point``, its case at ``place`` (module docstring); 422
    ``outside_service_area`` when the place is outside every cell."""
    # A retired category still takes the failures of the checklist items that name it.
    category = await get_category(session, item.category_code, active_only=False)
    chain = await grids.locate(session, cache, place.lon, place.lat)
    duty = await duty_of(session, point, item.code)
    if duty is None:  # ordinary routing (app.routing.rules), as app.routing.service does for a report
        cells = [ChainCell(c.id, c.code, c.name, c.level) for c in chain]
        decision = route(cells, category.code, await candidates_on(session, [c.id for c in chain]))
        return Routed(chain=chain, category=category, decision=decision)
    rule, unit_id, unit_name = duty
    here = ChainCell(chain[0].id, chain[0].code, chain[0].name, chain[0].level)
    decision = Decision(
        rule=rule,
        cell=here,
        matched_cell=here,
        assignment_id=None,
        unit_id=unit_id,
        unit_name=unit_name,
        category_code=item.category_code,
        duty=Duty(point.code, point.name, item.code if rule is Rule.duty_item else None),
    )
    return Routed(chain=chain, category=category, decision=decision)


async def open_case_of(session: AsyncSession, point: Point, item_code: str) -> Case | None:
    """The open case of an earlier failure of ``item_code`` at ``point``, if there is one (the oldest)."""
    found = await session.execute(
        select(Case)
        .join(Result, Result.case_id == Case.id)
        .join(Visit, Visit.id == Result.visit_id)
        .where(
            Visit.point_id == point.id,
            Result.item_code == item_code,
            Case.status.not_in(CLOSED),
            Case.deleted_at.is_(None),
        )
        .order_by(Case.id)
        .limit(1)
    )
    return found.scalars().first()


def describe(point: Point, result: Result) -> str:
    note = f"：{result.note.strip()}" if result.note and result.note.strip() else ""
    return f"{point.name}({point.code}) {result.item_code} {result.item_text}{note}"[:4000]


async def _repeat(
    session: AsyncSession,
    ctx: ActionContext,
    principal: Principal,
    case: Case,
    failure: Failure,
    visit: Visit,
    point: Point,
    now: dt.datetime,
) -> list[Photo]:
    event = new_event(
        case,
        "repeat",
        principal,
        case.status,
        case.status,
        note=describe(point, failure.result)[:2000],
        unit_id=case.unit_id,
        data={"round_id": visit.round_id, "visit_id": visit.id, "item": failure.result.item_code},
        created_at=now,
    )
    session.add(event)
    inspection = dict(case.inspection or {})
    inspection["repeats"] = int(inspection.get("repeats", 0)) + 1
    case.inspection = inspection
    flag_modified(case, "inspection")
    case.updated_at = now
    try:
        await session.flush()
    except StaleDataError as exc:  # the unit acted on the case at the same moment
        raise Conflict(
            f"Case {case.tracking_code} changed while this visit was submitted; submit it again",
            code="version_conflict",
        ) from exc
    await ctx.workshop.store(failure.photos, ctx.hooks, ctx.db)
    return await attach(
        session,
        case_id=case.id,
        photos=failure.photos,
        stage="report",
        uploader_id=principal.user.id if principal.user else None,
        event_id=event.id,
        point=(case.lat, case.lon),
        reported_at=now,
        settings=ctx.settings,
    )


async def handle(
    session: AsyncSession,
    ctx: ActionContext,
    cache: GridIndexCache,
    principal: Principal,
    round_: Round,
    visit: Visit,
    point: Point,
    failure: Failure,
    now: dt.datetime,
) -> Outcome:
    """Open the failure's case, or add it to the item's open case at the point (module docstring)."""
    open_case = await open_case_of(session, point, failure.result.item_code)
    if open_case is not None:
        rows = await _repeat(session, ctx, principal, open_case, failure, visit, point, now)
        return Outcome(open_case, True, rows)
    place = place_of(point, failure.photos, ctx.settings.photos.photo_far_m)
    if not (await grids.grid_index(session, cache)).locate(place.lon, place.lat):
        place = place_of(point, [], 0)  # the photo was near the point but across the service area's edge
    routed = await route_failure(session, cache, point, failure.item, place)
    item = failure.result
    opening = Opening(
        source="inspection",
        category=routed.category,
        description=describe(point, item),
        address=point.address,
        place=place,
        cell=routed.chain[0],
        decision=routed.decision,
        reporter=principal,
        observed_at=visit.observed_at,
        flags=clock_flags(visit.observed_at, now, ctx.settings),
        round_id=round_.id,
        inspection={
            "round_id": round_.id,
            "visit_id": visit.id,
            "point": {"id": point.id, "code": point.code, "name": point.name},
            "item": {"code": item.item_code, "text": item.item_text},
            "repeats": 0,
        },
        time_limit=(round_.rectify_hours, "working_hours") if round_.rectify_hours else None,
    )
    case = new_case(ctx.settings, opening, now)
    session.add(case)
    await session.flush()
    await take_filing_steps(session, ctx, case, principal, failure.photos, [], routed.decision, now)
    rows = list(
        (await session.execute(select(Photo).where(Photo.case_id == case.id).order_by(Photo.id))).scalars()
    )
    return Outcome(case, False, rows)
