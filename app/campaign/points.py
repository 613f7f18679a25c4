"""Inspection points (点位): created one by one or imported from GeoJSON, placed in their cell by the grid
index, and their duties (定岗定责: responsible unit, lead unit, point chief, an item's own unit).

A point's cell is the deepest cell containing its representative point (app.campaign.geometry); a point
outside every top-level cell is refused (422 ``outside_service_area``). An import is all or nothing: every
feature is checked and placed before anything is written, and a dry run answers what would be created and
changed without writing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from app.auth.models import User
from app.campaign import geometry
from app.campaign.checklists import active_edition, checklists
from app.campaign.models import ItemDuty, Point, Round, Visit
from app.campaign.schemas import DutyIn, DutyOut, PointIn, PointOut, PointPatch
from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import AppError, Conflict, NotFound, ValidationProblem
from app.core.schemas import text_problem
from app.geo.coords import CoordSystem
from app.grids import service as grids
from app.grids.directory import directory
from app.grids.index import CellRef, GridIndexCache
from app.grids.models import subtree
from app.grids.schemas import CellRef as CellOut
from app.units.book import units
from app.units.schemas import UnitRef


class PointCodeTaken(AppError):
    status, code, title = 409, "point_code_taken", "A point with that code exists"
    title_zh = "点位编码已存在"


class PointInUse(Conflict):
    code, title = "point_in_use", "The point has visits still to make"
    title_zh = "该点位仍有待完成的测评"


def _problem(loc: list[Any], msg: str, type_: str) -> ValidationProblem:
    return ValidationProblem([{"loc": loc, "msg": msg, "type": type_}], code=None)


async def point_type_codes(session: AsyncSession) -> set[str]:
    """Point type codes of the active edition (409 ``no_active_edition`` when none is)."""
    return set(await checklists(session, (await active_edition(session)).id))


async def check_units(session: AsyncSession, named: dict[str, int | None]) -> None:
    """422 naming each field whose unit id is not a unit."""
    known = await units(session)
    bad = [field for field, unit_id in named.items() if unit_id is not None and unit_id not in known]
    if bad:
        raise ValidationProblem(
            [
                {"loc": field.split("."), "msg": "no unit with that id", "type": "unknown_unit"}
                for field in bad
            ]
        )


def place(
    lat: float | None, lon: float | None, raw: dict[str, Any] | None, coord_system: CoordSystem
) -> geometry.Placed:
    """The geometry given by ``lat``+``lon`` or by GeoJSON ``raw`` (exactly one); 422 naming the field."""
    if raw is not None:
        if lat is not None or lon is not None:
            raise _problem(["geometry"], "give lat/lon or a geometry, not both", "location_ambiguous")
        try:
            return geometry.parse(raw, coord_system)
        except geometry.GeometryProblem as exc:
            raise _problem(["geometry"], exc.msg, exc.type) from exc
    if lat is None or lon is None:
        raise _problem(
            ["lat" if lat is None else "lon"], "lat and lon (or a geometry) are required", "missing"
        )
    return geometry.from_lat_lon(lat, lon, coord_system)


async def cell_of(session: AsyncSession, cache: GridIndexCache, placed: geometry.Placed) -> CellRef:
    """The deepest cell containing the representative point; 422 ``outside_service_area``."""
    return (await grids.locate(session, cache, placed.lon, placed.lat))[0]


def set_place(point: Point, placed: geometry.Placed, cell: CellRef, coord_system: CoordSystem) -> None:
    point.geometry, point.geometry_kind = placed.geojson, placed.kind
    point.lat, point.lon, point.coord_system = placed.lat, placed.lon, coord_system.value
    point.grid_id, point.grid_path = cell.id, cell.path


async def _code_free(session: AsyncSession, code: str, but: int | None = None) -> None:
    query = select(Point.id).where(Point.code == code, Point.deleted_at.is_(None))
    if but is not None:
        query = query.where(Point.id != but)
    if (await session.execute(query)).first() is not None:
        raise PointCodeTaken(f"A point with code {code!r} exists")


async def create_point(session: AsyncSession, cache: GridIndexCache, data: PointIn) -> Point:
    """A new point; 422 ``unknown_point_type``/``unknown_unit``/``outside_service_area``, 409 ``point_code_taken``."""
    if data.type not in await point_type_codes(session):
        raise _problem(["type"], f"no point type {data.type!r} in the active edition", "unknown_point_type")
    await check_units(session, {"unit_id": data.unit_id})
    placed = place(data.lat, data.lon, data.geometry, data.coord_system)
    cell = await cell_of(session, cache, placed)
    await _code_free(session, data.code)
    now = utcnow()
    point = Point(
        code=data.code,
        name=data.name,
        type_code=data.type,
        tier=data.tier,
        reported=data.reported,
        address=data.address,
        unit_id=data.unit_id,
        created_at=now,
        updated_at=now,
    )
    set_place(point, placed, cell, data.coord_system)
    session.add(point)
    await session.flush()
    return point


async def get_point(session: AsyncSession, point_id: int) -> Point:
    point = (
        await session.execute(select(Point).where(Point.id == point_id, Point.deleted_at.is_(None)))
    ).scalar_one_or_none()
    if point is None:
        raise NotFound(f"No point with id {point_id}")
    return point


async def update_point(session: AsyncSession, cache: GridIndexCache, point: Point, data: PointPatch) -> Point:
    given = data.model_fields_set
    if "type" in given and data.type is not None and data.type not in await point_type_codes(session):
        raise _problem(["type"], f"no point type {data.type!r} in the active edition", "unknown_point_type")
    if {"lat", "lon", "geometry"} & given:
        placed = place(data.lat, data.lon, data.geometry, data.coord_system)
        set_place(point, placed, await cell_of(session, cache, placed), data.coord_system)
    for name, column in (("name", "name"), ("type", "type_code"), ("tier", "tier"), ("reported", "reported")):
        value = getattr(data, name)
        if name in given and value is not None:
            setattr(point, column, value)
    if "address" in given:
        point.address = data.address
    point.updated_at = utcnow()
    await session.flush()
    return point


async def delete_point(session: AsyncSession, point: Point) -> None:
    """Take the point out of lists and samples (its visits keep naming it); 409 ``point_in_use`` while a
    draft or open round still has a visit to make there."""
    waiting = await session.execute(
        select(Visit.id)
        .join(Round, Round.id == Visit.round_id)
        .where(Visit.point_id == point.id, Visit.status == "pending", Round.status.in_(("draft", "open")))
        .limit(1)
    )
    if waiting.first() is not None:
        raise PointInUse("A draft or open round still has a visit to make at this point; close it first")
    point.deleted_at = point.updated_at = utcnow()
    await session.flush()


async def set_duty(session: AsyncSession, point: Point, data: DutyIn) -> None:
    """Replace the point's duty; 422 naming an unknown unit, user or item (items of the point's type in the
    active edition)."""
    await check_units(
        session,
        {"unit_id": data.unit_id, "lead_unit_id": data.lead_unit_id}
        | {f"items.{code}": unit_id for code, unit_id in data.items.items()},
    )
    if data.chief_user_id is not None and await session.get(User, data.chief_user_id) is None:
        raise _problem(["chief_user_id"], "no user with that id", "unknown_user")
    found = await checklists(session, (await active_edition(session)).id, {point.type_code})
    codes = {i.code for i in found[point.type_code].items} if point.type_code in found else set()
    unknown = [code for code in data.items if code not in codes]
    if unknown:
        raise ValidationProblem(
            [
                {
                    "loc": ["items", code],
                    "msg": f"no item {code} in the checklist of {point.type_code}",
                    "type": "unknown_item",
                    "item": code,
                }
                for code in unknown
            ]
        )
    point.unit_id, point.lead_unit_id = data.unit_id, data.lead_unit_id
    point.chief_name, point.chief_phone, point.chief_user_id = (
        data.chief_name,
        data.chief_phone,
        data.chief_user_id,
    )
    point.updated_at = utcnow()
    await session.execute(delete(ItemDuty).where(ItemDuty.point_id == point.id))
    session.add_all(
        ItemDuty(point_id=point.id, item_code=c, unit_id=u) for c, u in sorted(data.items.items())
    )
    await session.flush()


async def item_duties(session: AsyncSession, point_ids: Sequence[int]) -> dict[int, dict[str, int]]:
    """Per point, item code -> its own responsible unit."""
    out: dict[int, dict[str, int]] = {p: {} for p in point_ids}
    if point_ids:
        rows = await session.execute(select(ItemDuty).where(ItemDuty.point_id.in_(list(point_ids))))
        for duty in rows.scalars():
            out[duty.point_id][duty.item_code] = duty.unit_id
    return out


async def present(session: AsyncSession, points: Sequence[Point]) -> list[PointOut]:
    """Points with their cell and duty (names from the per-process copies of cells and units)."""
    cells, all_units = await directory(session), await units(session)
    duties = await item_duties(session, [p.id for p in points])

    def unit(unit_id: int | None) -> UnitRef | None:
        info = all_units.get(unit_id) if unit_id is not None else None
        return UnitRef(id=info.id, name=info.name) if info else None

    out = []
    for p in points:
        cell = cells.by_id[p.grid_id]
        out.append(
            PointOut(
                id=p.id,
                code=p.code,
                name=p.name,
                type=p.type_code,
                tier=p.tier,
                reported=p.reported,
                address=p.address,
                lat=p.lat,
                lon=p.lon,
                geometry=p.geometry,
                grid=CellOut(id=cell.id, code=cell.code, name=cell.name, level=cell.level, kind=cell.kind),
                duty=DutyOut(
                    unit=unit(p.unit_id),
                    lead_unit=unit(p.lead_unit_id),
                    chief_name=p.chief_name,
                    chief_phone=p.chief_phone,
                    chief_user_id=p.chief_user_id,
                    items={code: u for code, uid in duties[p.id].items() if (u := unit(uid)) is not None},
                ),
                created_at=p.created_at,
                updated_at=p.updated_at,
            )
        )
    return out


@dataclass(frozen=True)
class PointFilter:
    type: str | None = None
    grid: int | None = None
    unit: int | None = None
    tier: str | None = None
    bbox: str | None = None
    q: str | None = None


async def _condition(session: AsyncSession, f: PointFilter) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = [Point.deleted_at.is_(None)]
    if f.type:
        parts.append(Point.type_code == f.type)
    if f.tier:
        parts.append(Point.tier == f.tier)
    if f.unit is not None:
        parts.append(
            or_(
                Point.unit_id == f.unit,
                Point.id.in_(select(ItemDuty.point_id).where(ItemDuty.unit_id == f.unit)),
            )
        )
    if f.grid is not None:
        cell = (await directory(session)).by_id.get(f.grid)
        parts.append(subtree(Point.grid_path, cell.path) if cell else Point.id.is_(None))
    if f.bbox:
        try:
            west, south, east, north = (float(v) for v in f.bbox.split(","))
        except ValueError:
            west = south = east = north = float("nan")
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise _problem(["query", "bbox"], "minLon,minLat,maxLon,maxLat in degrees", "bbox_invalid")
        parts.append(and_(Point.lon.between(west, east), Point.lat.between(south, north)))
    if f.q:  # case-insensitive on every database (SQLite's LIKE is, PostgreSQL's is not)
        if text_problem(f.q):
            raise _problem(["query", "q"], text_problem(f.q) or "", "text_invalid")
        parts.append(
            or_(Point.code.icontains(f.q, autoescape=True), Point.name.icontains(f.q, autoescape=True))
        )
    return and_(true(), *parts)


async def list_points(session: AsyncSession, page: Page, f: PointFilter) -> list[Point]:
    """A keyset page in id order (limit + 1 rows, so the caller knows whether another page follows)."""
    query = select(Point).where(await _condition(session, f))
    if page.after_id is not None:
        query = query.where(Point.id > page.after_id)
    return list((await session.execute(query.order_by(Point.id).limit(page.limit + 1))).scalars())
