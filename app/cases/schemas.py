"""A case as clients read it (docs/api.md "Fields that clients rely on"): the case, its photos, duplicates."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.cases.models import Status
from app.geo.coords import CoordSystem
from app.grids.schemas import CellRef
from app.routing.schemas import RoutingOut
from app.units.schemas import UnitRef


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
    flags: list[str] = Field(
        description="evidence checks: far_from_report, taken_before_report, reused_photo, "
        "no_exif_gps, exif_unreadable"
    )
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


class Requester(BaseModel):
    id: int | None
    username: str | None
    display_name: str | None
    unit: UnitRef | None


class PendingOut(BaseModel):
    """Something waiting for a dispatcher's decision (docs/api.md "Fields that clients rely on")."""

    kind: Literal["extension", "hold", "redispatch"] = Field(
        description="extension: a unit asked for more time (延期); hold: asked to put it on hold (挂账); "
        "redispatch: a unit returned it as not theirs (回退) and it waits for a new dispatch"
    )
    hours: int | None = Field(description="extension: the hours asked for")
    reason: str | None
    requested_by: Requester | None
    requested_at: dt.datetime


class PointRef(BaseModel):
    id: int
    code: str
    name: str


class ItemRef(BaseModel):
    code: str
    text: str = Field(description="the item's text as the inspector answered it")


class InspectionRef(BaseModel):
    """Where a campaign inspection's failure comes from (docs/campaign.md)."""

    round_id: int
    visit_id: int
    point: PointRef
    item: ItemRef
    repeats: int = Field(
        default=0, description="times the same item failed again at the point while open (多次整改)"
    )


class CaseOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 1,
                "tracking_code": "20261207-PMH4EY",
                "status": "in_progress",
                "status_label": "处置中",
                "source": "app",
                "category_code": "09009",
                "category_name": "机动车乱停放",
                "description": "占道停车：一辆白色轿车停在盲道上",
                "address": "中山街与崆峒大道交叉口东50米",
                "lat": 35.5428,
                "lon": 106.6652,
                "location_source": "client",
                "coord_system": "wgs84",
                "grid": {
                    "id": 834,
                    "code": "620802002001279",
                    "name": "中街街道第279网格",
                    "level": 3,
                    "kind": "grid",
                },
                "unit": {"id": 2, "name": "平凉市公安局交通警察支队崆峒大队"},
                "routing": {
                    "cell_code": "620802",
                    "assignment_id": 2,
                    "rule": "category",
                    "inherited": True,
                    "explanation": "网格 620802002001279 的上级网格 崆峒区(620802)设有类别 09009 的专项包抓，由平凉市公安局交通警察支队崆峒大队负责。",
                },
                "priority": "normal",
                "due_at": "2026-12-08T02:30:00Z",
                "deadline_met": None,
                "limit_used": 0.0,
                "light": "green",
                "pending": [
                    {
                        "kind": "extension",
                        "hours": 4,
                        "reason": "车主联系不上，需等待拖车",
                        "requested_by": {
                            "id": 7,
                            "username": "jiaojing",
                            "display_name": "交警大队 staff",
                            "unit": {"id": 2, "name": "平凉市公安局交通警察支队崆峒大队"},
                        },
                        "requested_at": "2026-12-07T12:21:14.067652Z",
                    }
                ],
                "photos": [],
                "flags": [],
                "observed_at": None,
                "self_handled": False,
                "version": 5,
                "created_at": "2026-12-07T12:21:06.873031Z",
                "updated_at": "2026-12-07T12:21:14.067652Z",
                "possible_duplicates": [],
                "attributes": None,
                "media_url": None,
                "contact": None,
            }
        }
    )

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
    due_at: dt.datetime | None = Field(
        description="the deadline: while the clock runs the current one; once resolved, the one that applied; "
        "while held, the one that stood when the clock stopped (it moves when the case resumes)"
    )
    deadline_met: bool | None = Field(
        description="once resolved: whether it was resolved by its deadline (self-handled: true); else null"
    )
    limit_used: float | None = Field(description="the share of the time limit used so far (1.0 = all of it)")
    light: Literal["green", "yellow", "red", "paused"] | None = Field(
        description="while the clock runs: green < 80 % of the limit used, yellow to 100 %, red overdue; "
        "paused: held (挂账), the clock is stopped; null before dispatch and once resolved"
    )
    pending: list[PendingOut] = Field(description="requests waiting for a dispatcher's decision")
    photos: list[PhotoOut]
    flags: list[str]
    observed_at: dt.datetime | None
    self_handled: bool
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    possible_duplicates: list[DuplicateRef] | None = Field(
        default=None, description="on create only: open cases of the same category nearby"
    )
    attributes: dict[str, Any] | None = Field(default=None, description="Open311 attribute values")
    inspection: InspectionRef | None = Field(
        default=None, description="source inspection: the round, visit, point and item that failed"
    )
    media_url: str | None = Field(default=None, description="a link an Open311 client sent (not fetched)")
    contact: dict[str, str | None] | None = Field(
        default=None,
        description="an Open311 reporter's contact details: dispatchers, supervisors, admins only",
    )
