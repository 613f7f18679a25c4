"""The campaign's field assessment (docs/campaign.md): editions, point types and items; inspection points and
their item duties; rounds, visits, results, and the photos a visit brought. ``photos.case_id`` may now be null:
a visit's photo that no case shows (an unable visit's, one only compliant answers named) keeps its row there,
so the orphan sweep and the rollback sweep see its file like every other.

Reviewed by hand; batch mode for SQLite. ``cases.round_id`` stays without a foreign key: declaring one on
the Case model would make every flush of a case need the campaign's tables in the metadata, and the cases
layer sits below the campaign.

Revision ID: 20261207_0010
Revises: 20261207_0006
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.core.db

revision: str = "20261207_0010"
down_revision: str | Sequence[str] | None = "20261207_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
When = app.core.db.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "campaign_editions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("issuer", sa.String(length=200), nullable=True),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_editions")),
        sa.UniqueConstraint("code", name=op.f("uq_campaign_editions_code")),
    )
    with op.batch_alter_table("campaign_editions", schema=None) as batch_op:
        batch_op.create_index(
            "uq_campaign_editions_active",
            ["active"],
            unique=True,
            postgresql_where=sa.text("active"),
            sqlite_where=sa.text("active"),
        )

    op.create_table(
        "campaign_point_types",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("name_zh", sa.String(length=128), nullable=False),
        sa.Column("name_en", sa.String(length=128), nullable=True),
        sa.Column("protocol", sa.JSON(), nullable=False),
        sa.Column("source", sa.JSON(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["campaign_editions.id"],
            name=op.f("fk_campaign_point_types_edition_id_campaign_editions"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_point_types")),
        sa.UniqueConstraint("edition_id", "code", name="uq_campaign_point_types_edition_code"),
    )
    op.create_table(
        "campaign_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("point_type_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("item_group", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("judging_note", sa.Text(), nullable=True),
        sa.Column("answer_kind", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("photo_on_fail", sa.Boolean(), nullable=False),
        sa.Column("note_on_fail", sa.Boolean(), nullable=False),
        sa.Column("category_code", sa.String(length=5), nullable=False),
        sa.Column("abridged", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("retired", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "(answer_kind = 'count_min') = (threshold IS NOT NULL)",
            name=op.f("ck_campaign_items_threshold_iff_count_min"),
        ),
        sa.CheckConstraint(
            "answer_kind IN ('binary', 'count_min', 'problem_count')",
            name=op.f("ck_campaign_items_answer_kind_known"),
        ),
        sa.CheckConstraint("weight > 0", name=op.f("ck_campaign_items_weight_positive")),
        sa.ForeignKeyConstraint(
            ["category_code"],
            ["categories.code"],
            name=op.f("fk_campaign_items_category_code_categories"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["campaign_editions.id"],
            name=op.f("fk_campaign_items_edition_id_campaign_editions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["point_type_id"],
            ["campaign_point_types.id"],
            name=op.f("fk_campaign_items_point_type_id_campaign_point_types"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_items")),
        sa.UniqueConstraint("edition_id", "code", name="uq_campaign_items_edition_code"),
    )
    with op.batch_alter_table("campaign_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_items_point_type_id"), ["point_type_id"], unique=False)

    op.create_table(
        "campaign_points",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("type_code", sa.String(length=32), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("reported", sa.Boolean(), nullable=False),
        sa.Column("address", sa.String(length=255), nullable=True),
        sa.Column("geometry", sa.JSON(), nullable=False),
        sa.Column("geometry_kind", sa.String(length=16), nullable=False),
        sa.Column("lat", sa.Double(), nullable=False),
        sa.Column("lon", sa.Double(), nullable=False),
        sa.Column("coord_system", sa.String(length=8), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column(
            "grid_path",
            sa.String(length=512).with_variant(sa.String(length=512, collation="C"), "postgresql"),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("lead_unit_id", sa.Integer(), nullable=True),
        sa.Column("chief_name", sa.String(length=64), nullable=True),
        sa.Column("chief_phone", sa.String(length=32), nullable=True),
        sa.Column("chief_user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("deleted_at", When, nullable=True),
        sa.CheckConstraint(
            "geometry_kind IN ('point', 'line', 'polygon')",
            name=op.f("ck_campaign_points_geometry_kind_known"),
        ),
        sa.CheckConstraint(
            "tier IN ('key', 'fixed', 'ordinary')", name=op.f("ck_campaign_points_tier_known")
        ),
        sa.ForeignKeyConstraint(
            ["chief_user_id"],
            ["users.id"],
            name=op.f("fk_campaign_points_chief_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid_cells.id"],
            name=op.f("fk_campaign_points_grid_id_grid_cells"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["lead_unit_id"],
            ["units.id"],
            name=op.f("fk_campaign_points_lead_unit_id_units"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_campaign_points_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_points")),
    )
    with op.batch_alter_table("campaign_points", schema=None) as batch_op:
        batch_op.create_index("ix_campaign_points_grid_path", ["grid_path"], unique=False)
        batch_op.create_index("ix_campaign_points_type_code", ["type_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_points_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "uq_campaign_points_code_alive",
            ["code"],
            unique=True,
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )

    op.create_table(
        "campaign_rounds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("period_from", sa.Date(), nullable=False),
        sa.Column("period_to", sa.Date(), nullable=False),
        sa.Column("grid_id", sa.Integer(), nullable=False),
        sa.Column("edition_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("sample", sa.JSON(), nullable=True),
        sa.Column("seed", sa.BigInteger(), nullable=True),
        sa.Column("pass_mark", sa.Double(), nullable=False),
        sa.Column("rectify_hours", sa.Integer(), nullable=True),
        sa.Column("board", sa.JSON(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.Column("opened_at", When, nullable=True),
        sa.Column("closed_at", When, nullable=True),
        sa.CheckConstraint(
            "kind IN ('patrol', 'supervision', 'mock', 'recheck')", name=op.f("ck_campaign_rounds_kind_known")
        ),
        sa.CheckConstraint(
            "status IN ('draft', 'open', 'published', 'closed')", name=op.f("ck_campaign_rounds_status_known")
        ),
        sa.CheckConstraint("period_from <= period_to", name=op.f("ck_campaign_rounds_period_ordered")),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["users.id"],
            name=op.f("fk_campaign_rounds_created_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["edition_id"],
            ["campaign_editions.id"],
            name=op.f("fk_campaign_rounds_edition_id_campaign_editions"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["grid_id"],
            ["grid_cells.id"],
            name=op.f("fk_campaign_rounds_grid_id_grid_cells"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_rounds")),
    )
    op.create_table(
        "campaign_item_duties",
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["campaign_points.id"],
            name=op.f("fk_campaign_item_duties_point_id_campaign_points"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_campaign_item_duties_unit_id_units"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("point_id", "item_code", name=op.f("pk_campaign_item_duties")),
    )
    op.create_table(
        "campaign_visits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("point_id", sa.Integer(), nullable=False),
        sa.Column("inspector_id", sa.Integer(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("observed_at", When, nullable=True),
        sa.Column("submitted_at", When, nullable=True),
        sa.Column("submitted_by_id", sa.Integer(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("coord_system", sa.String(length=8), nullable=True),
        sa.Column("unable_reason", sa.Text(), nullable=True),
        sa.Column("score_num", sa.Double(), nullable=True),
        sa.Column("score_den", sa.Double(), nullable=True),
        sa.Column("rate_num", sa.Integer(), nullable=True),
        sa.Column("rate_den", sa.Integer(), nullable=True),
        sa.Column("created_at", When, nullable=False),
        sa.Column("updated_at", When, nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'submitted', 'unable')", name=op.f("ck_campaign_visits_status_known")
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"],
            ["users.id"],
            name=op.f("fk_campaign_visits_inspector_id_users"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["point_id"],
            ["campaign_points.id"],
            name=op.f("fk_campaign_visits_point_id_campaign_points"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["round_id"],
            ["campaign_rounds.id"],
            name=op.f("fk_campaign_visits_round_id_campaign_rounds"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["submitted_by_id"],
            ["users.id"],
            name=op.f("fk_campaign_visits_submitted_by_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_visits")),
        sa.UniqueConstraint("round_id", "point_id", name="uq_campaign_visits_round_point"),
    )
    with op.batch_alter_table("campaign_visits", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_visits_inspector_id"), ["inspector_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_campaign_visits_point_id"), ["point_id"], unique=False)

    op.create_table(
        "campaign_results",
        sa.Column("id", BigId, nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=False),
        sa.Column("item_code", sa.String(length=32), nullable=False),
        sa.Column("item_text", sa.Text(), nullable=False),
        sa.Column("answer_kind", sa.String(length=16), nullable=False),
        sa.Column("threshold", sa.Integer(), nullable=True),
        sa.Column("weight", sa.Double(), nullable=False),
        sa.Column("result", sa.String(length=16), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("photos", sa.JSON(), nullable=False),
        sa.Column("case_id", BigId, nullable=True),
        sa.Column("repeat", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "result IN ('compliant', 'noncompliant', 'not_applicable')",
            name=op.f("ck_campaign_results_result_known"),
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_campaign_results_case_id_cases"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["campaign_items.id"],
            name=op.f("fk_campaign_results_item_id_campaign_items"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["campaign_visits.id"],
            name=op.f("fk_campaign_results_visit_id_campaign_visits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_results")),
        sa.UniqueConstraint("visit_id", "item_code", name="uq_campaign_results_visit_item"),
    )
    with op.batch_alter_table("campaign_results", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_results_case_id"), ["case_id"], unique=False)

    op.create_table(
        "campaign_visit_photos",
        sa.Column("id", BigId, nullable=False),
        sa.Column("visit_id", sa.Integer(), nullable=False),
        sa.Column("photo_id", BigId, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.ForeignKeyConstraint(
            ["photo_id"],
            ["photos.id"],
            name=op.f("fk_campaign_visit_photos_photo_id_photos"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["visit_id"],
            ["campaign_visits.id"],
            name=op.f("fk_campaign_visit_photos_visit_id_campaign_visits"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_visit_photos")),
        sa.UniqueConstraint("photo_id", name=op.f("uq_campaign_visit_photos_photo_id")),
    )
    with op.batch_alter_table("campaign_visit_photos", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_campaign_visit_photos_visit_id"), ["visit_id"], unique=False)

    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=BigId, nullable=True)


def downgrade() -> None:
    with op.batch_alter_table("campaign_visit_photos", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_visit_photos_visit_id"))

    op.drop_table("campaign_visit_photos")
    # Photos of no case belonged to visits, which go with the campaign's tables; their files become orphans
    # that `grid-inspector sweep-orphans` removes.
    op.execute("DELETE FROM photos WHERE case_id IS NULL")
    with op.batch_alter_table("photos", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=BigId, nullable=False)
    with op.batch_alter_table("campaign_results", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_results_case_id"))

    op.drop_table("campaign_results")
    with op.batch_alter_table("campaign_visits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_visits_point_id"))
        batch_op.drop_index(batch_op.f("ix_campaign_visits_inspector_id"))

    op.drop_table("campaign_visits")
    op.drop_table("campaign_item_duties")
    op.drop_table("campaign_rounds")
    with op.batch_alter_table("campaign_points", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_campaign_points_code_alive",
            postgresql_where=sa.text("deleted_at IS NULL"),
            sqlite_where=sa.text("deleted_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_campaign_points_unit_id"))
        batch_op.drop_index("ix_campaign_points_type_code")
        batch_op.drop_index("ix_campaign_points_grid_path")

    op.drop_table("campaign_points")
    with op.batch_alter_table("campaign_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_campaign_items_point_type_id"))

    op.drop_table("campaign_items")
    op.drop_table("campaign_point_types")
    with op.batch_alter_table("campaign_editions", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_campaign_editions_active", postgresql_where=sa.text("active"), sqlite_where=sa.text("active")
        )

    op.drop_table("campaign_editions")
