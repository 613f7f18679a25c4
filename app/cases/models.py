"""Cases (a report becomes a case), their append-only history, veto alerts, and retry records."""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any, ClassVar, Literal

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, BigId, UTCDateTime, utcnow


class Status(str, enum.Enum):
    """States of the closed loop (docs/domain.md)."""

    reported = "reported"  # 已上报
    registered = "registered"  # 已立案
    dispatched = "dispatched"  # 已派遣
    in_progress = "in_progress"  # 处置中
    resolved = "resolved"  # 处置完毕, awaiting the on-site check
    closed = "closed"  # 已结案
    rejected = "rejected"  # 不予立案/作废
    on_hold = "on_hold"  # 挂账


STATUS_LABELS = {  # (zh-CN, en): the one place a state is named for people
    Status.reported: ("已上报", "reported"),
    Status.registered: ("已立案", "registered"),
    Status.dispatched: ("已派遣", "dispatched"),
    Status.in_progress: ("处置中", "in progress"),
    Status.resolved: ("处置完毕", "resolved"),
    Status.closed: ("已结案", "closed"),
    Status.rejected: ("不予立案", "rejected"),
    Status.on_hold: ("挂账", "on hold"),
}


def status_label(status: Status | str, lang: str) -> str:
    """A state's name for people in ``lang`` (``zh`` or ``en``), e.g. 处置中 / in progress."""
    zh, en = STATUS_LABELS[Status(status)]
    return zh if lang == "zh" else en


# Where a case came from: a grid worker's phone, a third-party server's key, an Open311 client, or a failed
# item of a campaign inspection.
Source = Literal["app", "api", "open311", "inspection"]

OPEN_STATUSES = tuple(s for s in Status if s not in (Status.closed, Status.rejected))
_STATUS_VALUES = ", ".join(f"'{s.value}'" for s in Status)
_OPEN_VALUES = ", ".join(f"'{s.value}'" for s in OPEN_STATUSES)


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint(f"status IN ({_STATUS_VALUES})", name="status_known"),
        CheckConstraint("location_source IN ('client', 'exif')", name="location_source_known"),
        CheckConstraint("coord_system IN ('wgs84', 'gcj02', 'bd09')", name="coord_system_known"),
        UniqueConstraint("reporter_id", "client_id", name="uq_cases_reporter_id_client_id"),
        Index("ix_cases_category_created", "category_code", "created_at"),
        Index("ix_cases_lat_lon", "lat", "lon"),
        # Supervisors' lists are keyset pages in id order (bench/bench_queries.py has the plans at
        # 1M cases): each equality filter leads a composite index that ends in id, so a page is an
        # index range scan, first page or deep; the open cases (about 1 % of a city's history) have
        # a partial index of their own for the light, overdue and open-state filters.
        Index("ix_cases_status_id", "status", "id"),
        Index("ix_cases_unit_id_id", "unit_id", "id"),
        Index("ix_cases_reporter_id_id", "reporter_id", "id"),
        Index("ix_cases_grid_id_id", "grid_id", "id"),
        Index("ix_cases_category_code_id", "category_code", "id"),
        Index(
            "ix_cases_open_id",
            "id",
            postgresql_where=text(f"status IN ({_OPEN_VALUES})"),
            sqlite_where=text(f"status IN ({_OPEN_VALUES})"),
        ),
        Index("ix_cases_grid_path", "grid_path"),
        Index("ix_cases_created_at_id", "created_at", "id"),
        # Delta sync pages by (updated_at, id): changes in the order they happened.
        Index("ix_cases_updated_at_id", "updated_at", "id"),
        Index("ix_cases_closed_at", "closed_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(24), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(16), default="app")
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code", ondelete="RESTRICT"))
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(255))
    lat: Mapped[float] = mapped_column(Double)  # WGS-84
    lon: Mapped[float] = mapped_column(Double)
    reported_lat: Mapped[float] = mapped_column(Double)  # as the client sent it, in coord_system
    reported_lon: Mapped[float] = mapped_column(Double)
    coord_system: Mapped[str] = mapped_column(String(8), default="wgs84")
    location_source: Mapped[str] = mapped_column(String(8), default="client")
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"))
    # Byte order ("C") on PostgreSQL, so a cell's subtree is one index range (app.grids.subtree)
    # whatever the database's default collation; SQLite compares bytes already.
    grid_path: Mapped[str] = mapped_column(String(512).with_variant(String(512, collation="C"), "postgresql"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    routing_rule: Mapped[str] = mapped_column(String(16))
    routing_assignment_id: Mapped[int | None] = mapped_column(
        Integer
    )  # no FK: assignments may be deleted later
    routing_cell_code: Mapped[str] = mapped_column(String(32))
    priority: Mapped[str] = mapped_column(String(8))
    reporter_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    api_key_id: Mapped[int | None] = mapped_column(ForeignKey("api_keys.id", ondelete="RESTRICT"))
    client_id: Mapped[str | None] = mapped_column(String(64))
    observed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    self_handled: Mapped[bool] = mapped_column(Boolean, default=False)
    # Decided when filed (a veto item, 一票否决): never on a public feed, whatever its category says later.
    internal: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    routed_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    time_limit: Mapped[int] = mapped_column(Integer)  # the category's limit when the case was filed
    time_unit: Mapped[str] = mapped_column(String(16))
    # The deadline clock (app.deadlines.clock): seconds of the limit's own kind of time (working or
    # natural); it runs from clock_started_at, and used_seconds holds what earlier runs used.
    limit_seconds: Mapped[float | None] = mapped_column(Double)
    used_seconds: Mapped[float] = mapped_column(Double, default=0.0)
    clock_started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    pending_extension_hours: Mapped[int | None] = mapped_column(Integer)
    pending_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    return_count: Mapped[int] = mapped_column(Integer, default=0)
    rework_count: Mapped[int] = mapped_column(Integer, default=0)
    urge_count: Mapped[int] = mapped_column(Integer, default=0)
    extension_count: Mapped[int] = mapped_column(Integer, default=0)  # approved extensions (延期)
    hold_count: Mapped[int] = mapped_column(Integer, default=0)  # approved holds (挂账)
    dispatched_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, index=True)
    yellow_at: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime, index=True
    )  # when 80 % of the limit is used
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    resolved_on_time: Mapped[bool | None] = mapped_column(Boolean)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every change a phone must sync sets updated_at (delta sync reads it); a deleted case stays as a
    # tombstone so phones learn that it went (app.reports.listing).
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    deleted_reason: Mapped[str | None] = mapped_column(Text)
    attributes: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # Open311 attribute[code] values
    # A failed item of a campaign inspection (source "inspection"): its round, and what the case shows of it
    # ({"round_id", "visit_id", "point": {"id", "code", "name"}, "item": {"code", "text"}}).
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)
    inspection: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    media_url: Mapped[str | None] = mapped_column(String(2048))  # a client's link, stored, never fetched

    __mapper_args__ = {"version_id_col": version}


