"""HTTP route of the routing preview."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request

from app.categories.service import UnknownCategory
from app.core.deps import SessionDep
from app.core.i18n import LangDep
from app.core.openapi import errors
from app.geo.coords import CoordSystem, to_wgs84_point
from app.grids.schemas import CellRef, CoordSystemQuery, LatQuery, LonQuery, PointOut
from app.grids.service import OutsideServiceArea
from app.routing.permissions import RoutingViewer
from app.routing.schemas import CategoryRef, RoutingOut, RoutingPreview
from app.routing.service import route_point
from app.units.schemas import UnitRef

router = APIRouter(prefix="/api/v1/routing", tags=["routing"])


@router.get(
    "/preview",
    response_model=RoutingPreview,
    summary="Who would get a case here, and why",
    responses=errors(OutsideServiceArea, UnknownCategory),
)
async def preview(
    request: Request,
    _: RoutingViewer,
    session: SessionDep,
    lang: LangDep,
    lat: LatQuery,
    lon: LonQuery,
    category: Annotated[str, Query(pattern=r"^\d{5}$", description="5-digit code")],
    coord_system: CoordSystemQuery = CoordSystem.wgs84,
) -> RoutingPreview:
    """The routing decision a report in ``category`` at the point would get (docs/domain.md rules).

    422 ``outside_service_area`` or ``unknown_category``. The explanation follows Accept-Language.
    """
    wlon, wlat = to_wgs84_point(lon, lat, coord_system)
    routed = await route_point(session, request.app.state.grid_index, wlon, wlat, category)
    d = routed.decision
    chain = [CellRef(id=c.id, code=c.code, name=c.name, level=c.level, kind=c.kind) for c in routed.chain]
    return RoutingPreview(
        grid=chain[0],
        chain=chain,
        unit=UnitRef(id=d.unit_id, name=d.unit_name) if d.unit_id is not None and d.unit_name else None,
        routing=RoutingOut(
            cell_code=(d.matched_cell or d.cell).code,
            assignment_id=d.assignment_id,
            rule=d.rule,
            inherited=d.inherited,
            explanation=d.explanation(lang),
        ),
        category=CategoryRef(
            code=routed.category.code,
            name=routed.category.name_zh if lang == "zh" else routed.category.name_en,
            veto=routed.category.veto,
        ),
        point=PointOut(lat=wlat, lon=wlon),
    )
