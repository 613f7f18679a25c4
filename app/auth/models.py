"""People and machines that call the service: users with one role each, and API keys."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


class Role(str, enum.Enum):
    """The five roles of docs/api.md; a user has exactly one."""

    worker = "worker"  # 网格员: patrols grid cells, reports, checks on site
    unit_staff = "unit_staff"  # 处置单位人员: staff of one partner unit
    dispatcher = "dispatcher"  # 受理员/派遣员 at the command centre
    supervisor = "supervisor"  # 督查, grid chiefs, leaders
    admin = "admin"


ROLE_LABELS_ZH = {
    Role.worker: "网格员",
    Role.unit_staff: "处置单位人员",
    Role.dispatcher: "派遣员",
    Role.supervisor: "督查员",
    Role.admin: "系统管理员",
}

_ROLE_VALUES = ", ".join(f"'{r.value}'" for r in Role)


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(f"role IN ({_ROLE_VALUES})", name="role_known"),
        CheckConstraint("(role = 'unit_staff') = (unit_id IS NOT NULL)", name="unit_iff_unit_staff"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(128), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # When the cases this user may see last changed without the cases changing (role, unit,
    # patrolled cells): a phone's delta sync from before then must start again (410 sync_reset_required).
    scope_changed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    # The generation of the bearer tokens honoured for this user (claim ``gen``): raised by a password
    # change, a deactivation and a logout, which revokes every token issued before. A counter, not a
    # time: JWT ``iat`` is whole seconds and another process's clock may run ahead.
    token_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class WorkerGrid(Base):
    """A grid worker patrols a grid cell (and so everything below it)."""

    __tablename__ = "worker_grids"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    grid_id: Mapped[int] = mapped_column(
        ForeignKey("grid_cells.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class ApiKey(Base):
    """A third-party server's key: only its SHA-256 is stored; the prefix finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(128))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
