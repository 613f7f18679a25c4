"""Shapes of partner units and assignments."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from app.core.deps import DbId
from app.core.schemas import Input, Name
from app.units.models import UnitKind


class UnitRef(BaseModel):
    id: int
    name: str


class UnitCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "name": "崆峒区城市管理综合执法局",
                "kind": "bureau",
                "contact": "值班室",
                "phone": "0933-0000000",
            }
        }
    )

    name: Name
    kind: UnitKind = UnitKind.department
    contact: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=64)


class UnitUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={"example": {"contact": "指挥中心值班室", "phone": "0933-8211000"}}
    )

    name: Name | None = None
    kind: UnitKind | None = None
    contact: str | None = Field(default=None, max_length=255)
    phone: str | None = Field(default=None, max_length=64)
    active: bool | None = None


class UnitOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 2,
                "name": "平凉市公安局交通警察支队崆峒大队",
                "kind": "police",
                "kind_label": "公安",
                "contact": "指挥中心值班室",
                "phone": None,
                "active": True,
                "created_at": "2026-12-07T12:15:00.214076Z",
            }
        }
    )

    id: int
    name: str
    kind: UnitKind
    kind_label: str
    contact: str | None = Field(
        description="who answers (e.g. 值班室): the command centre and the unit's own staff; null for others"
    )
    phone: str | None = Field(description="as contact: the command centre and the unit's own staff only")
    active: bool
    created_at: dt.datetime


class UnitList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "id": 2,
                        "name": "平凉市公安局交通警察支队崆峒大队",
                        "kind": "police",
                        "kind_label": "公安",
                        "contact": "指挥中心值班室",
                        "phone": None,
                        "active": True,
                        "created_at": "2026-12-07T12:15:00.214076Z",
                    }
                ],
                "next_cursor": None,
            }
        }
    )

    items: list[UnitOut]
    next_cursor: str | None


class AssignmentCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={"example": {"unit_id": 5, "grid_id": 1, "category_code": "09009"}}
    )

    unit_id: DbId
    grid_id: DbId
    category_code: str | None = Field(
        default=None,
        pattern=r"^(\d{2}|\d{5})$",
        description="absent: all categories; 2 digits: a major class; 5: one category",
    )


class AssignmentOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 2,
                "unit_id": 2,
                "unit_name": "平凉市公安局交通警察支队崆峒大队",
                "grid_id": 1,
                "grid_code": "620802",
                "grid_name": "崆峒区",
                "category_code": "09009",
                "scope": "category",
                "created_at": "2026-12-07T12:15:00.215495Z",
            }
        }
    )

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
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "id": 2,
                        "unit_id": 2,
                        "unit_name": "平凉市公安局交通警察支队崆峒大队",
                        "grid_id": 1,
                        "grid_code": "620802",
                        "grid_name": "崆峒区",
                        "category_code": "09009",
                        "scope": "category",
                        "created_at": "2026-12-07T12:15:00.215495Z",
                    }
                ],
                "next_cursor": None,
            }
        }
    )

    items: list[AssignmentOut]
    next_cursor: str | None
