"""The category catalogue (部件/事项), GB/T 47678.5-2026 codes plus local extension classes."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Family(str, enum.Enum):
    component = "component"  # 部件: things (manhole covers, street lights, public toilets)
    matter = "matter"  # 事项/事件: situations (exposed garbage, street vending, illegal parking)


class TimeUnit(str, enum.Enum):
    working_hours = "working_hours"
    working_days = "working_days"
    natural_hours = "natural_hours"


class Priority(str, enum.Enum):
    low = "low"
    normal = "normal"
    high = "high"
    urgent = "urgent"


def _in(col: str, enum_cls: type[enum.Enum]) -> str:
    return f"{col} IN ({', '.join(repr(m.value) for m in enum_cls)})"


class CategoryMajor(Base):
    __tablename__ = "category_majors"
    __table_args__ = (
        CheckConstraint(_in("family", Family), name="family_known"),
        CheckConstraint("length(code) = 2", name="code_shape"),
    )

    code: Mapped[str] = mapped_column(String(2), primary_key=True)
    family: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))


class Category(Base):
    __tablename__ = "categories"
    __table_args__ = (
        CheckConstraint("length(code) = 5", name="code_shape"),
        CheckConstraint(_in("family", Family), name="family_known"),
        CheckConstraint(_in("time_unit", TimeUnit), name="time_unit_known"),
        CheckConstraint(_in("priority", Priority), name="priority_known"),
        CheckConstraint("time_limit > 0", name="time_limit_positive"),
    )

    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    major_code: Mapped[str] = mapped_column(
        ForeignKey("category_majors.code", ondelete="RESTRICT"), index=True
    )
    family: Mapped[str] = mapped_column(String(16))
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))
    time_limit: Mapped[int] = mapped_column(Integer)
    time_unit: Mapped[str] = mapped_column(String(16))
    priority: Mapped[str] = mapped_column(String(8))
    after_photo_required: Mapped[bool] = mapped_column(Boolean, default=True)
    veto: Mapped[bool] = mapped_column(Boolean, default=False)
    keywords_zh: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords_en: Mapped[list[str]] = mapped_column(JSON, default=list)
    source: Mapped[str | None] = mapped_column(
        String(16)
    )  # provenance of the code: published, domain, derived, local
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
