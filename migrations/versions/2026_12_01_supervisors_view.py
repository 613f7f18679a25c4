"""Supervisors' view: deleted cases as tombstones, extension/hold counters for the assessment, a
user's scope change for delta sync, and the indexes the list, sync and assessment queries use.

Reviewed by hand. On PostgreSQL ``cases.grid_path`` compares bytes (collation "C") so a cell's
subtree is one btree range whatever the database's default collation (app.grids.models.subtree).
The counters are filled from the history already recorded. Indexes are checked against 1M cases
in bench/bench_queries.py.

Revision ID: 20261201_0001
Revises: 20261130_0003
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261201_0001"
down_revision: str | Sequence[str] | None = "20261130_0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "status IN ('reported', 'registered', 'dispatched', 'in_progress', 'resolved', 'on_hold')"
# Single-column indexes that become (column, id): keyset pages in id order read them in order.
REPLACED = [
    ("ix_cases_grid_id", "grid_id"),
    ("ix_cases_unit_id", "unit_id"),
    ("ix_cases_reporter_id", "reporter_id"),
    ("ix_cases_created_at", "created_at"),
]
CASE_INDEXES = [
    ("ix_cases_status_id", ["status", "id"]),
    ("ix_cases_grid_id_id", ["grid_id", "id"]),
    ("ix_cases_unit_id_id", ["unit_id", "id"]),
    ("ix_cases_reporter_id_id", ["reporter_id", "id"]),
    ("ix_cases_category_code_id", ["category_code", "id"]),
    ("ix_cases_grid_path", ["grid_path"]),
    ("ix_cases_created_at_id", ["created_at", "id"]),
    ("ix_cases_updated_at_id", ["updated_at", "id"]),
    ("ix_cases_closed_at", ["closed_at"]),
]


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("scope_changed_at", app.core.db.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("extension_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("hold_count", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(sa.Column("deleted_at", app.core.db.UTCDateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("deleted_reason", sa.Text(), nullable=True))
        if postgres:
            batch.alter_column(
                "grid_path",
                type_=sa.String(length=512, collation="C"),
                existing_type=sa.String(length=512),
                existing_nullable=False,
            )
        for name, _ in REPLACED:
            batch.drop_index(name)
        for name, columns in CASE_INDEXES:
            batch.create_index(name, columns, unique=False)
    # Partial indexes (PostgreSQL and SQLite both have them): the open cases (about 1 % of a city's
    # history), the dispatches that say which units held a case, the events the assessment counts.
    op.create_index(
        "ix_cases_open_id",
        "cases",
        ["id"],
        unique=False,
        postgresql_where=sa.text(OPEN),
        sqlite_where=sa.text(OPEN),
    )
    op.create_index(
        "ix_case_events_dispatch_unit",
        "case_events",
        ["unit_id", "case_id"],
        unique=False,
        postgresql_where=sa.text("action = 'dispatch'"),
        sqlite_where=sa.text("action = 'dispatch'"),
    )
    op.create_index(
        "ix_case_events_assessment",
        "case_events",
        ["case_id"],
        unique=False,
        postgresql_include=["unit_id", "action"],
        postgresql_where=sa.text("action IN ('dispatch', 'return')"),
        sqlite_where=sa.text("action IN ('dispatch', 'return')"),
    )
    # Approved holds are the decide_hold events that put the case on hold; approved extensions are
    # decide_extension events whose data says approve (JSON, so read portably in Python).
    op.execute(
        "UPDATE cases SET hold_count = (SELECT count(*) FROM case_events e WHERE e.case_id = cases.id "
        "AND e.action = 'decide_hold' AND e.to_status = 'on_hold')"
    )
    bind = op.get_bind()
    events = sa.table(
        "case_events",
        sa.column("case_id", sa.Integer),
        sa.column("action", sa.String),
        sa.column("data", sa.JSON),
    )
    approved: dict[int, int] = {}
    for case_id, data in bind.execute(
        sa.select(events.c.case_id, events.c.data).where(events.c.action == "decide_extension")
    ):
        if isinstance(data, dict) and data.get("approve") is True:
            approved[case_id] = approved.get(case_id, 0) + 1
    cases = sa.table("cases", sa.column("id", sa.Integer), sa.column("extension_count", sa.Integer))
    for case_id, count in approved.items():
        bind.execute(sa.update(cases).where(cases.c.id == case_id).values(extension_count=count))


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    op.drop_index("ix_case_events_assessment", table_name="case_events")
    op.drop_index("ix_case_events_dispatch_unit", table_name="case_events")
    op.drop_index("ix_cases_open_id", table_name="cases")
    with op.batch_alter_table("cases") as batch:
        for name, _ in reversed(CASE_INDEXES):
            batch.drop_index(name)
        for name, column in REPLACED:
            batch.create_index(name, [column], unique=False)
        if postgres:
            batch.alter_column(
                "grid_path",
                type_=sa.String(length=512),
                existing_type=sa.String(length=512, collation="C"),
                existing_nullable=False,
            )
        batch.drop_column("deleted_reason")
        batch.drop_column("deleted_at")
        batch.drop_column("hold_count")
        batch.drop_column("extension_count")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("scope_changed_at")
