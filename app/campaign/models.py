"""Tables of the campaign (docs/campaign.md): editions, point types and items; points and their duties;
rounds, visits, results and the photos a visit brought.

States and kinds are strings with CHECK constraints. Past answers never depend on the checklist as it is
now: a result keeps the item's code, text, answer kind, threshold and weight as they were answered, so a
re-import of an edition changes nothing a visit said.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, BigId, UTCDateTime, utcnow

# A reference to a BigId primary key (cases, photos): BIGINT on PostgreSQL, INTEGER on SQLite.
BigRef = BigInteger().with_variant(Integer(), "sqlite")
ANSWER_KINDS = ("binary", "count_min", "problem_count")
TIERS = ("key", "fixed", "ordinary")  # 重点, 固定, 一般
ROUND_KINDS = ("patrol", "supervision", "mock", "recheck")  # 常态巡查, 督查, 模拟测评, 复查
ROUND_STATES = ("draft", "open", "published", "closed")
VISIT_STATES = ("pending", "submitted", "unable")
RESULTS = ("compliant", "noncompliant", "not_applicable")  # 符合, 不符合, 不涉及


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Edition(Base):
    """A published set of standards (测评体系); at most one is active."""

    __tablename__ = "campaign_editions"
    __table_args__ = (
        Index(
            "uq_campaign_editions_active",
            "active",
            unique=True,
            postgresql_where=text("active"),
            sqlite_where=text("active"),
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    year: Mapped[int] = mapped_column(Integer)
    issuer: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointType(Base):
    """A kind of place (点位类型) in one edition, with how it is observed (测评方法)."""

    __tablename__ = "campaign_point_types"
    __table_args__ = (UniqueConstraint("edition_id", "code", name="uq_campaign_point_types_edition_code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("campaign_editions.id", ondelete="RESTRICT"))
    code: Mapped[str] = mapped_column(String(32))
    name_zh: Mapped[str] = mapped_column(String(128))
    name_en: Mapped[str | None] = mapped_column(String(128))
    protocol: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    source: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # where its standards were published
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)  # left out of a later import


class Item(Base):
    """One standard (测评标准) of a point type; codes are unique within an edition."""

    __tablename__ = "campaign_items"
    __table_args__ = (
        UniqueConstraint("edition_id", "code", name="uq_campaign_items_edition_code"),
        CheckConstraint(_in("answer_kind", ANSWER_KINDS), name="answer_kind_known"),
        CheckConstraint(
            "(answer_kind = 'count_min') = (threshold IS NOT NULL)", name="threshold_iff_count_min"
        ),
        CheckConstraint("weight > 0", name="weight_positive"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("campaign_editions.id", ondelete="RESTRICT"))
    point_type_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_point_types.id", ondelete="RESTRICT"), index=True
    )
    code: Mapped[str] = mapped_column(String(32))
    group: Mapped[str] = mapped_column("item_group", String(64), default="")
    text: Mapped[str] = mapped_column(Text)
    judging_note: Mapped[str | None] = mapped_column(Text)
    answer_kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[int | None] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Double, default=1.0)
    photo_on_fail: Mapped[bool] = mapped_column(Boolean, default=True)
    note_on_fail: Mapped[bool] = mapped_column(Boolean, default=False)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code", ondelete="RESTRICT"))
    abridged: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    retired: Mapped[bool] = mapped_column(Boolean, default=False)


class Point(Base):
    """A real place of a point type (点位), with its duty (定岗定责: responsible unit, lead unit, point chief).

    ``geometry`` is GeoJSON in WGS-84 ([lon, lat]); ``lat``/``lon`` its representative point (the point, a
    point on the line, a point inside the polygon), which placed it in ``grid_id``. A deleted point keeps its
    row for the visits that name it; its code may be used again.
    """

    __tablename__ = "campaign_points"
    __table_args__ = (
        CheckConstraint(_in("tier", TIERS), name="tier_known"),
        CheckConstraint("geometry_kind IN ('point', 'line', 'polygon')", name="geometry_kind_known"),
        Index(
            "uq_campaign_points_code_alive",
            "code",
            unique=True,
            postgresql_where=text("deleted_at IS NULL"),
            sqlite_where=text("deleted_at IS NULL"),
        ),
        Index("ix_campaign_points_grid_path", "grid_path"),
        Index("ix_campaign_points_type_code", "type_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(128))
    type_code: Mapped[str] = mapped_column(String(32))
    tier: Mapped[str] = mapped_column(String(16), default="ordinary")
    reported: Mapped[bool] = mapped_column(Boolean, default=False)  # listed to the assessors (点位信息表)
    address: Mapped[str | None] = mapped_column(String(255))
    geometry: Mapped[dict[str, Any]] = mapped_column(JSON)
    geometry_kind: Mapped[str] = mapped_column(String(16))
    lat: Mapped[float] = mapped_column(Double)
    lon: Mapped[float] = mapped_column(Double)
    coord_system: Mapped[str] = mapped_column(String(8), default="wgs84")  # the datum it was given in
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"))
    grid_path: Mapped[str] = mapped_column(String(512).with_variant(String(512, collation="C"), "postgresql"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    lead_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    chief_name: Mapped[str | None] = mapped_column(String(64))
    chief_phone: Mapped[str | None] = mapped_column(String(32))
    chief_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class ItemDuty(Base):
    """An item's own responsible unit at a point (by item code, so it holds across editions)."""

    __tablename__ = "campaign_item_duties"

    point_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_points.id", ondelete="CASCADE"), primary_key=True
    )
    item_code: Mapped[str] = mapped_column(String(32), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))


