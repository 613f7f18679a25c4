"""``campaign_results.round_id`` (its visit's round) with an index on (round_id, result): a round's failures are
found without walking its visits, which kept the scores of a 2,000-point round over 200 ms on PostgreSQL (a
scan of every round's results). Filled from the visits, then made NOT NULL.

Reviewed by hand; batch mode for SQLite.

Revision ID: 20261207_0014
Revises: 20261207_0013
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0014"
down_revision: str | Sequence[str] | None = "20261207_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaign_results", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE campaign_results SET round_id = "
        "(SELECT v.round_id FROM campaign_visits v WHERE v.id = campaign_results.visit_id)"
    )
    with op.batch_alter_table("campaign_results", schema=None) as batch_op:
        batch_op.alter_column("round_id", existing_type=sa.Integer(), nullable=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_campaign_results_round_id_campaign_rounds"),
            "campaign_rounds",
            ["round_id"],
            ["id"],
            ondelete="RESTRICT",
        )
        batch_op.create_index("ix_campaign_results_round_result", ["round_id", "result"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("campaign_results", schema=None) as batch_op:
        batch_op.drop_index("ix_campaign_results_round_result")
        batch_op.drop_constraint(
            batch_op.f("fk_campaign_results_round_id_campaign_rounds"), type_="foreignkey"
        )
        batch_op.drop_column("round_id")
