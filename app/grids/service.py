"""Use cases of the grid domain: import, create, edit, list and locate cells."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import AppError, NotFound, ValidationProblem
from app.geo.coords import CoordSystem
from app.grids.geojson import FeatureSpec, ImportErrors, parse_features
from app.grids.index import CellRef, CellRow, GridIndex, GridIndexCache, polygon_area_m2
from app.grids.models import GridCell, GridRevision
from app.grids.schemas import CellCreate, CellOut, CellUpdate
from app.grids.topology import Shape, outside_parent, sibling_overlaps

_CHUNK = 2000
MAX_PATH = 512  # grid_cells.path  # bound parameters per IN (...) stay far below SQLite's and asyncpg's limits


class OutsideServiceArea(AppError):
    status, code, title = 422, "outside_service_area", "The point is outside the service area"


class GridCodeTaken(AppError):
    status, code, title = 409, "grid_code_taken", "A grid cell with that code exists"


async def current_revision(session: AsyncSession) -> str:
    return (await session.execute(select(GridRevision.revision).where(GridRevision.id == 1))).scalar_one()


async def bump_revision(session: AsyncSession) -> str:
    """Mark the grid as changed so every process rebuilds its index on its next locate."""
    revision = uuid.uuid4().hex
    await session.execute(update(GridRevision).where(GridRevision.id == 1).values(revision=revision, updated_at=utcnow()))
    return revision


async def _load_rows(session: AsyncSession) -> list[CellRow]:
    rows = await session.execute(select(GridCell.id, GridCell.parent_id, GridCell.code, GridCell.name, GridCell.level,
                                        GridCell.kind, GridCell.geometry, GridCell.path).order_by(GridCell.id))
    return [CellRow(*r) for r in rows]


async def grid_index(session: AsyncSession, cache: GridIndexCache) -> GridIndex:
    """This process's index, rebuilt first if another request or process changed the grid."""
    revision = await current_revision(session)
    return await cache.get(revision, lambda: _load_rows(session))


async def locate(session: AsyncSession, cache: GridIndexCache, lon: float, lat: float) -> list[CellRef]:
    """Cells containing (lon, lat) WGS-84, deepest first; 422 ``outside_service_area`` when none."""
    chain = (await grid_index(session, cache)).locate(lon, lat)
    if not chain:
        raise OutsideServiceArea(f"({lat:.6f}, {lon:.6f}) is outside every top-level grid cell")
    return chain


def _geometry_columns(geom: BaseGeometry) -> dict[str, Any]:
    min_lon, min_lat, max_lon, max_lat = geom.bounds
    return {"geometry": shapely.to_wkb(geom), "min_lon": min_lon, "min_lat": min_lat, "max_lon": max_lon,
            "max_lat": max_lat, "area_m2": polygon_area_m2(geom)}


async def _existing(session: AsyncSession, codes: Sequence[str]) -> dict[str, GridCell]:
    found: dict[str, GridCell] = {}
    codes = list(codes)
    for start in range(0, len(codes), _CHUNK):
        rows = await session.execute(select(GridCell).where(GridCell.code.in_(codes[start:start + _CHUNK])))
        found.update({c.code: c for c in rows.scalars()})
    return found


def _refused(errors: list[dict[str, Any]]) -> ValidationProblem:
    return ValidationProblem(errors[:50], detail=f"{len(errors)} feature problem(s); nothing was imported")


def _err(spec: FeatureSpec, field: str, msg: str, type_: str) -> dict[str, Any]:
    return {"loc": ["features", spec.index, *field.split(".")], "index": spec.index, "msg": msg, "type": type_}


@dataclass
class ImportOutcome:
    created: list[str]  # codes, in insertion order
    repaired: list[dict[str, Any]]  # [{index, code, repaired: reason}]
    skipped: list[str]  # codes that existed already (on_existing="skip")


