"""Shapes of rounds, visits, results and scores (docs/campaign.md "Rounds and visits", "Scores")."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from app.campaign import examples
from app.campaign.schemas import Code, PointTypeOut, Tier
from app.core.deps import DbId
from app.core.schemas import Input, Instant
from app.geo.coords import CoordSystem
from app.grids.schemas import CellRef
from app.units.schemas import UnitRef

RoundKind = Literal["patrol", "supervision", "mock", "recheck"]
RoundStatus = Literal["draft", "open", "published", "closed"]
VisitStatus = Literal["pending", "submitted", "unable"]
Answer = Literal["compliant", "noncompliant", "not_applicable"]
PhotoName = Annotated[str, StringConstraints(min_length=1, max_length=255)]
MAX_SEED = 2**31 - 1

ROUND_EXAMPLE: dict[str, Any] = {
    "kind": "mock",
    "title": "2026年12月模拟测评(中街街道)",
    "period_from": "2026-12-07",
    "period_to": "2026-12-11",
    "grid_id": 2,
    "sample": {"NMSC": 1, "GJXL": 2},
    "seed": 7,
    "pass_mark": 85,
    "rectify_hours": None,
    "board": {"black_below": 85, "red_top": 2, "black_bottom": 1, "min_points": 1},
}


class BoardIn(Input):
    """The round's board rule (红黑榜), kept for publishing: black below a score, red the top N, black the
    bottom N, a minimum number of visited points to be ranked."""

    black_below: float | None = Field(default=None, ge=0, le=100, allow_inf_nan=False)
    red_top: int | None = Field(default=None, ge=0, le=1000, strict=True)
    black_bottom: int | None = Field(default=None, ge=0, le=1000, strict=True)
    min_points: int = Field(default=1, ge=0, le=10_000, strict=True)


class RoundIn(Input):
    """A new round: its points listed (``points``) or sampled per point type from the cell's subtree
    (``sample`` with ``seed``; the same seed gives the same sample). Dates are inclusive, in the service's
    time zone. ``inspector_id`` (optional) is assigned every visit; otherwise each visit goes to a worker
    who patrols the point's cell, when there is one."""

    model_config = ConfigDict(json_schema_extra={"example": ROUND_EXAMPLE})

    kind: RoundKind = Field(description="patrol 常态巡查, supervision 督查, mock 模拟测评, recheck 复查")
    title: str = Field(min_length=1, max_length=200)
    period_from: dt.date
    period_to: dt.date
    grid_id: DbId = Field(description="the scope: this cell and every cell below it")
    points: list[DbId] | None = Field(default=None, min_length=1, max_length=5000)
    sample: dict[Code, Annotated[int, Field(ge=1, le=5000, strict=True)]] | None = Field(
        default=None, min_length=1, max_length=100, description="point type code -> how many to draw"
    )
    seed: int | None = Field(
        default=None, ge=0, le=MAX_SEED, strict=True, description="recorded; absent: one is chosen"
    )
    pass_mark: float = Field(default=85.0, ge=0, le=100, allow_inf_nan=False, description="达标 score")
    rectify_hours: int | None = Field(
        default=None,
        ge=1,
        le=2000,
        strict=True,
        description="working hours to fix a failure (default: the category's limit)",
    )
    board: BoardIn | None = None
    inspector_id: DbId | None = None

    @model_validator(mode="after")
    def _one_way(self) -> RoundIn:
        if (self.points is None) == (self.sample is None):
            raise ValueError("list the points or give a sample, one of the two")
        if self.period_from > self.period_to:
            raise ValueError("period_from is after period_to")
        if self.points is not None and len(set(self.points)) != len(self.points):
            raise ValueError("a point is listed twice")
        return self


class RoundAction(Input):
    model_config = ConfigDict(json_schema_extra={"example": {"action": "open"}})

    action: Literal["open", "publish", "close"]


class UserRef(BaseModel):
    id: int
    username: str
    display_name: str


class VisitPointRef(BaseModel):
    id: int
    code: str
    name: str
    type: str


class RoundVisit(BaseModel):
    id: int
    point: VisitPointRef
    inspector: UserRef | None
    status: VisitStatus


class RoundOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.ROUND_OUT})

    id: int
    kind: RoundKind
    title: str
    period_from: dt.date
    period_to: dt.date
    grid: CellRef = Field(description="the scope")
    edition: str = Field(description="the edition whose checklists the visits answer")
    status: RoundStatus
    sample: dict[str, int] | None
    seed: int | None
    pass_mark: float
    rectify_hours: int | None
    board: dict[str, Any] | None
    progress: dict[str, int] = Field(description="visits by status")
    visits: list[RoundVisit] | None = Field(default=None, description="one per point (not on lists)")
    created_at: dt.datetime
    opened_at: dt.datetime | None
    published_at: dt.datetime | None = Field(description="when its results were frozen (published)")
    closed_at: dt.datetime | None


