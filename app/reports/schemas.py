"""Shapes of reports and cases (API.md "Fields that clients rely on")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.auth.schemas import UnitRef
from app.core.schemas import Input, Instant
from app.geo.coords import CoordSystem
from app.grids.schemas import CellRef
from app.reports.models import Status
from app.routing.schemas import RoutingOut

REPORT_EXAMPLE = {"client_id": "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f", "category_code": "06010",
                  "description": "路边垃圾堆放", "lat": 35.5428, "lon": 106.6652, "coord_system": "wgs84",
                  "address": "崆峒区中山街", "observed_at": "2026-05-01T08:30:00+08:00", "self_handled": False}


class ReportIn(Input):
    """The ``report`` part (or the JSON body) of ``POST /api/v1/reports``."""

    model_config = ConfigDict(json_schema_extra={"example": REPORT_EXAMPLE})

    client_id: uuid.UUID | None = Field(default=None, description="made by the phone; a retry with it creates nothing")
    category_code: str = Field(pattern=r"^\d{5}$")
    description: str = Field(default="", max_length=4000)  # GeoReport v2 allows 4000
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False, strict=True)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False, strict=True)
    coord_system: CoordSystem = CoordSystem.wgs84
    address: str | None = Field(default=None, max_length=255)
    observed_at: Instant | None = Field(default=None, description="the phone's clock: kept, never trusted")
    self_handled: bool = Field(default=False, strict=True)

    @field_validator("observed_at", mode="after")
    @classmethod
    def _representable(cls, value: dt.datetime | None) -> dt.datetime | None:
        if value is not None:
            try:
                value.astimezone(dt.UTC)
            except OverflowError as exc:
                raise ValueError("out of range once converted to UTC") from exc
        return value


class PhotoOut(BaseModel):
    id: int
    stage: str
    sha256: str
    width: int
    height: int
    format: str
    size_bytes: int
    taken_at: dt.datetime | None
    gps: dict[str, float] | None = Field(description="EXIF position, WGS-84 (the served files carry none)")
    distance_m: float | None = Field(description="from the EXIF position to the case's point, metres")
    flags: list[str] = Field(description="evidence checks: far_from_report, taken_before_report, reused_photo, "
                                         "no_exif_gps, exif_unreadable")
    filename: str | None
    url: str
    thumbnail_url: str
    created_at: dt.datetime


class DuplicateRef(BaseModel):
    id: int
    tracking_code: str
    status: Status
    distance_m: float
    created_at: dt.datetime


class CaseOut(BaseModel):
    id: int
    tracking_code: str
    status: Status
    status_label: str
    source: str
    category_code: str
    category_name: str
    description: str
    address: str | None
    lat: float
    lon: float
    location_source: str = Field(description="client (lat/lon sent) or exif (the first photo's GPS)")
    coord_system: CoordSystem = Field(description="the datum the client used; lat/lon here are WGS-84")
    grid: CellRef
    unit: UnitRef | None
    routing: RoutingOut
    priority: str
    due_at: dt.datetime | None
    light: str | None = Field(description="green < 80 % of the limit used, yellow to 100 %, red overdue")
    photos: list[PhotoOut]
    flags: list[str]
    observed_at: dt.datetime | None
    self_handled: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    possible_duplicates: list[DuplicateRef] | None = Field(
        default=None, description="on create only: open cases of the same category nearby")
    attributes: dict[str, Any] | None = Field(default=None, description="Open311 attribute values")
    media_url: str | None = Field(default=None, description="a link an Open311 client sent (not fetched)")
    contact: dict[str, str | None] | None = Field(
        default=None, description="an Open311 reporter's contact details: dispatchers, supervisors, admins only")
