"""Rectification notices (docs/campaign.md "Rectification notices"): ``campaign_notices``, one per round and
responsible unit (整改通知), and ``campaign_notice_items``, the failures (results) it lists with their cases.

Reviewed by hand; new tables only, so batch mode is needed only for the indexes. Existing rows need nothing:
no notice was issued before this.

Revision ID: 20261207_0013
Revises: 20261207_0012
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261207_0013"
down_revision: str | Sequence[str] | None = "20261207_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

When = app.core.db.UTCDateTime(timezone=True)
BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "campaign_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", When, nullable=False),
        sa.Column("due_at", When, nullable=True),
        sa.Column("signed_off_at", When, nullable=True),
        sa.Column("updated_at", When, nullable=False),
        sa.CheckConstraint("status IN ('open', 'signed_off')", name=op.f("ck_campaign_notices_status_known")),
        sa.CheckConstraint(
            "(status = 'signed_off') = (signed_off_at IS NOT NULL)",
            name=op.f("ck_campaign_notices_signed_off_when"),
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["campaign_rounds.id"],
            name=op.f("fk_campaign_notices_round_id_campaign_rounds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_campaign_notices_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_notices")),
        sa.UniqueConstraint("round_id", "unit_id", name="uq_campaign_notices_round_unit"),
    )
    with op.batch_alter_table("campaign_notices", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_notices_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "campaign_notice_items",
        sa.Column("id", BigId, nullable=False),
        sa.Column("notice_id", sa.Integer(), nullable=False),
        sa.Column("result_id", BigId, nullable=False),
        sa.Column("case_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["cases.id"],
            name=op.f("fk_campaign_notice_items_case_id_cases"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["notice_id"],
            ["campaign_notices.id"],
            name=op.f("fk_campaign_notice_items_notice_id_campaign_notices"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["result_id"],
            ["campaign_results.id"],
            name=op.f("fk_campaign_notice_items_result_id_campaign_results"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_notice_items")),
        sa.UniqueConstraint("result_id", name=op.f("uq_campaign_notice_items_result_id")),
    )
    with op.batch_alter_table("campaign_notice_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_notice_items_case_id"), ["case_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_notice_items_notice_id"), ["notice_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_notice_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_notice_items_notice_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_notice_items_case_id"))
    op.drop_table("campaign_notice_items")
    with op.batch_alter_table("campaign_notices", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_notices_unit_id"))
    op.drop_table("campaign_notices")
