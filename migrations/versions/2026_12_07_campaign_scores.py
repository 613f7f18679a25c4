"""Campaign scores (docs/campaign.md "Boards", "The negative list"): ``campaign_boards`` keeps each published
round's boards (红黑榜) as they were made at publishing; ``campaign_negative_events`` is the negative list
(负面清单), events that deduct points from or veto a unit or a street.

Reviewed by hand; batch mode for SQLite. New tables only, so no existing row needs a value.

Revision ID: 20261207_0012
Revises: 20261207_0011
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261207_0012"
down_revision: str | Sequence[str] | None = "20261207_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "campaign_boards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("made_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.CheckConstraint("kind IN ('unit', 'grid', 'point')", name=op.f("ck_campaign_boards_kind_known")),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["campaign_rounds.id"],
            name=op.f("fk_campaign_boards_round_id_campaign_rounds"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_boards")),
        sa.UniqueConstraint("round_id", "kind", name="uq_campaign_boards_round_kind"),
    )
    op.create_table(
        "campaign_negative_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("grid_id", sa.Integer(), nullable=True),
        sa.Column("occurred_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("penalty", sa.String(length=8), nullable=False),
        sa.Column("points", sa.Double(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "penalty IN ('deduct', 'veto')", name=op.f("ck_campaign_negative_events_penalty_known")
        ),
        sa.CheckConstraint(
            "status IN ('proposed', 'confirmed', 'rejected')",
            name=op.f("ck_campaign_negative_events_status_known"),
        ),
        sa.CheckConstraint(
            "(unit_id IS NULL) <> (grid_id IS NULL)", name=op.f("ck_campaign_negative_events_one_subject")
        ),
        sa.CheckConstraint("points >= 0", name=op.f("ck_campaign_negative_events_points_not_negative")),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_campaign_negative_events_case_id_cases"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_campaign_negative_events_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["users.id"],
            name=op.f("fk_campaign_negative_events_decided_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid_cells.id"],
            name=op.f("fk_campaign_negative_events_grid_id_grid_cells"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"],
            ["units.id"],
            name=op.f("fk_campaign_negative_events_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_negative_events")),
        sa.UniqueConstraint("case_id", name=op.f("uq_campaign_negative_events_case_id")),
    )
    with op.batch_alter_table("campaign_negative_events", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_negative_events_occurred_at", ["occurred_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_negative_events", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_negative_events_occurred_at")

    op.drop_table("campaign_negative_events")
    op.drop_table("campaign_boards")
