"""Where a report is and what it may repeat: the client's point or the first geotagged photo, clock
checks on the phone's time, and open cases of the same category nearby."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import OPEN_STATUSES, Case, Status
from app.cases.schemas import DuplicateRef
from app.core.config import Settings
from app.core.errors import AppError, ValidationProblem
from app.core.i18n import Text
from app.geo.coords import CoordSystem, distance_m, to_wgs84_point
from app.photos.service import Ingested
from app.reports.schemas import ReportIn


class LocationRequired(AppError):
    status, code, title = 422, "location_required", "The report has no location"
    title_zh = "上报缺少位置"


def placement(data: ReportIn, photos: Sequence[Ingested]) -> tuple[float, float, float, float, str, str]:
    """``(lat, lon)`` WGS-84 degrees, the reported ``(lat, lon)``, their datum and the source (``client`` or
    ``exif``). 422 when only one of lat/lon is sent, ``location_required`` without either and without a
    geotagged photo."""
    if (data.lat is None) != (data.lon is None):
        missing = "lon" if data.lon is None else "lat"
        raise ValidationProblem(
            [{"loc": ["report", missing], "msg": "lat and lon go together", "type": "missing"}]
        )
    if data.lat is not None and data.lon is not None:
        lon, lat = to_wgs84_point(data.lon, data.lat, data.coord_system)
        return float(lat), float(lon), data.lat, data.lon, data.coord_system.value, "client"
    for photo in photos:
        f = photo.facts
        if f.gps_lat is not None and f.gps_lon is not None:
            # EXIF GPS is WGS-84 by the EXIF standard, whatever datum the phone's map app uses.
            return f.gps_lat, f.gps_lon, f.gps_lat, f.gps_lon, CoordSystem.wgs84.value, "exif"
    raise LocationRequired(
        Text(
            "请发送 lat 和 lon，或一张 EXIF 中带 GPS 的照片",
            "Send lat and lon, or a photo whose EXIF carries GPS",
        ),
        errors=[
            {
                "loc": ["report", "lat"],
                "field": "report.lat",
                "msg": "required without a geotagged photo",
                "type": "location_required",
            }
        ],
    )


def clock_flags(observed_at: dt.datetime | None, now: dt.datetime, settings: Settings) -> list[str]:
    """``["clock_skew"]`` when the phone's ``observed_at`` is in the future (past the allowed skew) or
    before 2000: the phone's clock is kept, never trusted."""
    if observed_at is None:
        return []
    too_late = observed_at > now + dt.timedelta(seconds=settings.reports.clock_skew_future_s)
    too_early = observed_at < dt.datetime(2000, 1, 1, tzinfo=dt.UTC)
    return ["clock_skew"] if too_late or too_early else []


async def possible_duplicates(
    session: AsyncSession,
    case: Case,
    settings: Settings,
    visible_to_caller: ColumnElement[bool] | None = None,
) -> list[DuplicateRef]:
    """Open cases of the same category within ``duplicate_radius_m`` metres filed in the last
    ``duplicate_days``, among those the caller may see (a condition from app.cases.permissions), nearest
    first, at most 10."""
    radius = settings.reports.duplicate_radius_m
    dlat = radius / 111_000.0
    dlon = radius / (111_000.0 * max(math.cos(math.radians(case.lat)), 0.01))
    since = case.created_at - dt.timedelta(days=settings.reports.duplicate_days)
    rows = (
        await session.execute(
            select(Case)
            .where(
                Case.category_code == case.category_code,
                Case.id != case.id,
                Case.created_at >= since,
                Case.deleted_at.is_(None),
                Case.status.in_([s.value for s in OPEN_STATUSES]),
                Case.lat.between(case.lat - dlat, case.lat + dlat),
                Case.lon.between(case.lon - dlon, case.lon + dlon),
                *([visible_to_caller] if visible_to_caller is not None else []),
            )
            .order_by(Case.created_at.desc())
            .limit(50)
        )
    ).scalars()
    out = []
    for other in rows:
        d = float(distance_m(case.lon, case.lat, other.lon, other.lat))
        if d <= radius:
            out.append(
                DuplicateRef(
                    id=other.id,
                    tracking_code=other.tracking_code,
                    status=Status(other.status),
                    distance_m=round(d, 1),
                    created_at=other.created_at,
                )
            )
    return sorted(out, key=lambda d: d.distance_m)[:10]
