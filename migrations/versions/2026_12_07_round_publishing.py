"""Publishing a round (docs/campaign.md "Scores"): ``campaign_rounds.published_at``, and on each visit what its
point was when the round was published (``frozen_code``, ``frozen_name``, ``frozen_type_code``,
``frozen_grid_path``, ``frozen_unit_id``), so a published round's figures never follow later edits of points
or duties.

Reviewed by hand; batch mode for SQLite. Existing rows need no values: no round was published before this.

Revision ID: 20261207_0011
Revises: 20261207_0010
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261207_0011"
down_revision: str | Sequence[str] | None = "20261207_0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

When = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("campaign_rounds", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_at", When, nullable=True))
    with op.batch_alter_table("campaign_visits", schema=None) as batch_op:
        batch_op.add_column(sa.Column("frozen_code", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("frozen_name", sa.String(length=128), nullable=True))
        batch_op.add_column(sa.Column("frozen_type_code", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column(
                "frozen_grid_path",
                sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
                nullable=True,
            )
        )
        batch_op.add_column(sa.Column("frozen_unit_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_campaign_visits_frozen_unit_id_units"),
            "units",
            ["frozen_unit_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade() -> None:
    with op.batch_alter_table("campaign_visits", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_campaign_visits_frozen_unit_id_units"), type_="foreignkey")
        batch_op.drop_column("frozen_unit_id")
        batch_op.drop_column("frozen_grid_path")
        batch_op.drop_column("frozen_type_code")
        batch_op.drop_column("frozen_name")
        batch_op.drop_column("frozen_code")
    with op.batch_alter_table("campaign_rounds", schema=None) as batch_op:
        batch_op.drop_column("published_at")
