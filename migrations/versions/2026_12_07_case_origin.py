"""Cases opened by a campaign inspection say where they come from: ``round_id`` (the list filters on it) and
``inspection`` (the round, visit, point and item, as the case shows them).

Reviewed by hand; batch mode for SQLite.

Revision ID: 20261207_0005
Revises: 20261207_0004
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0005"
down_revision: str | Sequence[str] | None = "20261207_0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("round_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("inspection", sa.JSON(), nullable=True))
        batch_op.create_index(batch_op.f("ix_cases_round_id"), ["round_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_cases_round_id"))
        batch_op.drop_column("inspection")
        batch_op.drop_column("round_id")
