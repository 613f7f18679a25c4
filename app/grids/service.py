"""Use cases of the grid domain: locate points, get, create, edit and list cells. Imports are
app.grids.imports; what every write reads and locks first is app.grids.store."""

from __future__ import annotations

import asyncio
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import AppError, NotFound, ValidationProblem
from app.core.i18n import Text
from app.grids.geojson import ImportErrors, parse_features
from app.grids.imports import ImportOutcome, import_features
from app.grids.index import CellRef, CellRow, GridIndex, GridIndexCache
from app.grids.models import GridCell
from app.grids.schemas import CellCreate, CellOut, CellUpdate
from app.grids.store import (
    GRID,
    bump_revision,
    current_revision,
    existing_cells,
    geometry_columns,
    lock_grid,
    siblings,
)
from app.grids.topology import Shape, outside_parent, sibling_overlaps

__all__ = [  # what callers of the grid domain use (the router, the CLI, the demo, routing)
    "GRID",
    "ImportOutcome",
    "bump_revision",
    "cell_out",
    "create_cell",
    "current_revision",
    "get_cell",
    "grid_index",
    "import_features",
    "list_cells",
    "locate",
    "lock_grid",
    "oriented_geojson",
    "update_cell",
]


class OutsideServiceArea(AppError):
    status, code, title = 422, "outside_service_area", "The point is outside the service area"
    title_zh = "该位置不在服务区域内"


class GridCodeTaken(AppError):
    status, code, title = 409, "grid_code_taken", "A grid cell with that code exists"
    title_zh = "已有此编码的网格"


async def _load_rows(session: AsyncSession) -> list[CellRow]:
    rows = await session.execute(
        select(
            GridCell.id,
            GridCell.parent_id,
            GridCell.code,
            GridCell.name,
            GridCell.level,
            GridCell.kind,
            GridCell.geometry,
            GridCell.path,
        ).order_by(GridCell.id)
    )
    return [CellRow(*r) for r in rows]


async def grid_index(session: AsyncSession, cache: GridIndexCache) -> GridIndex:
    """This process's index, rebuilt first if another request or process changed the grid."""
    revision = await current_revision(session)
    return await cache.get(revision, lambda: _load_rows(session))


async def locate(session: AsyncSession, cache: GridIndexCache, lon: float, lat: float) -> list[CellRef]:
    """Cells containing (lon, lat) WGS-84, deepest first; 422 ``outside_service_area`` when none."""
    chain = (await grid_index(session, cache)).locate(lon, lat)
    if not chain:
        raise OutsideServiceArea(
            Text(
                f"({lat:.6f}, {lon:.6f}) 不在任何顶级网格内",
                f"({lat:.6f}, {lon:.6f}) is outside every top-level grid cell",
            )
        )
    return chain


async def get_cell(session: AsyncSession, cell_id: int) -> GridCell:
    cell = await session.get(GridCell, cell_id)
    if cell is None:
        raise NotFound(Text(f"没有编号为 {cell_id} 的网格", f"No grid cell with id {cell_id}"))
    return cell


async def create_cell(session: AsyncSession, data: CellCreate, max_features: int) -> GridCell:
    """One cell from a GeoJSON geometry, through the same checks as an import."""
    parent_code = None
    if data.parent_id is not None:
        parent_code = (await get_cell(session, data.parent_id)).code
    if await existing_cells(session, [data.code]):
        raise GridCodeTaken(
            Text(f"编码为 {data.code!r} 的网格已存在", f"A grid cell with code {data.code!r} exists")
        )
    feature = {
        "type": "Feature",
        "geometry": data.geometry,
        "properties": {
            "code": data.code,
            "name": data.name,
            "level": data.level,
            "kind": data.kind,
            "parent_code": parent_code,
        },
    }
    try:
        await import_features(session, [feature], data.coord_system, max_features, repair=False)
    except ValidationProblem as exc:  # point at the body's fields, not at an import's features
        errors = [{k: v for k, v in e.items() if k not in ("index", "field")} for e in exc.extra["errors"]]
        for e in errors:
            loc = [p for p in e["loc"][2:] if p != "properties"]
            e["loc"] = ["parent_id"] if loc == ["parent_code"] else loc
        raise ValidationProblem(errors) from exc
    return (await existing_cells(session, [data.code]))[data.code]


