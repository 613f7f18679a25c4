"""Shapes of user management: users (admin), the caller (``/me``), API keys."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.auth.models import Role
from app.core.deps import DbId
from app.core.schemas import Input, Label, Name
from app.units.schemas import UnitRef

USERNAME_PATTERN = r"^[A-Za-z0-9_.\-@]{3,64}$"


class GridRef(BaseModel):
    id: int
    code: str
    name: str
    level: int


class UserOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 4,
                "username": "worker1",
                "display_name": "王网格",
                "role": "worker",
                "role_label": "网格员",
                "unit": None,
                "grids": [{"id": 12, "code": "620802001001001", "name": "东关街道 单元网格 001", "level": 3}],
                "active": True,
                "created_at": "2026-11-30T04:00:00Z",
            }
        }
    )

    id: int
    username: str
    display_name: str
    role: Role
    role_label: str
    unit: UnitRef | None
    grids: list[GridRef]
    active: bool
    created_at: dt.datetime


class UserCreate(Input):
    """A new user. ``username`` is case-insensitive (kept in lower case)."""

    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "username": "worker2",
                "password": "a long passphrase",
                "role": "worker",
                "display_name": "李网格",
                "grid_ids": [12, 13],
            }
        }
    )

    username: str = Field(pattern=USERNAME_PATTERN, description="case-insensitive; stored in lower case")
    password: str = Field(min_length=8, max_length=256)
    role: Role
    display_name: Label = ""
    unit_id: DbId | None = Field(default=None, description="required for unit_staff, refused for other roles")
    grid_ids: list[DbId] = Field(
        default_factory=list, max_length=10_000, description="workers: the cells they patrol"
    )

    @field_validator("username", mode="after")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class UserUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={"example": {"display_name": "交警大队 值班民警", "active": True}}
    )

    password: str | None = Field(default=None, min_length=8, max_length=256)
    role: Role | None = None
    display_name: Label | None = None
    unit_id: DbId | None = None
    grid_ids: list[DbId] | None = Field(default=None, max_length=10_000)
    active: bool | None = None


class ApiKeyCreate(Input):
    model_config = ConfigDict(json_schema_extra={"example": {"name": "12345 市民热线"}})

    name: Name


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str
    created_at: dt.datetime
    revoked_at: dt.datetime | None
    last_used_at: dt.datetime | None


class ApiKeyCreated(ApiKeyOut):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "id": 1,
                "name": "12345 市民热线",
                "prefix": "f5e1d47a",
                "created_at": "2026-12-07T12:23:16.360442Z",
                "revoked_at": None,
                "last_used_at": None,
                "key": "gik_f5e1d47a_zoPj1XscSkSpFJUy22ChGHo4CS2o-CbLicaKrhYLvSI",
            }
        }
    )

    key: str = Field(description="the key itself; shown once, only its hash is stored")


class UserList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "id": 7,
                        "username": "jiaojing",
                        "display_name": "交警大队 staff",
                        "role": "unit_staff",
                        "role_label": "责任单位人员",
                        "unit": {"id": 2, "name": "平凉市公安局交通警察支队崆峒大队"},
                        "grids": [],
                        "active": True,
                        "created_at": "2026-12-07T12:15:00.799928Z",
                    }
                ],
                "next_cursor": "eyJhZnRlciI6N30",
            }
        }
    )

    items: list[UserOut]
    next_cursor: str | None


class ApiKeyList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "id": 1,
                        "name": "12345 市民热线",
                        "prefix": "f5e1d47a",
                        "created_at": "2026-12-07T12:23:16.360442Z",
                        "revoked_at": None,
                        "last_used_at": "2026-12-07T12:30:02.118200Z",
                    }
                ]
            }
        }
    )

    items: list[ApiKeyOut]
