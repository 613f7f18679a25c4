"""Revision tokens of the per-process caches (app.core.revisions): one row per cached table set.

The grid's token moves here from ``grid_revision`` (same value, so running processes keep their index);
the other sets start with random tokens, never a constant, so two databases never share one.
Reviewed by hand.

Revision ID: 20261207_0001
Revises: 20261202_0001
Create Date: 2026-12-07
"""

import datetime
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261207_0001"
down_revision: str | Sequence[str] | None = "20261202_0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAMES = ("grid", "categories", "units", "calendar")


def upgrade() -> None:
    revisions = op.create_table(
        "revisions",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=36), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_revisions")),
    )
    grid = op.get_bind().execute(sa.text("SELECT revision FROM grid_revision WHERE id = 1")).scalar()
    now = datetime.datetime.now(datetime.UTC)
    op.bulk_insert(
        revisions,
        [
            {
                "name": name,
                "token": (grid if name == "grid" and grid else str(uuid.uuid4())),
                "updated_at": now,
            }
            for name in NAMES
        ],
    )
    op.drop_table("grid_revision")


def downgrade() -> None:
    grid_revision = op.create_table(
        "grid_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(length=36), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_grid_revision_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_revision")),
    )
    grid = op.get_bind().execute(sa.text("SELECT token FROM revisions WHERE name = 'grid'")).scalar()
    op.bulk_insert(
        grid_revision,
        [{"id": 1, "revision": grid or "initial", "updated_at": datetime.datetime.now(datetime.UTC)}],
    )
    op.drop_table("revisions")