class Round(Base):
    """One inspection campaign (测评批次) over a cell's subtree, against one edition."""

    __tablename__ = "campaign_rounds"
    __table_args__ = (
        CheckConstraint(_in("kind", ROUND_KINDS), name="kind_known"),
        CheckConstraint(_in("status", ROUND_STATES), name="status_known"),
        CheckConstraint("period_from <= period_to", name="period_ordered"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    period_from: Mapped[dt.date] = mapped_column(Date)
    period_to: Mapped[dt.date] = mapped_column(Date)
    grid_id: Mapped[int] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"))
    edition_id: Mapped[int] = mapped_column(ForeignKey("campaign_editions.id", ondelete="RESTRICT"))
    status: Mapped[str] = mapped_column(String(16), default="draft")
    sample: Mapped[dict[str, int] | None] = mapped_column(JSON)  # {point type code: count} when sampled
    seed: Mapped[int | None] = mapped_column(BigInteger)
    pass_mark: Mapped[float] = mapped_column(Double, default=85.0)
    rectify_hours: Mapped[int | None] = mapped_column(Integer)  # working hours; None: the category's limit
    board: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    opened_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    published_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # results frozen from then on
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Visit(Base):
    """One inspector at one point in one round (点位测评). Scores are kept as numerator and denominator:
    ``score_*`` sums of item weights (得分率), ``rate_*`` counts of results (符合率).

    ``frozen_*`` hold what the point was when its round was published (code, name, type, cell path,
    responsible unit): a published round's figures group by these, so editing a point or its duty later
    never changes them (app.campaign.attribution). Null while the round is unpublished.
    """

    __tablename__ = "campaign_visits"
    __table_args__ = (
        UniqueConstraint("round_id", "point_id", name="uq_campaign_visits_round_point"),
        CheckConstraint(_in("status", VISIT_STATES), name="status_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("campaign_rounds.id", ondelete="RESTRICT"))
    point_id: Mapped[int] = mapped_column(ForeignKey("campaign_points.id", ondelete="RESTRICT"), index=True)
    inspector_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    observed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)  # the phone's clock
    submitted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    lat: Mapped[float | None] = mapped_column(Double)  # where the inspector stood, WGS-84
    lon: Mapped[float | None] = mapped_column(Double)
    coord_system: Mapped[str | None] = mapped_column(String(8))
    unable_reason: Mapped[str | None] = mapped_column(Text)
    score_num: Mapped[float | None] = mapped_column(Double)
    score_den: Mapped[float | None] = mapped_column(Double)
    rate_num: Mapped[int | None] = mapped_column(Integer)
    rate_den: Mapped[int | None] = mapped_column(Integer)
    frozen_code: Mapped[str | None] = mapped_column(String(64))
    frozen_name: Mapped[str | None] = mapped_column(String(128))
    frozen_type_code: Mapped[str | None] = mapped_column(String(32))
    frozen_grid_path: Mapped[str | None] = mapped_column(
        String(512).with_variant(String(512, collation="C"), "postgresql")
    )
    frozen_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class Result(Base):
    """One item's answer at a visit, with the item as it was answered; a failure names its case (opened
    by it, or the open case it repeated: 多次整改)."""

    __tablename__ = "campaign_results"
    __table_args__ = (
        UniqueConstraint("visit_id", "item_code", name="uq_campaign_results_visit_item"),
        CheckConstraint(_in("result", RESULTS), name="result_known"),
        # A round's failures without walking its visits: scores, notices and exports start here.
        Index("ix_campaign_results_round_result", "round_id", "result"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("campaign_visits.id", ondelete="RESTRICT"))
    round_id: Mapped[int] = mapped_column(
        ForeignKey("campaign_rounds.id", ondelete="RESTRICT")
    )  # the visit's
    item_id: Mapped[int] = mapped_column(ForeignKey("campaign_items.id", ondelete="RESTRICT"))
    item_code: Mapped[str] = mapped_column(String(32))
    item_text: Mapped[str] = mapped_column(Text)
    answer_kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[int | None] = mapped_column(Integer)
    weight: Mapped[float] = mapped_column(Double)
    result: Mapped[str] = mapped_column(String(16))
    amount: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    photos: Mapped[list[str]] = mapped_column(JSON, default=list)  # the names the visit gave them
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)


class VisitPhoto(Base):
    """A photo row (app.photos) a visit brought, under the name its results referenced: on a failure's case,
    or, for an unable visit or a result that opened no case, on no case at all."""

    __tablename__ = "campaign_visit_photos"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("campaign_visits.id", ondelete="RESTRICT"), index=True)
    photo_id: Mapped[int] = mapped_column(BigRef, ForeignKey("photos.id", ondelete="RESTRICT"), unique=True)
    name: Mapped[str] = mapped_column(String(255))


NEGATIVE_PENALTIES = ("deduct", "veto")  # 扣分, 一票否决
NEGATIVE_STATES = ("proposed", "confirmed", "rejected")
BOARD_KINDS = ("unit", "grid", "point")


class NegativeEvent(Base):
    """An entry of the negative list (负面清单) against a unit or a street: it deducts ``points`` from, or
    (``veto``) puts on the black board, the subject of every round whose period contains ``occurred_at``
    (local date). Supervisors record confirmed ones; a veto case proposes one (``case_id``) to confirm."""

    __tablename__ = "campaign_negative_events"
    __table_args__ = (
        CheckConstraint(_in("penalty", NEGATIVE_PENALTIES), name="penalty_known"),
        CheckConstraint(_in("status", NEGATIVE_STATES), name="status_known"),
        CheckConstraint("(unit_id IS NULL) <> (grid_id IS NULL)", name="one_subject"),
        CheckConstraint("points >= 0", name="points_not_negative"),
        Index("ix_campaign_negative_events_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"))
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grid_cells.id", ondelete="RESTRICT"))
    occurred_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    penalty: Mapped[str] = mapped_column(String(8))
    points: Mapped[float] = mapped_column(Double, default=0.0)  # deducted from the ranking score
    status: Mapped[str] = mapped_column(String(16))
    case_id: Mapped[int | None] = mapped_column(
        BigRef, ForeignKey("cases.id", ondelete="RESTRICT"), unique=True
    )
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Board(Base):
    """A round's board (红黑榜) of one kind, made and stored when the round was published: ``content`` is
    the answer of ``GET /api/v1/campaign/boards`` then, so nothing later changes it."""

    __tablename__ = "campaign_boards"
    __table_args__ = (
        UniqueConstraint("round_id", "kind", name="uq_campaign_boards_round_kind"),
        CheckConstraint(_in("kind", BOARD_KINDS), name="kind_known"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("campaign_rounds.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(8))
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    content: Mapped[dict[str, Any]] = mapped_column(JSON)


NOTICE_STATES = ("open", "signed_off")


class Notice(Base):
    """A unit's rectification notice (整改通知/抄告单) for one round: the round's failures whose cases are with
    the unit, and their deadlines. ``due_at`` is the latest of its cases' deadlines when it was (re)issued;
    it is ``signed_off`` (销号) when the last of its cases is closed, rejected or deleted
    (app.campaign.notices)."""

    __tablename__ = "campaign_notices"
    __table_args__ = (
        UniqueConstraint("round_id", "unit_id", name="uq_campaign_notices_round_unit"),
        CheckConstraint(_in("status", NOTICE_STATES), name="status_known"),
        CheckConstraint("(status = 'signed_off') = (signed_off_at IS NOT NULL)", name="signed_off_when"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("campaign_rounds.id", ondelete="RESTRICT"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")
    issued_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    signed_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)


class NoticeItem(Base):
    """One failure (a noncompliant result) on a notice, with the case that rectifies it. A result is on one
    notice at most; a case repeated by several failures (多次整改) is on the notice once per failure."""

    __tablename__ = "campaign_notice_items"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("campaign_notices.id", ondelete="RESTRICT"), index=True)
    result_id: Mapped[int] = mapped_column(
        BigRef, ForeignKey("campaign_results.id", ondelete="RESTRICT"), unique=True
    )
    case_id: Mapped[int] = mapped_column(BigRef, ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