class CaseEvent(Base):
    """One step of a case's history. Append-only: no code path updates or deletes these rows."""

    __tablename__ = "case_events"
    __table_args__ = (
        # "Cases my unit holds or has held" (app.cases.permissions): every unit that ever held a case got
        # it by a dispatch, so the dispatches alone answer it, in case order.
        Index(
            "ix_case_events_dispatch_unit",
            "unit_id",
            "case_id",
            postgresql_where=text("action = 'dispatch'"),
            sqlite_where=text("action = 'dispatch'"),
        ),
        # The assessment's dispatch and return counts of a period's cases (app.stats.service).
        Index(
            "ix_case_events_assessment",
            "case_id",
            postgresql_include=["unit_id", "action"],
            postgresql_where=text("action IN ('dispatch', 'return')"),
            sqlite_where=text("action IN ('dispatch', 'return')"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    actor_kind: Mapped[str] = mapped_column(String(16))  # user, system, api_key
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    note: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    public_note: Mapped[str | None] = mapped_column(Text)  # written for the public (Open311 status_notes)
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Alert(Base):
    """A supervisors' alert, e.g. a veto item (一票否决) reported: raised at once, before any dispatch."""

    __tablename__ = "alerts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class CaseContact(Base):
    """Who filed an Open311 request, as their client sent it: shown to staff, never to other clients."""

    __tablename__ = "case_contacts"
    FIELDS: ClassVar[tuple[str, ...]] = (
        "email",
        "first_name",
        "last_name",
        "phone",
        "device_id",
        "account_id",
    )

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254))
    first_name: Mapped[str | None] = mapped_column(String(100))
    last_name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    device_id: Mapped[str | None] = mapped_column(String(200))
    account_id: Mapped[str | None] = mapped_column(String(200))
