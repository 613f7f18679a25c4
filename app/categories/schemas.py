"""Shapes of the category catalogue."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.categories.models import Family, Priority, TimeUnit
from app.core.schemas import Input

CODE5 = r"^\d{5}$"
Keyword = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=32)]


class CategoryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "code": "09009",
                "major_code": "09",
                "major_name": "街面秩序",
                "family": "matter",
                "name": "机动车乱停放",
                "name_zh": "机动车乱停放",
                "name_en": "Illegal parking of motor vehicles",
                "time_limit": 2,
                "time_unit": "working_hours",
                "priority": "normal",
                "after_photo_required": True,
                "veto": False,
                "keywords": ["乱停车"],
                "active": True,
            }
        }
    )

    code: str
    major_code: str
    major_name: str
    family: Family
    name: str = Field(description="in the language chosen by Accept-Language")
    name_zh: str
    name_en: str
    time_limit: int
    time_unit: TimeUnit
    priority: Priority
    after_photo_required: bool
    veto: bool = Field(description="一票否决 item: supervisors are alerted at once")
    keywords: list[str]
    active: bool


class MajorOut(BaseModel):
    code: str
    family: Family
    name: str
    name_zh: str
    name_en: str


class CategoryList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "majors": [
                    {
                        "code": "09",
                        "family": "matter",
                        "name": "街面秩序",
                        "name_zh": "街面秩序",
                        "name_en": "Street order",
                    }
                ],
                "items": [
                    {
                        "code": "09011",
                        "major_code": "09",
                        "major_name": "街面秩序",
                        "family": "matter",
                        "name": "共享单车乱象",
                        "name_zh": "共享单车乱象",
                        "name_en": "Shared bikes in disorder",
                        "time_limit": 4,
                        "time_unit": "working_hours",
                        "priority": "normal",
                        "after_photo_required": True,
                        "veto": False,
                        "keywords": ["共享单车", "单车乱停"],
                        "active": True,
                    }
                ],
            }
        }
    )

    majors: list[MajorOut]
    items: list[CategoryOut]


class CategoryCreate(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "code": "09901",
                "name_zh": "夜市占道经营",
                "name_en": "Night market on the roadway",
                "time_limit": 1,
                "time_unit": "working_days",
                "priority": "normal",
                "after_photo_required": True,
                "keywords_zh": ["夜市", "占道"],
                "keywords_en": ["night market"],
            }
        }
    )

    code: str = Field(pattern=CODE5, description="5 digits: 2-digit major class + 3-digit minor class")
    name_zh: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
    name_en: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128)]
    family: Family | None = Field(default=None, description="defaults to the major class's family")
    time_limit: int = Field(ge=1, le=10_000)
    time_unit: TimeUnit
    priority: Priority = Priority.normal
    after_photo_required: bool = True
    veto: bool = False
    keywords_zh: list[Keyword] = Field(default_factory=list, max_length=20)
    keywords_en: list[Keyword] = Field(default_factory=list, max_length=20)


class CategoryUpdate(Input):
    model_config = ConfigDict(
        json_schema_extra={"example": {"time_limit": 8, "time_unit": "working_hours", "priority": "high"}}
    )

    name_zh: str | None = Field(default=None, min_length=1, max_length=64)
    name_en: str | None = Field(default=None, min_length=1, max_length=128)
    time_limit: int | None = Field(default=None, ge=1, le=10_000)
    time_unit: TimeUnit | None = None
    priority: Priority | None = None
    after_photo_required: bool | None = None
    veto: bool | None = None
    keywords_zh: list[Keyword] | None = Field(default=None, max_length=20)
    keywords_en: list[Keyword] | None = Field(default=None, max_length=20)
    active: bool | None = None


class LoadResult(BaseModel):
    majors: int
    created: int
    updated: int
