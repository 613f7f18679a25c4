"""Units lose ``webhook_url``: it was stored and never used, and every role could read it (a work-chat
robot's URL carries its only secret). Pushing work to units gets endpoints of its own.

Reviewed by hand; batch mode for SQLite.

Revision ID: 20261207_0002
Revises: 20261207_0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0002"
down_revision: str | Sequence[str] | None = "20261207_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.drop_column("webhook_url")


def downgrade() -> None:
    with op.batch_alter_table("units", schema=None) as batch_op:
        batch_op.add_column(sa.Column("webhook_url", sa.String(length=1024), nullable=True))
