"""Partner units (包抓共建单位) and their assignments (包抓) to grid cells."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class UnitKind(str, enum.Enum):
    department = "department"  # 市/区 职能部门
    bureau = "bureau"  # 局
    street_office = "street_office"  # 街道办事处
    community = "community"  # 社区居委会
    village_committee = "village_committee"  # 村委会
    police = "police"  # 公安/交警
    enterprise = "enterprise"  # 国企、公用事业单位
    other = "other"


UNIT_KIND_LABELS_ZH = {
    UnitKind.department: "职能部门",
    UnitKind.bureau: "局",
    UnitKind.street_office: "街道办事处",
    UnitKind.community: "社区居委会",
    UnitKind.village_committee: "村委会",
    UnitKind.police: "公安交警",
    UnitKind.enterprise: "企事业单位",
    UnitKind.other: "其他",
}

_KIND_VALUES = ", ".join(f"'{k.value}'" for k in UnitKind)


class Unit(Base):
    __tablename__ = "units"
    __table_args__ = (CheckConstraint(f"kind IN ({_KIND_VALUES})", name="kind_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    kind: Mapped[str] = mapped_column(String(32))
    contact: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Assignment(Base):
    """Unit ``unit_id`` answers for grid cell ``grid_id`` and everything below it.

    ``category_code`` narrows it: NULL = general (all categories), 2 digits = a major class,
    5 digits = one category. Routing (app.routing.rules) reads these.
    """

    __tablename__ = "assignments"
    __table_args__ = (
        CheckConstraint(
            "category_code IS NULL OR length(category_code) IN (2, 5)", name="category_code_shape"
        ),
        CheckConstraint("scope_code = coalesce(category_code, '')", name="scope_code_mirrors_category"),
        # NULLs are distinct in a UNIQUE constraint, so the general assignment is keyed by '' instead.
        UniqueConstraint("unit_id", "grid_id", "scope_code", name="uq_assignments_unit_grid_scope"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid_cells.id", ondelete="CASCADE"), index=True)
    category_code: Mapped[str | None] = mapped_column(String(5))
    scope_code: Mapped[str] = mapped_column(String(5), default="")  # category_code, or '' when general
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Scope(str, enum.Enum):
    category = "category"
    major = "major"
    general = "general"


def scope_of(category_code: str | None) -> Scope:
    """The specificity of an assignment's ``category_code`` (None, 2 or 5 digits)."""
    if category_code is None:
        return Scope.general
    return Scope.major if len(category_code) == 2 else Scope.category