async def update_cell(session: AsyncSession, cell_id: int, data: CellUpdate) -> GridCell:
    """Rename a cell, change its kind, or give it a new geometry, checked like an import's against its
    siblings, its parent and its children (under the grid's write lock, :func:`lock_grid`). 404, 422."""
    cell = await get_cell(session, cell_id)
    fields = data.model_dump(exclude_unset=True)
    if fields.get("geometry") is not None:
        feature = {
            "type": "Feature",
            "geometry": fields["geometry"],
            "properties": {"code": cell.code, "name": cell.name},
        }
        try:
            # CPU-bound like an import's parsing: off the event loop, and before the lock is taken.
            spec = (await asyncio.to_thread(parse_features, [feature], data.coord_system, 1, False))[0]
        except ImportErrors as exc:
            errors = [{**e, "loc": ["geometry"]} for e in exc.errors]
            raise ValidationProblem(errors) from exc
        # Siblings, parent and children are read after the lock; a cell's parent never changes.
        await lock_grid(session)
        await _check_new_geometry(session, cell, spec.geometry)
        for key, value in geometry_columns(spec.geometry).items():
            setattr(cell, key, value)
        await bump_revision(session)
    if fields.get("name") is not None:
        cell.name = fields["name"]
    if "kind" in fields:
        cell.kind = fields["kind"]
    cell.updated_at = utcnow()
    await session.flush()
    return cell


async def list_cells(
    session: AsyncSession,
    page: Page,
    code: str | None = None,
    parent_id: int | None = None,
    level: int | None = None,
    under: int | None = None,
) -> list[GridCell]:
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
    around = await siblings(session, cell.parent_id, exclude=cell.id)
    for _, other, share in sibling_overlaps([*around, me]):
        errors.append(
            {
                "loc": ["geometry"],
                "msg": f"overlaps sibling cell {other!r} over {share:.1%}",
                "type": "cell_overlap",
            }
        )
    if cell.parent_id is not None:
        parent = await get_cell(session, cell.parent_id)
        for _, share in outside_parent(shapely.from_wkb(parent.geometry), [me]):
            errors.append(
                {
                    "loc": ["geometry"],
                    "msg": f"{share:.1%} of the cell lies outside its parent {parent.code!r}",
                    "type": "outside_parent",
                }
            )
    children = [Shape(s.code, s.geometry, True) for s in await siblings(session, cell.id)]
    for code, share in outside_parent(geometry, children):
        errors.append(
            {
                "loc": ["geometry"],
                "msg": f"child cell {code!r} would lie {share:.1%} outside",
                "type": "children_outside",
            }
        )
        if len(errors) >= 20:
            break
    if errors:
        raise ValidationProblem(errors)


def oriented_geojson(wkb: bytes) -> dict[str, Any]:
    """A stored geometry (WKB) as a GeoJSON geometry object, its rings wound as RFC 7946 section 3.1.6
    says: exteriors counter-clockwise, holes clockwise. Imports store cells wound so already
    (app.grids.geojson); cells stored before that rule are wound here, on the way out."""
    geometry = shapely.geometry.mapping(shapely.orient_polygons(shapely.from_wkb(wkb)))
    return {"type": geometry["type"], "coordinates": _lists(geometry["coordinates"])}


def cell_out(cell: GridCell, with_geometry: bool) -> CellOut:
    return CellOut(
        id=cell.id,
        code=cell.code,
        name=cell.name,
        level=cell.level,
        kind=cell.kind,
        parent_id=cell.parent_id,
        bbox=[cell.min_lon, cell.min_lat, cell.max_lon, cell.max_lat],
        area_m2=round(cell.area_m2, 1),
        geometry=oriented_geojson(cell.geometry) if with_geometry else None,
        created_at=cell.created_at,
        updated_at=cell.updated_at,
    )


def _lists(value: Any) -> Any:
    if isinstance(value, (tuple, list)):
        return [_lists(v) for v in value]
    return value
