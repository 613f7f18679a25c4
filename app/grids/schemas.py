"""Shapes of the grid domain: cells, imports and point location."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from app.core.deps import DbId
from app.core.schemas import Input, Name
from app.geo.coords import CoordSystem

LatQuery = Annotated[
    float, Query(ge=-90, le=90, allow_inf_nan=False, description="latitude, decimal degrees")
]
LonQuery = Annotated[
    float, Query(ge=-180, le=180, allow_inf_nan=False, description="longitude, decimal degrees")
]
CoordSystemQuery = Annotated[CoordSystem, Query(description="datum of lat/lon: wgs84 (default), gcj02, bd09")]

_CELL_EXAMPLE: dict[str, Any] = {
    "id": 834,
    "code": "620802002001279",
    "name": "中街街道第279网格",
    "level": 3,
    "kind": "grid",
    "parent_id": 3,
    "bbox": [106.6641, 35.5421, 106.6668, 35.5437],
    "area_m2": 48211.7,
    "geometry": {
        "type": "Polygon",
        "coordinates": [
            [
                [106.6641, 35.5421],
                [106.6668, 35.5421],
                [106.6668, 35.5437],
                [106.6641, 35.5437],
                [106.6641, 35.5421],
            ]
        ],
    },
    "created_at": "2026-12-07T12:14:58.445456Z",
    "updated_at": "2026-12-07T12:14:58.445456Z",
}


class CellRef(BaseModel):
    id: int
    code: str
    name: str
    level: int
    kind: str | None = None


class CellOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": _CELL_EXAMPLE})

    id: int
    code: str
    name: str
    level: int
    kind: str | None
    parent_id: int | None
    bbox: list[float] = Field(description="[min_lon, min_lat, max_lon, max_lat], WGS-84")
    area_m2: float
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON geometry, WGS-84 [lon, lat]")
    created_at: dt.datetime
    updated_at: dt.datetime


class CellList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "id": 834,
                        "code": "620802002001279",
                        "name": "中街街道第279网格",
                        "level": 3,
                        "kind": "grid",
                        "parent_id": 3,
                        "bbox": [106.6641, 35.5421, 106.6668, 35.5437],
                        "area_m2": 48211.7,
                        "geometry": None,
                        "created_at": "2026-12-07T12:14:58.445456Z",
                        "updated_at": "2026-12-07T12:14:58.445456Z",
                    }
                ],
                "next_cursor": "eyJhZnRlciI6ODM0fQ",
            }
        }
    )

    items: list[CellOut]
    next_cursor: str | None


class CellCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "code": "620802002001901",
                "name": "中街街道第901网格",
                "parent_id": 3,
                "kind": "grid",
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [106.6701, 35.5401],
                            [106.672, 35.5401],
                            [106.672, 35.5415],
                            [106.6701, 35.5415],
                            [106.6701, 35.5401],
                        ]
                    ],
                },
                "coord_system": "wgs84",
            }
        }
    )

    code: str = Field(pattern=r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,31}$")
    name: Name
    level: int | None = Field(default=None, ge=1, le=32, description="defaults to one below the parent")
    kind: str | None = Field(default=None, max_length=32)
    parent_id: DbId | None = None
    geometry: dict[str, Any] = Field(description="GeoJSON Polygon or MultiPolygon")
    coord_system: CoordSystem = CoordSystem.wgs84


class CellUpdate(Input):
    model_config = ConfigDict(json_schema_extra={"example": {"name": "中街街道第279网格(新民路)"}})

    name: Name | None = None
    kind: str | None = Field(default=None, max_length=32)
    geometry: dict[str, Any] | None = None
    coord_system: CoordSystem = CoordSystem.wgs84


class ImportResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"created": 1, "codes": ["620802"], "revision": "3f6c..."}}
    )

    created: int
    codes: list[str] = Field(
        description="codes of the created cells, in the order they were created (first 1,000)"
    )
    skipped: list[str] = Field(
        default_factory=list, description="codes that existed and were kept (on_existing=skip)"
    )
    repaired: list[dict[str, Any]] = Field(
        default_factory=list, description="features whose geometry was repaired: index, code, reason"
    )
    revision: str = Field(description="the grid revision after the import")


class PointOut(BaseModel):
    lat: float
    lon: float


class LocateOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "chain": [
                    {
                        "id": 310,
                        "code": "620802001001042",
                        "name": "东关街道 第042网格",
                        "level": 3,
                        "kind": "grid",
                    },
                    {"id": 2, "code": "620802001", "name": "东关街道", "level": 2, "kind": "street"},
                    {"id": 1, "code": "620802", "name": "崆峒区", "level": 1, "kind": "district"},
                ],
                "point": {"lat": 35.5428, "lon": 106.6652},
                "coord_system": "wgs84",
            }
        }
    )

    chain: list[CellRef] = Field(description="cells containing the point, deepest first")
    point: PointOut = Field(description="the point in WGS-84, after conversion")
    coord_system: CoordSystem = Field(description="the datum the point was given in")
