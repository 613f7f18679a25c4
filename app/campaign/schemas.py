"""Shapes of checklists (the exchange format of docs/campaign.md), editions, point types and points."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.campaign import examples
from app.core.deps import DbId
from app.core.schemas import Input, Name
from app.geo.coords import CoordSystem
from app.grids.schemas import CellRef
from app.units.schemas import UnitRef

Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,31}$")]
PointCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,63}$")]
AnswerKind = Literal["binary", "count_min", "problem_count"]
Tier = Literal["key", "fixed", "ordinary"]
Lat = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False, strict=True)]
Lon = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False, strict=True)]

CHECKLIST_EXAMPLE: dict[str, Any] = {
    "edition": {
        "code": "LOCAL-2026",
        "name": "本市创文实地考察标准",
        "year": 2026,
        "issuer": "市文明办",
        "source": "",
    },
    "point_types": [
        {
            "code": "NMSC",
            "name_zh": "农贸市场及周边",
            "name_en": "Farmers' market",
            "protocol": {
                "walk_m": 300,
                "watch_min": None,
                "window": "早中晚高峰",
                "rule": "市场内及出入口周边",
            },
            "items": [
                {
                    "code": "NM-13",
                    "group": "公共服务",
                    "text": "无占道经营现象",
                    "judging_note": None,
                    "answer_kind": "binary",
                    "threshold": None,
                    "weight": 1,
                    "photo_on_fail": True,
                    "note_on_fail": True,
                    "category_code": "09006",
                }
            ],
        }
    ],
}


class ProtocolIn(Input):
    """How a point of the type is observed (测评方法): walk so many metres, watch so many minutes."""

    walk_m: float | None = Field(default=None, ge=0, le=100_000, allow_inf_nan=False)
    watch_min: float | None = Field(default=None, ge=0, le=1440, allow_inf_nan=False)
    window: str | None = Field(default=None, max_length=200, description="when, e.g. 早中晚高峰")
    rule: str | None = Field(default=None, max_length=500)


class ItemIn(Input):
    code: Code
    group: str = Field(default="", max_length=64, description="e.g. 公益广告, 公共秩序")
    text: str = Field(min_length=1, max_length=1000)
    judging_note: str | None = Field(default=None, max_length=2000)
    answer_kind: AnswerKind = Field(
        description="binary (compliant or not), count_min (at least `threshold` seen), problem_count "
        "(how many problems seen: compliant at 0)"
    )
    threshold: int | None = Field(default=None, ge=1, le=100_000, strict=True, description="count_min only")
    weight: float = Field(default=1.0, gt=0, le=1000, allow_inf_nan=False)
    photo_on_fail: bool = Field(default=True, strict=True, description="a failure needs a photo")
    note_on_fail: bool = Field(default=False, strict=True, description="a failure needs a note")
    category_code: str = Field(pattern=r"^\d{5}$", description="the category a failure's case opens in")
    abridged: bool = Field(default=False, strict=True, description="the text shortens the published one")

    @model_validator(mode="after")
    def _threshold(self) -> ItemIn:
        if (self.answer_kind == "count_min") != (self.threshold is not None):
            raise ValueError("threshold is required on a count_min item and only there")
        return self


class SourceIn(Input):
    """Where a point type's standards were published (kept with them, as their attribution)."""

    title: str | None = Field(default=None, max_length=500)
    issuer: str | None = Field(default=None, max_length=200)
    date: str | None = Field(default=None, max_length=32)
    url: str | None = Field(default=None, max_length=2048)
    kind: str | None = Field(default=None, max_length=200)


class PointTypeIn(Input):
    code: Code
    name_zh: str = Field(min_length=1, max_length=128)
    name_en: str | None = Field(default=None, max_length=128)
    protocol: ProtocolIn = Field(default_factory=ProtocolIn)
    source: SourceIn | None = None
    items: list[ItemIn] = Field(min_length=1, max_length=500)


class EditionIn(Input):
    code: Code
    name: str = Field(min_length=1, max_length=200)
    year: int = Field(ge=1900, le=2200, strict=True)
    issuer: str | None = Field(default=None, max_length=200)
    source: str | None = Field(default=None, max_length=2000)


class ChecklistFile(Input):
    """A checklist file (docs/campaign.md "Exchange format of checklists")."""

    model_config = ConfigDict(json_schema_extra={"example": CHECKLIST_EXAMPLE})

    edition: EditionIn
    point_types: list[PointTypeIn] = Field(min_length=1, max_length=100)


class EditionOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.EDITION_OUT})

    code: str
    name: str
    year: int
    issuer: str | None
    source: str | None
    active: bool
    point_types: int = Field(description="point types in use (not retired)")
    items: int = Field(description="items in use (not retired)")
    updated_at: dt.datetime


class ImportOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.IMPORT_OUT})

    edition: EditionOut
    point_types: int = Field(description="point types in the file")
    items: int = Field(description="items in the file")
    created: int = Field(description="items created")
    updated: int = Field(description="items whose fields changed (past answers keep what they answered)")
    retired: int = Field(description="items of the edition the file no longer lists (kept for past answers)")


