"""Shapes of partner units and assignments."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from app.core.deps import DbId
from app.core.schemas import Input, Name
from app.units.models import UnitKind


class UnitCreate(Input):
    model_config = ConfigDict(json_schema_extra={"example": {
        "name": "崆峒区城市管理综合执法局", "kind": "bureau", "contact": "值班室", "phone": "0933-0000000"}})

    name: Name
    kind: UnitKind = UnitKind.department
    contact: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=64)
    webhook_url: str | None = Field(default=None, max_length=1024, pattern=r"^https?://")


class UnitUpdate(Input):
    name: Name | None = None
    kind: UnitKind | None = None
    contact: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=64)
    webhook_url: str | None = Field(default=None, max_length=1024, pattern=r"^https?://")
    active: bool | None = None


class UnitOut(BaseModel):
    id: int
    name: str
    kind: UnitKind
    kind_label: str
    contact: str | None
    phone: str | None
    webhook_url: str | None
    active: bool
    created_at: dt.datetime


class UnitList(BaseModel):
    items: list[UnitOut]
    next_cursor: str | None


class AssignmentCreate(Input):
    model_config = ConfigDict(json_schema_extra={"example": {
        "unit_id": 5, "grid_id": 1, "category_code": "09009"}})

    unit_id: DbId
    grid_id: DbId
    category_code: str | None = Field(default=None, pattern=r"^(\d{2}|\d{5})$",
                                      description="absent: all categories; 2 digits: a major class; 5: one category")


class AssignmentOut(BaseModel):
    id: int
    unit_id: int
    unit_name: str
    grid_id: int
    grid_code: str
    grid_name: str
    category_code: str | None
    scope: str = Field(description="category, major or general")
    created_at: dt.datetime


class AssignmentList(BaseModel):
    items: list[AssignmentOut]
    next_cursor: str | None
