"""Shapes of scores, trends, failing items, boards and the negative list (docs/campaign.md "Scores",
"Boards", "The negative list"). Every figure is a fraction with its parts, so a reader can check it."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from app.core.deps import DbId
from app.core.schemas import Input, Instant

GroupBy = Literal["point", "point_type", "grid", "unit"]
BoardKind = Literal["unit", "grid", "point"]
FIGURES = ("score", "compliance", "passed", "rectified", "rectified_on_time", "recurrence")


class Fraction(BaseModel):
    """``value`` = ``numerator`` / ``denominator`` (x1 for a score, which is already out of 100); null when
    the denominator is 0."""

    numerator: float
    denominator: float
    value: float | None


class Figures(BaseModel):
    score: Fraction = Field(description="得分率: mean of the points' scores (0-100)")
    compliance: Fraction = Field(description="符合率: compliant results / applicable results")
    passed: Fraction = Field(description="达标: points passed / points scored")
    rectified: Fraction = Field(description="整改率: failures whose case is closed / failures")
    rectified_on_time: Fraction = Field(description="按期整改率: failures closed on time / failures due")
    recurrence: Fraction = Field(description="复发率: failures that recurred within 30 days / failures")


class Definition(BaseModel):
    zh: str
    en: str
    formula: str


class Subject(BaseModel):
    kind: Literal["point", "point_type", "grid", "unit"]
    id: int | None = Field(description="null for points without a responsible unit")
    code: str | None
    name: str


class Group(Figures):
    subject: Subject
    points: int = Field(description="points scored (submitted visits with an applicable item)")


class ScoresOut(BaseModel):
    rounds: list[int]
    group_by: GroupBy
    definitions: dict[str, Definition]
    total: Figures
    groups: list[Group]


class RoundBrief(BaseModel):
    id: int
    title: str
    period_from: dt.date
    period_to: dt.date


class TrendPoint(Figures):
    round: RoundBrief


class TrendOut(BaseModel):
    points: list[TrendPoint]


class ItemRef(BaseModel):
    code: str
    text: str


class FailingItem(BaseModel):
    point_type: str
    item: ItemRef
    failures: Fraction = Field(description="noncompliant results / applicable results of the item")
    weight_lost: float = Field(description="sum of the weights of the item's noncompliant results")


class ItemsOut(BaseModel):
    items: list[FailingItem]


class BoardSubject(BaseModel):
    kind: BoardKind
    id: int | None
    name: str


class BoardEntry(BaseModel):
    subject: BoardSubject
    score: float | None = Field(description="mean point score minus deductions; null with no point scored")
    points: int
    penalty: float = Field(description="points deducted by confirmed negative-list events")
    rank: int | None = Field(
        description="shared by subjects equal on score, points and 符合率; null unranked"
    )
    reason: str | None = Field(description="why it is on its board, zh / en")


class BoardOut(BaseModel):
    round_id: int
    kind: BoardKind
    rule: dict[str, Any]
    made_at: dt.datetime
    ranking: list[BoardEntry]
    red: list[BoardEntry]
    black: list[BoardEntry]
    unranked: list[BoardEntry]


NEGATIVE_EXAMPLE: dict[str, Any] = {
    "code": "FM-2026-031",
    "text": "中央督查组通报: 背街小巷垃圾堆积",
    "unit_id": 3,
    "occurred_at": "2026-12-09T02:00:00Z",
    "penalty": "deduct",
    "points": 2,
}


class NegativeEventIn(Input):
    """A negative-list event against a unit (``unit_id``) or a street (``grid_id``), exactly one of them;
    ``deduct`` takes ``points`` (> 0) off the subject's ranking score, ``veto`` puts it on the black board."""

    model_config = ConfigDict(json_schema_extra={"example": NEGATIVE_EXAMPLE})

    code: str = Field(min_length=1, max_length=32, description="the notice's reference")
    text: str = Field(min_length=1, max_length=2000)
    unit_id: DbId | None = None
    grid_id: DbId | None = None
    occurred_at: Instant = Field(description="counts in every round whose period holds its local date")
    penalty: Literal["deduct", "veto"]
    points: float = Field(default=0, ge=0, le=100, allow_inf_nan=False, description="deducted (deduct)")

    @model_validator(mode="after")
    def _one_subject(self) -> NegativeEventIn:
        if (self.unit_id is None) == (self.grid_id is None):
            raise ValueError("give exactly one of unit_id and grid_id")
        if self.penalty == "deduct" and self.points <= 0:
            raise ValueError("a deduction needs points > 0")
        if self.penalty == "veto" and self.points:
            raise ValueError(
                "a veto deducts no points (it puts the subject on the black board): leave points out"
            )
        if not self.text.strip() or not self.code.strip():
            raise ValueError("code and text must say something")
        return self


class NegativeAction(Input):
    model_config = ConfigDict(json_schema_extra={"example": {"action": "confirm"}})

    action: Literal["confirm", "reject"]


class NegativeEventOut(BaseModel):
    id: int
    code: str
    text: str
    unit_id: int | None
    grid_id: int | None
    occurred_at: dt.datetime
    penalty: Literal["deduct", "veto"]
    points: float
    status: Literal["proposed", "confirmed", "rejected"]
    case_id: int | None
    created_at: dt.datetime
    decided_at: dt.datetime | None


class NegativeEventList(BaseModel):
    items: list[NegativeEventOut]