class EditionList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"items": [examples.EDITION_OUT]}})

    items: list[EditionOut]


class ItemOut(BaseModel):
    code: str
    group: str
    text: str
    judging_note: str | None
    answer_kind: AnswerKind
    threshold: int | None
    weight: float
    photo_on_fail: bool
    note_on_fail: bool
    category_code: str
    abridged: bool


class ProtocolOut(BaseModel):
    walk_m: float | None = None
    watch_min: float | None = None
    window: str | None = None
    rule: str | None = None


class SourceOut(BaseModel):
    title: str | None = None
    issuer: str | None = None
    date: str | None = None
    url: str | None = None
    kind: str | None = None


class PointTypeOut(BaseModel):
    code: str
    name_zh: str
    name_en: str | None
    protocol: ProtocolOut
    source: SourceOut | None = None
    items: list[ItemOut]


class PointTypeList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.POINT_TYPES_OUT})

    edition: str
    items: list[PointTypeOut]


POINT_EXAMPLE: dict[str, Any] = {
    "code": "KT-NM-001",
    "name": "中山街农贸市场",
    "type": "NMSC",
    "lat": 35.5431,
    "lon": 106.6655,
    "coord_system": "wgs84",
    "address": "崆峒区中山街",
    "tier": "key",
    "reported": True,
}


class PointIn(Input):
    """A new point: ``lat``+``lon`` (in ``coord_system``) or a GeoJSON ``geometry`` (Point, LineString,
    MultiLineString, Polygon, MultiPolygon; [lon, lat] in ``coord_system``)."""

    model_config = ConfigDict(json_schema_extra={"example": POINT_EXAMPLE})

    code: PointCode
    name: Name
    type: Code = Field(description="a point type code of the active edition, e.g. NMSC")
    lat: Lat | None = None
    lon: Lon | None = None
    coord_system: CoordSystem = CoordSystem.wgs84
    geometry: dict[str, Any] | None = Field(default=None, description="GeoJSON geometry instead of lat/lon")
    address: str | None = Field(default=None, max_length=255)
    tier: Tier = Field(default="ordinary", description="key 重点, fixed 固定, ordinary 一般")
    reported: bool = Field(default=False, strict=True, description="listed to the assessors (点位信息表)")
    unit_id: DbId | None = Field(default=None, description="the responsible unit (责任单位)")


class PointPatch(Input):
    model_config = ConfigDict(json_schema_extra={"example": {"name": "中山街农贸市场(东门)", "tier": "key"}})

    name: Name | None = None
    type: Code | None = None
    lat: Lat | None = None
    lon: Lon | None = None
    coord_system: CoordSystem = CoordSystem.wgs84
    geometry: dict[str, Any] | None = None
    address: str | None = Field(default=None, max_length=255)
    tier: Tier | None = None
    reported: bool | None = Field(default=None, strict=True)


class DutyIn(Input):
    """A point's duty (定岗定责), replacing the one it had."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "unit_id": 1,
                "lead_unit_id": 5,
                "chief_name": "王建国",
                "chief_phone": "0933-8212345",
                "chief_user_id": None,
                "items": {"NM-12": 2},
            }
        }
    )

    unit_id: DbId | None = Field(default=None, description="the responsible unit (责任单位)")
    lead_unit_id: DbId | None = Field(default=None, description="the lead unit (牵头单位)")
    chief_name: str | None = Field(default=None, max_length=64, description="the point chief (点位长)")
    chief_phone: str | None = Field(default=None, max_length=32)
    chief_user_id: DbId | None = None
    items: dict[Code, DbId] = Field(
        default_factory=dict, max_length=500, description="an item's own responsible unit at this point"
    )


class DutyOut(BaseModel):
    unit: UnitRef | None
    lead_unit: UnitRef | None
    chief_name: str | None
    chief_phone: str | None
    chief_user_id: int | None
    items: dict[str, UnitRef]


class PointOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.POINT_OUT})

    id: int
    code: str
    name: str
    type: str
    tier: Tier
    reported: bool
    address: str | None
    lat: float = Field(description="the representative point, WGS-84")
    lon: float
    geometry: dict[str, Any] = Field(description="GeoJSON, WGS-84 [lon, lat]")
    grid: CellRef = Field(description="the deepest cell containing the representative point")
    duty: DutyOut
    created_at: dt.datetime
    updated_at: dt.datetime


class PointList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"items": [examples.POINT_OUT], "next_cursor": None}}
    )

    items: list[PointOut]
    next_cursor: str | None


class PointChange(BaseModel):
    code: str
    fields: list[str] = Field(description="what the import changes (or would change)")


class PointImportOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.POINT_IMPORT_OUT})

    dry_run: bool
    created: list[str] = Field(description="codes of the points created (or that would be)")
    changed: list[PointChange]
    unchanged: int
