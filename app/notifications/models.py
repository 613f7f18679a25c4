"""Telling units and the command centre (docs/notifications.md): endpoints, and an outbox of events with one
delivery per endpoint, each attempt kept.

An event and its deliveries are written in the transaction of the change that caused them, so a crash never
loses one nor invents one; a worker sends deliveries after the commit (app.notifications.worker) and keeps
every attempt. Secrets and targets (a bot's key is its URL's only secret) are stored encrypted
(app.notifications.secrets).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, BigId, UTCDateTime, utcnow

KINDS = ("webhook", "wecom", "dingtalk", "feishu")
DELIVERY_STATES = ("pending", "sending", "delivered", "failed")


class Endpoint(Base):
    """Where a unit (``unit_id``) or the command centre (``unit_id`` NULL) is told: a signed webhook or a
    work-chat group bot."""

    __tablename__ = "notify_endpoints"
    __table_args__ = (CheckConstraint(f"kind IN {KINDS}", name="kind_known"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(128))
    target_enc: Mapped[str] = mapped_column(Text)  # webhook URL, or the bot's key/token: encrypted
    target_hint: Mapped[str] = mapped_column(String(255))  # what may be shown of it
    secret_enc: Mapped[str | None] = mapped_column(Text)  # webhook whsec_, DingTalk/Feishu signing secret
    previous_secret_enc: Mapped[str | None] = mapped_column(
        Text
    )  # signed with too, for 24 h after a rotation
    rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    events: Mapped[list[str]] = mapped_column(
        JSON, default=list
    )  # empty: every event that concerns its owner
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    disabled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[str | None] = mapped_column(String(255))
    failing_since: Mapped[dt.datetime | None] = mapped_column(
        UTCDateTime
    )  # first failure of the current streak
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Event(Base):
    """Something that happened and asks someone to act; ``message_id`` is the ``webhook-id`` every delivery and
    every retry of it carries, so receivers drop duplicates."""

    __tablename__ = "notify_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(40), unique=True)
    type: Mapped[str] = mapped_column(String(40))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Delivery(Base):
    """One event to one endpoint: pending until a worker takes it (``sending`` under a lease), then
    ``delivered``, or ``failed`` when the retry schedule ran out or the endpoint was disabled."""

    __tablename__ = "notify_deliveries"
    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATES}", name="status_known"),
        UniqueConstraint("event_id", "endpoint_id", name="uq_notify_deliveries_event_endpoint"),
        # What workers claim: due deliveries in the order they fall due.
        Index("ix_notify_deliveries_due", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("notify_events.id", ondelete="RESTRICT"), index=True)
    endpoint_id: Mapped[int] = mapped_column(
        ForeignKey("notify_endpoints.id", ondelete="RESTRICT"), index=True
    )
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(64))
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Attempt(Base):
    """One try at a delivery (several deliveries share a try when a bot got them as one digest)."""

    __tablename__ = "notify_attempts"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("notify_deliveries.id", ondelete="RESTRICT"), index=True
    )
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[int] = mapped_column(Integer)
    status_code: Mapped[int | None] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(String(500))


class DeadlineNotice(Base):
    """A deadline warning or overdue notice emitted for one deadline of a case: at most once per deadline,
    whatever the number of processes sweeping (the primary key decides)."""

    __tablename__ = "notify_deadline_notices"
    __table_args__ = (CheckConstraint("kind IN ('warning', 'overdue')", name="kind_known"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    due_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
