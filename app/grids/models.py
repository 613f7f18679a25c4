"""Grid cells (单元网格 and the levels above them)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ColumnElement,
    Double,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    and_,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column

from app.core.db import Base, UTCDateTime, utcnow


def subtree(column: ColumnElement[str] | InstrumentedAttribute[str], path: str) -> ColumnElement[bool]:
    """True where ``column`` (a materialised path of codes, ``/620802/620802002/``) lies in the subtree at ``path``.

    A byte-order range, ``path <= column < path'`` with the final ``/`` raised to ``0``, not
    ``LIKE 'path%'``: PostgreSQL can use a btree range with a bound parameter in a prepared (generic)
    plan, which it cannot do for LIKE. The column must compare bytes (collation "C"; SQLite does).
    """
    if not path.endswith("/"):
        raise ValueError(f"not a materialised path: {path!r}")
    return and_(column >= path, column < path[:-1] + "0")


class GridCell(Base):
    """One cell of the tree. ``geometry`` is WKB of a WGS-84 Polygon/MultiPolygon ([lon, lat]).

    ``path`` is the materialised chain of codes from the root, ``/620802/620802002/``, so "this cell and
    everything below it" is one indexed prefix match instead of a recursive query.
    """

    __tablename__ = "grid_cells"
    __table_args__ = (
        CheckConstraint("level >= 1", name="level_positive"),
        CheckConstraint("min_lon <= max_lon AND min_lat <= max_lat", name="bbox_ordered"),
        Index("ix_grid_cells_path", "path", postgresql_ops={"path": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(128))
    level: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str | None] = mapped_column(String(32))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("grid_cells.id", ondelete="RESTRICT"), index=True
    )
    path: Mapped[str] = mapped_column(String(512))
    geometry: Mapped[bytes] = mapped_column(LargeBinary)
    min_lon: Mapped[float] = mapped_column(Double)
    min_lat: Mapped[float] = mapped_column(Double)
    max_lon: Mapped[float] = mapped_column(Double)
    max_lat: Mapped[float] = mapped_column(Double)
    area_m2: Mapped[float] = mapped_column(Double)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