async def import_features(session: AsyncSession, doc: Any, coord_system: CoordSystem, max_features: int,
                          repair: bool = True, on_existing: str = "error") -> ImportOutcome:
    """Create every cell of a GeoJSON document, parents before children, or none of them.

    ``on_existing="skip"`` leaves cells whose code exists as they are (children in the file still
    hang under them) and lists them in the outcome; the default refuses the whole import.
    Geometry that is invalid only in ways that repairing cannot change on the ground (parts sharing
    an edge) is repaired when ``repair`` and reported in the outcome. Raises :class:`ValidationProblem` (422) listing
    each bad feature by index: invalid geometry, duplicate or existing codes, unknown
    ``parent_code``, parent cycles, a level not below its parent's.
    """
    try:
        # CPU-bound (shapely, datum shifts): off the event loop, so a large import stalls no one.
        specs = await asyncio.to_thread(parse_features, doc, coord_system, max_features, repair)
    except ImportErrors as exc:
        raise _refused(exc.errors) from exc
    by_code = {s.code: s for s in specs}
    wanted = set(by_code) | {s.parent_code for s in specs if s.parent_code} | {
        s.soft_parent_code for s in specs if s.soft_parent_code}
    existing = await _existing(session, sorted(wanted))
    skipped = [s.code for s in specs if s.code in existing]
    if on_existing == "skip":
        specs = [s for s in specs if s.code not in existing]
        by_code = {s.code: s for s in specs}
        errors = []
    else:
        errors = [_err(s, "properties.code", f"a grid cell with code {s.code!r} already exists "
                       "(import with on_existing=skip to keep it and add the rest)", "code_exists")
                  for s in specs if s.code in existing]
        skipped = []

    parent_of: dict[str, str | None] = {}
    for s in specs:
        if s.parent_code is not None:
            if s.parent_code not in by_code and s.parent_code not in existing:
                errors.append(_err(s, "properties.parent_code", f"unknown parent {s.parent_code!r}", "parent_unknown"))
            parent_of[s.code] = s.parent_code
        elif s.soft_parent_code in by_code or s.soft_parent_code in existing:
            parent_of[s.code] = s.soft_parent_code
        else:
            parent_of[s.code] = None
    if errors:
        raise _refused(errors)

    # Depth inside the file, detecting cycles; cells whose parent exists already start at depth 0.
    depth: dict[str, int] = {}
    for s in specs:
        trail: list[str] = []
        code: str | None = s.code
        while code is not None and code in by_code and code not in depth:
            if code in trail:
                raise _refused([_err(s, "properties.parent_code", "parent codes form a cycle", "parent_cycle")])
            trail.append(code)
            code = parent_of[code]
        base = depth[code] + 1 if code is not None and code in depth else 0
        for i, c in enumerate(reversed(trail)):
            depth[c] = base + i

    # Levels and paths for every cell before anything is written.
    level_of = {c.code: c.level for c in existing.values()}
    path_of = {c.code: c.path for c in existing.values()}
    ordered = sorted(specs, key=lambda spec: depth[spec.code])
    for s in ordered:
        parent = parent_of[s.code]
        parent_level = level_of[parent] if parent else 0
        level = s.level if s.level is not None else parent_level + 1
        if level <= parent_level:
            errors.append(_err(s, "properties.level", f"level {level} is not below its parent's ({parent_level})",
                               "level_invalid"))
        level_of[s.code] = max(level, parent_level + 1)
        path_of[s.code] = (path_of[parent] if parent else "/") + s.code + "/"
        if len(path_of[s.code]) > MAX_PATH:
            errors.append(_err(s, "properties.parent_code", f"the chain of codes above this cell is longer than "
                               f"{MAX_PATH} characters", "tree_too_deep"))
    if errors:
        raise _refused(errors)
    errors = await _topology_errors(session, specs, parent_of, existing)
    if errors:
        raise _refused(errors)

    id_of = {c.code: c.id for c in existing.values()}
    created: list[str] = []
    now = utcnow()
    for layer in sorted(set(depth.values())):
        rows = [{"code": s.code, "name": s.name, "level": level_of[s.code], "kind": s.kind,
                 "parent_id": id_of[parent_of[s.code]] if parent_of[s.code] else None, "path": path_of[s.code],
                 "created_at": now, "updated_at": now, **_geometry_columns(s.geometry)}
                for s in ordered if depth[s.code] == layer]
        for start in range(0, len(rows), _CHUNK):
            result = await session.execute(
                GridCell.__table__.insert().returning(GridCell.id, GridCell.code, sort_by_parameter_order=True),
                rows[start:start + _CHUNK])
            for cell_id, code in result:
                id_of[code] = cell_id
                created.append(code)
    if created:
        await bump_revision(session)
    return ImportOutcome(created=created, skipped=skipped,
                         repaired=[{"index": s.index, "code": s.code, "repaired": s.repaired} for s in specs if s.repaired])


