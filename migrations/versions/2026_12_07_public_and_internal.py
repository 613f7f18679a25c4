"""What may leave through Open311 is decided on the case and the step, not read from elsewhere later:
``cases.internal`` (a veto item when filed stays internal even if its category's flag is cleared later),
``case_events.public_note`` (text a dispatcher wrote for the public; staff notes never leave).

Reviewed by hand; batch mode for SQLite. Existing cases take their category's veto flag as it is now.

Revision ID: 20261207_0003
Revises: 20261207_0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261207_0003"
down_revision: str | Sequence[str] | None = "20261207_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("internal", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.execute(
        "UPDATE cases SET internal = TRUE WHERE category_code IN (SELECT code FROM categories WHERE veto = TRUE)"
    )
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.add_column(sa.Column("public_note", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("case_events", schema=None) as batch_op:
        batch_op.drop_column("public_note")
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.drop_column("internal")
