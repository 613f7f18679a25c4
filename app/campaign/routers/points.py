"""Routes of inspection points and their duties (docs/campaign.md "Points and duties")."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.campaign import point_import, points
from app.campaign.permissions import CampaignEditor, CampaignReader
from app.campaign.schemas import DutyIn, PointImportOut, PointIn, PointList, PointOut, PointPatch
from app.core.deps import MAX_DB_ID, IdPath, PageDep, SessionDep, SettingsDep, read_body
from app.core.errors import ValidationProblem, refuse_unknown_parameters
from app.core.http import takes_body
from app.geo.coords import CoordSystem
from app.grids.geojson import loads_strict

router = APIRouter(prefix="/api/v1/campaign/points", tags=["campaign"])
IMPORT_EXAMPLE = [
    {
        "type": "Feature",
        "properties": {
            "code": "KT-GC-001",
            "name": "中山广场",
            "type": "GGGC",
            "tier": "key",
            "address": "崆峒区中山街",
            "unit_id": 1,
        },
        "geometry": {
            "type": "Polygon",
            "coordinates": [
                [
                    [106.6640, 35.5420],
                    [106.6660, 35.5420],
                    [106.6660, 35.5435],
                    [106.6640, 35.5435],
                    [106.6640, 35.5420],
                ]
            ],
        },
    }
]
LIST_FILTERS = frozenset({"type", "grid", "unit", "tier", "bbox", "q", "limit", "cursor"})


@router.get("", response_model=PointList, summary="Inspection points")
async def list_points(
    request: Request,
    _: CampaignReader,
    session: SessionDep,
    page: PageDep,
    type: Annotated[str | None, Query(max_length=32, description="a point type code")] = None,
    grid: Annotated[int | None, Query(ge=1, le=MAX_DB_ID, description="a cell: it and all below it")] = None,
    unit: Annotated[
        int | None, Query(ge=1, le=MAX_DB_ID, description="responsible for the point or an item")
    ] = None,
    tier: Literal["key", "fixed", "ordinary"] | None = None,
    bbox: Annotated[str | None, Query(max_length=100, description="minLon,minLat,maxLon,maxLat")] = None,
    q: Annotated[str | None, Query(max_length=100, description="in the code or name")] = None,
) -> PointList:
    refuse_unknown_parameters(request.query_params.keys(), LIST_FILTERS)
    rows = await points.list_points(session, page, points.PointFilter(type, grid, unit, tier, bbox, q))
    return PointList(
        items=await points.present(session, rows[: page.limit]), next_cursor=page.next_cursor(rows)
    )


@router.post("", response_model=PointOut, status_code=201, summary="Register a point")
async def create_point(request: Request, data: PointIn, _: CampaignEditor, session: SessionDep) -> PointOut:
    """Placed in its cell from its geometry: 422 ``outside_service_area``, ``unknown_point_type``,
    ``unknown_unit``; 409 ``point_code_taken``, ``no_active_edition``."""
    point = await points.create_point(session, request.app.state.grid_index, data)
    return (await points.present(session, [point]))[0]


@router.post(
    "/import",
    response_model=PointImportOut,
    summary="Import points from GeoJSON (all or nothing; dry run)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/geo+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {}, "example": IMPORT_EXAMPLE},
            },
        }
    },
)
@takes_body(lambda settings: settings.grids.max_import_bytes)
async def import_points(
    request: Request,
    _: CampaignEditor,
    session: SessionDep,
    settings: SettingsDep,
    coord_system: Annotated[CoordSystem, Query(description="datum of the coordinates")] = CoordSystem.wgs84,
    dry_run: Annotated[bool, Query(description="answer what would change, write nothing")] = False,
) -> PointImportOut:
    """Features with properties ``code``, ``name``, ``type``, ``tier``, ``address``, ``unit_id`` (and
    ``reported``); a code that exists updates its point. 422 lists each bad feature by index (including
    ``outside_service_area``)."""
    body = await read_body(request, settings.grids.max_import_bytes, "a GeoJSON import")
    try:
        doc = await asyncio.to_thread(loads_strict, body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationProblem(
            [{"loc": ["body"], "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]
        ) from exc
    return await point_import.import_points(session, request.app.state.grid_index, doc, coord_system, dry_run)


@router.get("/{point_id}", response_model=PointOut, summary="One point with its cell and duty")
async def get_point(point_id: IdPath, _: CampaignReader, session: SessionDep) -> PointOut:
    return (await points.present(session, [await points.get_point(session, point_id)]))[0]


@router.patch("/{point_id}", response_model=PointOut, summary="Edit a point")
async def update_point(
    request: Request, point_id: IdPath, data: PointPatch, _: CampaignEditor, session: SessionDep
) -> PointOut:
    """A new place (lat/lon or geometry) places it again in its cell."""
    point = await points.get_point(session, point_id)
    await points.update_point(session, request.app.state.grid_index, point, data)
    return (await points.present(session, [point]))[0]


@router.delete("/{point_id}", status_code=204, summary="Remove a point (its visits keep naming it)")
async def delete_point(point_id: IdPath, _: CampaignEditor, session: SessionDep) -> Response:
    """409 ``point_in_use`` while a draft or open round has a visit still to make there."""
    await points.delete_point(session, await points.get_point(session, point_id))
    return Response(status_code=204)


@router.put("/{point_id}/duty", response_model=PointOut, summary="Set a point's duty (定岗定责)")
async def put_duty(point_id: IdPath, data: DutyIn, _: CampaignEditor, session: SessionDep) -> PointOut:
    """The responsible unit, lead unit, point chief and each item's own unit, replacing what was set. A
    failure goes to the item's unit, else the point's, else ordinary routing."""
    point = await points.get_point(session, point_id)
    await points.set_duty(session, point, data)
    return (await points.present(session, [point]))[0]
