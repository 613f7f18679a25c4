"""Shapes of reports and cases (docs/api.md "Fields that clients rely on")."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import ConfigDict, Field, field_validator

from app.core.schemas import Input, Instant
from app.geo.coords import CoordSystem

REPORT_EXAMPLE: dict[str, Any] = {
    "client_id": "6f1c2d3e-4b5a-4c6d-8e9f-0a1b2c3d4e5f",
    "category_code": "06010",
    "description": "路边垃圾堆放",
    "lat": 35.5428,
    "lon": 106.6652,
    "coord_system": "wgs84",
    "address": "崆峒区中山街",
    "observed_at": "2026-05-01T08:30:00+08:00",
    "self_handled": False,
}


class ReportIn(Input):
    """The ``report`` part (or the JSON body) of ``POST /api/v1/reports``."""

    model_config = ConfigDict(json_schema_extra={"example": REPORT_EXAMPLE})

    client_id: uuid.UUID | None = Field(
        default=None, description="made by the phone; a retry with it creates nothing"
    )
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