class RoundList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.ROUND_LIST})

    items: list[RoundOut]
    next_cursor: str | None


class VisitPatch(Input):
    model_config = ConfigDict(json_schema_extra={"example": {"inspector_id": 5}})

    inspector_id: DbId | None = Field(description="an inspector for the point; null: nobody yet")


class ResultIn(Input):
    item: Code = Field(description="the item's code, e.g. NM-13")
    result: Answer
    amount: int | None = Field(
        default=None,
        ge=0,
        le=100_000,
        strict=True,
        description="处数: required on count_min and problem_count items; refused on a compliant or "
        "not-applicable answer to a binary item",
    )
    note: str | None = Field(default=None, max_length=2000)
    photos: list[PhotoName] = Field(default_factory=list, max_length=9, description="names of photo parts")


VISIT_EXAMPLE: dict[str, Any] = {
    "results": [
        {
            "item": "NM-13",
            "result": "noncompliant",
            "amount": 2,
            "note": "东门外两处占道卖菜",
            "photos": ["f1.jpg"],
        },
        {"item": "NM-01", "result": "compliant", "amount": 3},
    ],
    "lat": 35.5431,
    "lon": 106.6655,
    "coord_system": "wgs84",
    "observed_at": "2026-12-08T09:30:00+08:00",
}


class VisitIn(Input):
    """The ``visit`` part of ``POST /api/v1/campaign/visits/{id}/submit``: a result for every item of the
    checklist, or ``{"unable": true, "reason": ...}`` (无法测评) with one photo."""

    model_config = ConfigDict(json_schema_extra={"example": VISIT_EXAMPLE})

    results: list[ResultIn] = Field(default_factory=list, max_length=500)
    lat: float | None = Field(default=None, ge=-90, le=90, allow_inf_nan=False, strict=True)
    lon: float | None = Field(default=None, ge=-180, le=180, allow_inf_nan=False, strict=True)
    coord_system: CoordSystem = CoordSystem.wgs84
    observed_at: Instant | None = Field(default=None, description="the phone's clock: kept, never trusted")
    unable: bool = Field(default=False, strict=True)
    reason: str | None = Field(default=None, max_length=500)

    @model_validator(mode="after")
    def _lat_lon(self) -> VisitIn:
        if (self.lat is None) != (self.lon is None):
            raise ValueError("lat and lon go together")
        return self


class Score(BaseModel):
    """A figure with its parts: ``value`` = numerator / denominator (x 100 for a score), null when nothing
    applied."""

    numerator: float
    denominator: float
    value: float | None


class CaseRef(BaseModel):
    id: int
    tracking_code: str
    status: str
    unit: UnitRef | None
    item: str = Field(description="the item's code")
    repeat: bool = Field(description="the failure was added to the item's open case (多次整改)")


class ResultOut(BaseModel):
    item: str
    text: str = Field(description="the item's text as answered")
    answer_kind: str
    threshold: int | None
    weight: float
    result: Answer
    amount: int | None
    note: str | None
    photos: list[str]
    case_id: int | None


class VisitPhotoOut(BaseModel):
    id: int
    name: str
    case_id: int | None = Field(description="the failure's case that shows it, if any")
    sha256: str
    flags: list[str] = Field(description="evidence checks, measured against the case's place or the point")
    distance_m: float | None
    taken_at: dt.datetime | None
    url: str = Field(description="the photo for whoever sees the visit (?size=thumbnail for the small one)")


class VisitPoint(BaseModel):
    id: int
    code: str
    name: str
    type: str
    tier: Tier
    address: str | None
    lat: float
    lon: float
    geometry: dict[str, Any]
    grid: CellRef
    chief_name: str | None
    chief_phone: str | None


class VisitRound(BaseModel):
    id: int
    kind: RoundKind
    title: str
    status: RoundStatus
    period_from: dt.date
    period_to: dt.date


class VisitOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.VISIT_OUT})

    id: int
    round: VisitRound
    point: VisitPoint
    inspector: UserRef | None
    status: VisitStatus
    checklist: PointTypeOut | None = Field(
        description="what to answer (the round's edition); null when retired"
    )
    observed_at: dt.datetime | None
    submitted_at: dt.datetime | None
    unable_reason: str | None
    score: Score | None = Field(
        description="得分率: 100 x weight of compliant items / weight of applicable ones"
    )
    compliance: Score | None = Field(description="符合率: compliant results / applicable results")
    passed: bool | None = Field(
        description="达标: no item failed, or the score reached the round's pass mark"
    )
    results: list[ResultOut]
    photos: list[VisitPhotoOut]
    cases: list[CaseRef]


class VisitList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": examples.VISIT_LIST})

    items: list[VisitOut]
    next_cursor: str | None