async def _siblings(session: AsyncSession, parent_id: int | None, exclude: int | None = None) -> list[Shape]:
    query = select(GridCell.id, GridCell.code, GridCell.geometry).where(
        GridCell.parent_id.is_(None) if parent_id is None else GridCell.parent_id == parent_id)
    rows = (await session.execute(query)).all()
    return [Shape(code, shapely.from_wkb(wkb), False) for cid, code, wkb in rows if cid != exclude]


def _check_group(siblings: list[Shape], new: list[Shape], parent: BaseGeometry | None
                 ) -> tuple[list[tuple[str, str, float]], list[tuple[str, float]]]:
    return sibling_overlaps(siblings), outside_parent(parent, new) if parent is not None else []


async def _topology_errors(session: AsyncSession, specs: Sequence[FeatureSpec], parent_of: dict[str, str | None],
                           existing: dict[str, GridCell]) -> list[dict[str, Any]]:
    """Overlaps between siblings and children outside their parent (app.grids.topology), by feature."""
    by_code = {s.code: s for s in specs}
    groups: dict[str | None, list[FeatureSpec]] = {}
    for s in specs:
        groups.setdefault(parent_of[s.code], []).append(s)
    errors: list[dict[str, Any]] = []
    for parent, members in groups.items():
        new = [Shape(m.code, m.geometry, True) for m in members]
        old: list[Shape] = []
        if parent is None or parent in existing:
            old = await _siblings(session, existing[parent].id if parent else None)
        parent_geom = None
        if parent in existing:
            parent_geom = shapely.from_wkb(existing[parent].geometry)
        elif parent in by_code:
            parent_geom = by_code[parent].geometry
        overlaps, outside = await asyncio.to_thread(_check_group, old + new, new, parent_geom)
        for code, other, share in overlaps:
            errors.append(_err(by_code[code], "geometry", f"overlaps sibling cell {other!r} over {share:.1%} of the "
                               "smaller cell's area", "cell_overlap"))
        for code, share in outside:
            errors.append(_err(by_code[code], "geometry", f"{share:.1%} of the cell lies outside its parent "
                               f"{parent!r}", "outside_parent"))
    return errors


async def get_cell(session: AsyncSession, cell_id: int) -> GridCell:
    cell = await session.get(GridCell, cell_id)
    if cell is None:
        raise NotFound(f"No grid cell with id {cell_id}")
    return cell


async def create_cell(session: AsyncSession, data: CellCreate, max_features: int) -> GridCell:
    """One cell from a GeoJSON geometry, through the same checks as an import."""
    parent_code = None
    if data.parent_id is not None:
        parent_code = (await get_cell(session, data.parent_id)).code
    if (await _existing(session, [data.code])):
        raise GridCodeTaken(f"A grid cell with code {data.code!r} exists")
    feature = {"type": "Feature", "geometry": data.geometry,
               "properties": {"code": data.code, "name": data.name, "level": data.level, "kind": data.kind,
                              "parent_code": parent_code}}
    try:
        await import_features(session, [feature], data.coord_system, max_features, repair=False)
    except ValidationProblem as exc:  # point at the body's fields, not at an import's features
        errors = [{k: v for k, v in e.items() if k not in ("index", "field")} for e in exc.extra["errors"]]
        for e in errors:
            loc = [p for p in e["loc"][2:] if p != "properties"]
            e["loc"] = ["parent_id"] if loc == ["parent_code"] else loc
        raise ValidationProblem(errors) from exc
    return (await _existing(session, [data.code]))[data.code]


