"""HTTP routes of the grid domain."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request

from app.core.deps import (
    MAX_DB_ID,
    BodyTimeout,
    IdPath,
    InvalidCursor,
    PageDep,
    SessionDep,
    SettingsDep,
    read_body,
)
from app.core.errors import NotFound, PayloadTooLarge, ValidationProblem
from app.core.http import takes_body
from app.core.openapi import errors
from app.geo.coords import CoordSystem, to_wgs84_point
from app.grids import service
from app.grids.geojson import loads_strict
from app.grids.permissions import GridEditor, GridReader
from app.grids.schemas import (
    CellCreate,
    CellList,
    CellOut,
    CellRef,
    CellUpdate,
    CoordSystemQuery,
    ImportResult,
    LatQuery,
    LocateOut,
    LonQuery,
    PointOut,
)
from app.grids.service import GridCodeTaken, OutsideServiceArea

router = APIRouter(prefix="/api/v1/grids", tags=["grids"])

IMPORT_EXAMPLE = [
    {
        "type": "Feature",
        "properties": {"adcode": 620802, "name": "崆峒区", "level": "district"},
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [[106.60, 35.50], [106.75, 35.50], [106.75, 35.60], [106.60, 35.60], [106.60, 35.50]]
            ],
        },
    }
]


@router.get(
    "/locate",
    response_model=LocateOut,
    summary="Cells containing a point, deepest first",
    responses=errors(OutsideServiceArea),
)
async def locate(
    request: Request,
    _: GridReader,
    session: SessionDep,
    lat: LatQuery,
    lon: LonQuery,
    coord_system: CoordSystemQuery = CoordSystem.wgs84,
) -> LocateOut:
    """The chain of cells containing (``lat``, ``lon``), deepest first.

    The point is converted to WGS-84 first when ``coord_system`` is ``gcj02`` or ``bd09``. A point
    on an edge shared by two cells goes to one of them (app.grids.index documents the rule).
    422 ``outside_service_area`` when the point is outside every top-level cell.
    """
    wlon, wlat = to_wgs84_point(lon, lat, coord_system)
    chain = await service.locate(session, request.app.state.grid_index, wlon, wlat)
    return LocateOut(
        chain=[CellRef(id=c.id, code=c.code, name=c.name, level=c.level, kind=c.kind) for c in chain],
        point=PointOut(lat=wlat, lon=wlon),
        coord_system=coord_system,
    )


@router.post(
    "/import",
    response_model=ImportResult,
    status_code=201,
    summary="Import cells from GeoJSON",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/geo+json": {
                    "schema": {"type": "object"},
                    "example": {"type": "FeatureCollection", "features": IMPORT_EXAMPLE},
                },
                "application/json": {"schema": {}, "example": IMPORT_EXAMPLE},
            },
        }
    },
    responses=errors(PayloadTooLarge, BodyTimeout),
)
@takes_body(lambda settings: settings.grids.max_import_bytes)
async def import_grids(
    request: Request,
    _: GridEditor,
    session: SessionDep,
    settings: SettingsDep,
    coord_system: CoordSystemQuery = CoordSystem.wgs84,
    repair: Annotated[
        bool,
        Query(
            description="repair geometry whose repair keeps its area "
            "(reported in `repaired`); false: refuse it"
        ),
    ] = True,
    on_existing: Annotated[
        Literal["error", "skip"],
        Query(
            description="a code that exists already: refuse the import (error) or keep the existing "
            "cell and import the rest (skip)"
        ),
    ] = "error",
) -> ImportResult:
    """Create cells from a FeatureCollection, a bare array of Features, or one Feature.

    Properties ``code``/``adcode``, ``name``, ``level`` (a number, or a word such as
    ``"district"`` kept as the cell's kind), ``parent_code``. Geometry Polygon/MultiPolygon in
    ``coord_system`` (stored as WGS-84). All or nothing: 422 lists each bad feature by index.
    Real exports often have parts of a MultiPolygon sharing an edge; such geometry is repaired
    (area unchanged to 0.01 %) and listed in ``repaired`` unless ``repair=false``.
    """
    body = await read_body(request, settings.grids.max_import_bytes, "a GeoJSON import")
    try:
        doc = await asyncio.to_thread(loads_strict, body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationProblem(
            [{"loc": ["body"], "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]
        ) from exc
    outcome = await service.import_features(
        session, doc, coord_system, settings.grids.max_import_features, repair, on_existing
    )
    return ImportResult(
        created=len(outcome.created),
        codes=outcome.created[:1000],
        repaired=outcome.repaired,
        skipped=outcome.skipped[:1000],
        revision=await service.current_revision(session),
    )


@router.get("", response_model=CellList, summary="List grid cells", responses=errors(InvalidCursor))
async def list_cells(
    _: GridReader,
    session: SessionDep,
    page: PageDep,
    code: Annotated[str | None, Query(max_length=32, description="the cell with this code")] = None,
    parent_id: Annotated[
        int | None, Query(ge=1, le=MAX_DB_ID, description="the children of this cell")
    ] = None,
    level: Annotated[int | None, Query(ge=1, le=32, description="cells of this level (1: the top)")] = None,
    under: Annotated[
        int | None, Query(ge=1, le=MAX_DB_ID, description="a cell id: that cell and all below it")
    ] = None,
    with_geometry: Annotated[
        bool,
        Query(description="include each cell's GeoJSON geometry (large; one cell's answer always has it)"),
    ] = False,
) -> CellList:
    cells = await service.list_cells(session, page, code=code, parent_id=parent_id, level=level, under=under)
    return CellList(
        items=[service.cell_out(c, with_geometry) for c in cells[: page.limit]],
        next_cursor=page.next_cursor(cells),
    )


@router.post(
    "",
    response_model=CellOut,
    status_code=201,
    summary="Create one grid cell",
    responses=errors(GridCodeTaken),
)
async def create_cell(data: CellCreate, _: GridEditor, session: SessionDep, settings: SettingsDep) -> CellOut:
    cell = await service.create_cell(session, data, settings.grids.max_import_features)
    return service.cell_out(cell, with_geometry=True)


@router.get(
    "/{cell_id}",
    response_model=CellOut,
    summary="One grid cell with its geometry",
    responses=errors(NotFound),
)
async def get_cell(cell_id: IdPath, _: GridReader, session: SessionDep) -> CellOut:
    return service.cell_out(await service.get_cell(session, cell_id), with_geometry=True)


@router.patch(
    "/{cell_id}",
    response_model=CellOut,
    summary="Rename a cell or change its geometry",
    responses=errors(NotFound),
)
async def update_cell(cell_id: IdPath, data: CellUpdate, _: GridEditor, session: SessionDep) -> CellOut:
    return service.cell_out(await service.update_cell(session, cell_id, data), with_geometry=True)
