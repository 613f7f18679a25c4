"""Open311 GeoReport v2: a request's attribute values and media link on the case, and the reporter's
contact details in a table of their own, read only by staff.

Reviewed by hand.

Revision ID: 20261201_0002
Revises: 20261201_0001
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "20261201_0002"
down_revision: str | Sequence[str] | None = "20261201_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("attributes", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("media_url", sa.String(length=2048), nullable=True))
    op.create_table(
        "case_contacts",
        sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("first_name", sa.String(length=100), nullable=True),
        sa.Column("last_name", sa.String(length=100), nullable=True),
        sa.Column("phone", sa.String(length=40), nullable=True),
        sa.Column("device_id", sa.String(length=200), nullable=True),
        sa.Column("account_id", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_case_contacts_case_id_cases"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_case_contacts")),
    )


def downgrade() -> None:
    op.drop_table("case_contacts")
    with op.batch_alter_table("cases") as batch:
        batch.drop_column("media_url")
        batch.drop_column("attributes")