async def update_cell(session: AsyncSession, cell_id: int, data: CellUpdate) -> GridCell:
    cell = await get_cell(session, cell_id)
    fields = data.model_dump(exclude_unset=True)
    if fields.get("name") is not None:
        cell.name = fields["name"]
    if "kind" in fields:
        cell.kind = fields["kind"]
    if fields.get("geometry") is not None:
        feature = {"type": "Feature", "geometry": fields["geometry"], "properties": {"code": cell.code, "name": cell.name}}
        try:
            spec = parse_features([feature], data.coord_system, 1, repair=False)[0]
        except ImportErrors as exc:
            errors = [{**e, "loc": ["geometry"]} for e in exc.errors]
            raise ValidationProblem(errors) from exc
        await _check_new_geometry(session, cell, spec.geometry)
        for key, value in _geometry_columns(spec.geometry).items():
            setattr(cell, key, value)
        await bump_revision(session)
    cell.updated_at = utcnow()
    await session.flush()
    return cell


async def list_cells(session: AsyncSession, page: Page, code: str | None = None, parent_id: int | None = None,
                     level: int | None = None, under: int | None = None) -> list[GridCell]:
    query = select(GridCell).order_by(GridCell.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(GridCell.id > page.after_id)
    if code is not None:
        query = query.where(GridCell.code == code)
    if parent_id is not None:
        query = query.where(GridCell.parent_id == parent_id)
    if level is not None:
        query = query.where(GridCell.level == level)
    if under is not None:
        root = await get_cell(session, under)
        query = query.where(GridCell.path.startswith(root.path, autoescape=True))
    return list((await session.execute(query)).scalars())


async def _check_new_geometry(session: AsyncSession, cell: GridCell, geometry: BaseGeometry) -> None:
    """A cell's new shape must not overlap its siblings, leave its parent, or leave its children outside."""
    me = Shape(cell.code, geometry, True)
    errors = []
    siblings = await _siblings(session, cell.parent_id, exclude=cell.id)
    for _, other, share in sibling_overlaps([*siblings, me]):
        errors.append({"loc": ["geometry"], "msg": f"overlaps sibling cell {other!r} over {share:.1%}",
                       "type": "cell_overlap"})
    if cell.parent_id is not None:
        parent = await get_cell(session, cell.parent_id)
        for _, share in outside_parent(shapely.from_wkb(parent.geometry), [me]):
            errors.append({"loc": ["geometry"], "msg": f"{share:.1%} of the cell lies outside its parent "
                           f"{parent.code!r}", "type": "outside_parent"})
    children = [Shape(s.code, s.geometry, True) for s in await _siblings(session, cell.id)]
    for code, share in outside_parent(geometry, children):
        errors.append({"loc": ["geometry"], "msg": f"child cell {code!r} would lie {share:.1%} outside",
                       "type": "children_outside"})
        if len(errors) >= 20:
            break
    if errors:
        raise ValidationProblem(errors)


def cell_out(cell: GridCell, with_geometry: bool) -> CellOut:
    geometry = None
    if with_geometry:
        geometry = shapely.geometry.mapping(shapely.from_wkb(cell.geometry))
        geometry = {"type": geometry["type"], "coordinates": _lists(geometry["coordinates"])}
    return CellOut(id=cell.id, code=cell.code, name=cell.name, level=cell.level, kind=cell.kind,
                   parent_id=cell.parent_id, bbox=[cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat],
                   area_m2=round(cell.area_m2, 1), geometry=geometry, created_at=cell.created_at,
                   updated_at=cell.updated_at)


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    return value
