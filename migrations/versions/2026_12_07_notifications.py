"""Notifications: endpoints (webhooks and work-chat bots), the outbox of events and deliveries with every
attempt, and the deadline notices that keep warnings to one per deadline.

Reviewed by hand.

Revision ID: 20261207_0004
Revises: 20261207_0003
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261207_0004"
down_revision: str | Sequence[str] | None = "20261207_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "notify_endpoints",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("target_enc", sa.Text(), nullable=False),
        sa.Column("target_hint", sa.String(length=255), nullable=False),
        sa.Column("secret_enc", sa.Text(), nullable=True),
        sa.Column("previous_secret_enc", sa.Text(), nullable=True),
        sa.Column("rotated_at", When, nullable=True),
        sa.Column("events", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_at", When, nullable=True),
        sa.Column("disabled_reason", sa.String(length=255), nullable=True),
        sa.Column("failing_since", When, nullable=True),
        sa.Column("deleted_at", When, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.CheckConstraint(
            "kind IN ('webhook', 'wecom', 'dingtalk', 'feishu')", name=op.f("ck_notify_endpoints_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_notify_endpoints_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_endpoints")),
    )
    op.create_index(op.f("ix_notify_endpoints_unit_id"), "notify_endpoints", ["unit_id"])
    op.create_table(
        "notify_events",
        sa.Column("id", BigId, nullable=False),
        sa.Column("message_id", sa.String(length=40), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("occurred_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_notify_events_case_id_cases"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_notify_events_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_events")),
        sa.UniqueConstraint("message_id", name=op.f("uq_notify_events_message_id")),
    )
    op.create_index(op.f("ix_notify_events_case_id"), "notify_events", ["case_id"])
    op.create_table(
        "notify_deliveries",
        sa.Column("id", BigId, nullable=False),
        sa.Column("event_id", BigId, nullable=False),
        sa.Column("endpoint_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", When, nullable=False),
        sa.Column("lease_until", When, nullable=True),
        sa.Column("lease_owner", sa.String(length=64), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("delivered_at", When, nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'sending', 'delivered', 'failed')",
            name=op.f("ck_notify_deliveries_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["endpoint_id"],
            ["notify_endpoints.id"],
            name=op.f("fk_notify_deliveries_endpoint_id_notify_endpoints"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notify_events.id"],
            name=op.f("fk_notify_deliveries_event_id_notify_events"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_deliveries")),
        sa.UniqueConstraint("event_id", "endpoint_id", name="uq_notify_deliveries_event_endpoint"),
    )
    op.create_index("ix_notify_deliveries_due", "notify_deliveries", ["status", "next_attempt_at"])
    op.create_index(op.f("ix_notify_deliveries_endpoint_id"), "notify_deliveries", ["endpoint_id"])
    op.create_index(op.f("ix_notify_deliveries_event_id"), "notify_deliveries", ["event_id"])
    op.create_table(
        "notify_attempts",
        sa.Column("id", BigId, nullable=False),
        sa.Column("delivery_id", BigId, nullable=False),
        sa.Column("started_at", When, nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.String(length=500), nullable=True),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["notify_deliveries.id"],
            name=op.f("fk_notify_attempts_delivery_id_notify_deliveries"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notify_attempts")),
    )
    op.create_index(op.f("ix_notify_attempts_delivery_id"), "notify_attempts", ["delivery_id"])
    op.create_table(
        "notify_deadline_notices",
        sa.Column("case_id", BigId, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("due_at", When, nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.CheckConstraint(
            "kind IN ('warning', 'overdue')", name=op.f("ck_notify_deadline_notices_kind_known")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_notify_deadline_notices_case_id_cases"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("case_id", "kind", "due_at", name=op.f("pk_notify_deadline_notices")),
    )
    # The deadline sweep reads open running cases whose light turned yellow.
    op.create_index(op.f("ix_cases_yellow_at"), "cases", ["yellow_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_cases_yellow_at"), table_name="cases")
    op.drop_table("notify_deadline_notices")
    op.drop_index(op.f("ix_notify_attempts_delivery_id"), table_name="notify_attempts")
    op.drop_table("notify_attempts")
    op.drop_index(op.f("ix_notify_deliveries_event_id"), table_name="notify_deliveries")
    op.drop_index(op.f("ix_notify_deliveries_endpoint_id"), table_name="notify_deliveries")
    op.drop_index("ix_notify_deliveries_due", table_name="notify_deliveries")
    op.drop_table("notify_deliveries")
    op.drop_index(op.f("ix_notify_events_case_id"), table_name="notify_events")
    op.drop_table("notify_events")
    op.drop_index(op.f("ix_notify_endpoints_unit_id"), table_name="notify_endpoints")
    op.drop_table("notify_endpoints")
