"""Routes of inspection points and their duties (docs/campaign.md "Points and duties")."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response

from app.campaign import point_import, points
from app.campaign.checklists import NoActiveEdition
from app.campaign.permissions import CampaignEditor, CampaignReader
from app.campaign.points import PointCodeTaken, PointInUse
from app.campaign.schemas import DutyIn, PointImportOut, PointIn, PointList, PointOut, PointPatch
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
from app.core.errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    ValidationProblem,
    declare,
    refuse_unknown_parameters,
)
from app.core.http import takes_body
from app.core.openapi import errors
from app.geo.coords import CoordSystem
from app.grids.geojson import loads_strict
from app.grids.service import OutsideServiceArea

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


@router.get(
    "",
    response_model=PointList,
    summary="Inspection points",
    responses=errors(InvalidCursor, declare(ValidationProblem, "unsupported_filter")),
)
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
    tier: Annotated[
        Literal["key", "fixed", "ordinary"] | None, Query(description="key 重点, fixed 固定, ordinary 一般")
    ] = None,
    bbox: Annotated[str | None, Query(max_length=100, description="minLon,minLat,maxLon,maxLat")] = None,
    q: Annotated[str | None, Query(max_length=100, description="in the code or name")] = None,
) -> PointList:
    """In id order, each with its cell and duty; a filter the route does not know is 422
    ``unsupported_filter``, a malformed ``bbox`` or ``q`` 422 ``validation_error``."""
    refuse_unknown_parameters(request.query_params.keys(), LIST_FILTERS)
    rows = await points.list_points(session, page, points.PointFilter(type, grid, unit, tier, bbox, q))
    return PointList(
        items=await points.present(session, rows[: page.limit]), next_cursor=page.next_cursor(rows)
    )


@router.post(
    "",
    response_model=PointOut,
    status_code=201,
    summary="Register a point",
    # 409 ``conflict``: a concurrent request registered the same code first.
    responses=errors(OutsideServiceArea, PointCodeTaken, NoActiveEdition, Conflict),
)
async def create_point(request: Request, data: PointIn, _: CampaignEditor, session: SessionDep) -> PointOut:
    """Placed in its cell from its geometry: 422 ``outside_service_area``; 422 ``validation_error`` whose
    ``errors[].type`` says which: ``unknown_point_type`` (not a type of the active edition),
    ``unknown_unit``, ``location_ambiguous`` (lat/lon and a geometry), ``geometry_invalid`` ...; 409
    ``point_code_taken``, ``no_active_edition``."""
    point = await points.create_point(session, request.app.state.grid_index, data)
    return (await points.present(session, [point]))[0]


IMPORT_BODY = (
    "GeoJSON in `coord_system`: a FeatureCollection, a bare array of Features or one Feature, at most "
    "`GRID_MAX_IMPORT_BYTES`. Each feature's `properties`: `code` (1-64 letters, digits, `.`, `_`, `-`; a code "
    "in use updates that point), `name` (1-128 characters), `type` (a point type code of the active edition, "
    "e.g. `NMSC`), `tier` (`key` 重点, `fixed` 固定 or `ordinary` 一般, the default), `address` (optional), "
    "`unit_id` (optional: the responsible unit, 责任单位), `reported` (optional boolean: on the list given to "
    "the assessors). `geometry`: Point, LineString, MultiLineString, Polygon or MultiPolygon, [lon, lat]."
)


@router.post(
    "/import",
    response_model=PointImportOut,
    summary="Import points from GeoJSON (all or nothing; dry run)",
    openapi_extra={
        "requestBody": {
            "required": True,
            "description": IMPORT_BODY,
            "content": {
                "application/geo+json": {
                    "schema": {"type": "object", "description": "a FeatureCollection or one Feature"},
                    "example": {"type": "FeatureCollection", "features": IMPORT_EXAMPLE},
                },
                "application/json": {
                    "schema": {"description": "the same GeoJSON; also a bare array of Features"},
                    "example": IMPORT_EXAMPLE,
                },
            },
        }
    },
    # 409 ``conflict``: a concurrent request registered one of the codes first; nothing is imported.
    responses=errors(NoActiveEdition, PayloadTooLarge, BodyTimeout, Conflict),
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
    ``reported``); a code that exists updates its point. All or nothing: 422 ``validation_error`` lists each
    bad feature by ``index``, its ``errors[].type`` saying why (``code_duplicate``, ``unknown_point_type``,
    ``unknown_unit``, ``geometry_invalid``, ``outside_service_area`` ...); 413 over
    ``GRID_MAX_IMPORT_BYTES``; 409 ``no_active_edition``."""
    body = await read_body(request, settings.grids.max_import_bytes, "a GeoJSON import")
    try:
        doc = await asyncio.to_thread(loads_strict, body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationProblem(
            [{"loc": ["body"], "msg": f"not valid JSON: {exc}", "type": "json_invalid"}]
        ) from exc
    return await point_import.import_points(session, request.app.state.grid_index, doc, coord_system, dry_run)


@router.get(
    "/{point_id}",
    response_model=PointOut,
    summary="One point with its cell and duty",
    responses=errors(NotFound),
)
async def get_point(point_id: IdPath, _: CampaignReader, session: SessionDep) -> PointOut:
    """404 for a point that does not exist or was removed."""
    return (await points.present(session, [await points.get_point(session, point_id)]))[0]


@router.patch(
    "/{point_id}",
    response_model=PointOut,
    summary="Edit a point",
    responses=errors(NotFound, OutsideServiceArea, NoActiveEdition),
)
async def update_point(
    request: Request, point_id: IdPath, data: PointPatch, _: CampaignEditor, session: SessionDep
) -> PointOut:
    """A new place (lat/lon or geometry) places it again in its cell: 422 ``outside_service_area``; a new
    ``type`` must be a point type of the active edition (422 ``validation_error``, ``unknown_point_type``;
    409 ``no_active_edition``)."""
    point = await points.get_point(session, point_id)
    await points.update_point(session, request.app.state.grid_index, point, data)
    return (await points.present(session, [point]))[0]


@router.delete(
    "/{point_id}",
    status_code=204,
    summary="Remove a point (its visits keep naming it)",
    responses=errors(NotFound, PointInUse),
)
async def delete_point(point_id: IdPath, _: CampaignEditor, session: SessionDep) -> Response:
    """409 ``point_in_use`` while a draft or open round has a visit still to make there."""
    await points.delete_point(session, await points.get_point(session, point_id))
    return Response(status_code=204)


@router.put(
    "/{point_id}/duty",
    response_model=PointOut,
    summary="Set a point's duty (定岗定责)",
    responses=errors(NotFound, NoActiveEdition),
)
async def put_duty(point_id: IdPath, data: DutyIn, _: CampaignEditor, session: SessionDep) -> PointOut:
    """The responsible unit, lead unit, point chief and each item's own unit, replacing what was set. A
    failure goes to the item's unit, else the point's, else ordinary routing. 422 ``validation_error``
    naming an unknown unit (``unknown_unit``), user (``unknown_user``) or item of the point's checklist
    (``unknown_item``); 409 ``no_active_edition``."""
    point = await points.get_point(session, point_id)
    await points.set_duty(session, point, data)
    return (await points.present(session, [point]))[0]
