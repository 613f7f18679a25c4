"""Initial schema: users and API keys, grid cells, partner units and assignments, the category catalogue.

Reviewed by hand. Works on SQLite (batch mode for indexes) and PostgreSQL, up and down.

Revision ID: 20261130_0001
Revises:
Create Date: 2026-11-30
"""

import datetime
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261130_0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category_majors",
        sa.Column("code", sa.String(length=2), nullable=False),
        sa.Column("family", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.CheckConstraint("family IN ('component', 'matter')", name=op.f("ck_category_majors_family_known")),
        sa.CheckConstraint("length(code) = 2", name=op.f("ck_category_majors_code_shape")),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_category_majors")),
    )
    op.create_table(
        "grid_cells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("path", sa.String(length=512), nullable=False),
        sa.Column("geometry", sa.LargeBinary(), nullable=False),
        sa.Column("min_lon", sa.Double(), nullable=False),
        sa.Column("min_lat", sa.Double(), nullable=False),
        sa.Column("max_lon", sa.Double(), nullable=False),
        sa.Column("max_lat", sa.Double(), nullable=False),
        sa.Column("area_m2", sa.Double(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("level >= 1", name=op.f("ck_grid_cells_level_positive")),
        sa.CheckConstraint(
            "min_lon <= max_lon AND min_lat <= max_lat", name=op.f("ck_grid_cells_bbox_ordered")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["grid_cells.id"],
            name=op.f("fk_grid_cells_parent_id_grid_cells"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_cells")),
        sa.UniqueConstraint("code", name=op.f("uq_grid_cells_code")),
    )
    with op.batch_alter_table("grid_cells", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_grid_cells_parent_id"), ["parent_id"], unique=False)
        batch_op.create_index(
            "ix_grid_cells_path", ["path"], unique=False, postgresql_ops={"path": "text_pattern_ops"}
        )

    op.create_table(
        "grid_revision",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.String(length=36), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_grid_revision_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grid_revision")),
    )
    op.bulk_insert(
        sa.table(
            "grid_revision",
            sa.column("id", sa.Integer),
            sa.column("revision", sa.String),
            sa.column("updated_at", app.core.db.UTCDateTime),
        ),
        [
            {
                "id": 1,
                "revision": "initial",
                "updated_at": datetime.datetime(2026, 11, 30, tzinfo=datetime.UTC),
            }
        ],
    )
    op.create_table(
        "units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("contact", sa.String(length=255), nullable=True),
        sa.Column("phone", sa.String(length=64), nullable=True),
        sa.Column("webhook_url", sa.String(length=1024), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "kind IN ('department', 'bureau', 'street_office', 'community', 'village_committee', 'police', 'enterprise', 'other')",
            name=op.f("ck_units_kind_known"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_units")),
        sa.UniqueConstraint("name", name=op.f("uq_units_name")),
    )
    op.create_table(
        "assignments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("category_code", sa.String(length=5), nullable=True),
        sa.Column("scope_code", sa.String(length=5), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "category_code IS NULL OR length(category_code) IN (2, 5)",
            name=op.f("ck_assignments_category_code_shape"),
        ),
        sa.CheckConstraint(
            "scope_code = coalesce(category_code, '')",
            name=op.f("ck_assignments_scope_code_mirrors_category"),
        ),
        sa.UniqueConstraint("unit_id", "grid_id", "scope_code", name="uq_assignments_unit_grid_scope"),
        sa.ForeignKeyConstraint(
            ["grid_id"], ["grid_cells.id"], name=op.f("fk_assignments_grid_id_grid_cells"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_assignments_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_assignments")),
    )
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assignments_grid_id"), ["grid_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_assignments_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "categories",
        sa.Column("code", sa.String(length=5), nullable=False),
        sa.Column("major_code", sa.String(length=2), nullable=False),
        sa.Column("family", sa.String(length=16), nullable=False),
        sa.Column("name_zh", sa.String(length=64), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=False),
        sa.Column("time_limit", sa.Integer(), nullable=False),
        sa.Column("time_unit", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=False),
        sa.Column("after_photo_required", sa.Boolean(), nullable=False),
        sa.Column("veto", sa.Boolean(), nullable=False),
        sa.Column("keywords_zh", sa.JSON(), nullable=False),
        sa.Column("keywords_en", sa.JSON(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("family IN ('component', 'matter')", name=op.f("ck_categories_family_known")),
        sa.CheckConstraint(
            "priority IN ('low', 'normal', 'high', 'urgent')", name=op.f("ck_categories_priority_known")
        ),
        sa.CheckConstraint(
            "time_unit IN ('working_hours', 'working_days', 'natural_hours')",
            name=op.f("ck_categories_time_unit_known"),
        ),
        sa.CheckConstraint("length(code) = 5", name=op.f("ck_categories_code_shape")),
        sa.CheckConstraint("time_limit > 0", name=op.f("ck_categories_time_limit_positive")),
        sa.ForeignKeyConstraint(
            ["major_code"],
            ["category_majors.code"],
            name=op.f("fk_categories_major_code_category_majors"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_categories")),
    )
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_categories_major_code"), ["major_code"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(role = 'unit_staff') = (unit_id IS NOT NULL)", name=op.f("ck_users_unit_iff_unit_staff")
        ),
        sa.CheckConstraint(
            "role IN ('worker', 'unit_staff', 'dispatcher', 'supervisor', 'admin')",
            name=op.f("ck_users_role_known"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_users_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_users_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "api_keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", app.core.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", app.core.db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["users.id"], name=op.f("fk_api_keys_created_by_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("prefix", name=op.f("uq_api_keys_prefix")),
    )
    op.create_table(
        "worker_grids",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid_cells.id"],
            name=op.f("fk_worker_grids_grid_id_grid_cells"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_worker_grids_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", "grid_id", name=op.f("pk_worker_grids")),
    )
    with op.batch_alter_table("worker_grids", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_worker_grids_grid_id"), ["grid_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("worker_grids", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_worker_grids_grid_id"))

    op.drop_table("worker_grids")
    op.drop_table("api_keys")
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_users_unit_id"))

    op.drop_table("users")
    with op.batch_alter_table("categories", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_categories_major_code"))

    op.drop_table("categories")
    with op.batch_alter_table("assignments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assignments_unit_id"))
        batch_op.drop_index(batch_op.f("ix_assignments_grid_id"))

    op.drop_table("assignments")
    op.drop_table("units")
    op.drop_table("grid_revision")
    with op.batch_alter_table("grid_cells", schema=None) as batch_op:
        batch_op.drop_index("ix_grid_cells_path", postgresql_ops={"path": "text_pattern_ops"})
        batch_op.drop_index(batch_op.f("ix_grid_cells_parent_id"))

    op.drop_table("grid_cells")
    op.drop_table("category_majors")
