"""Evidence photos of a case: what was extracted from each, and the flags of the evidence checks."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Double, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base, BigId, UTCDateTime, utcnow

STAGES = ("report", "resolution", "check")  # before / after the fix / on-site verification


class Photo(Base):
    __tablename__ = "photos"
    __table_args__ = (
        CheckConstraint("stage IN ('report', 'resolution', 'check')", name="stage_known"),
        CheckConstraint("format IN ('jpeg', 'png', 'webp', 'heif')", name="format_known"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    # None: a photo no case shows, kept as another record's evidence (a campaign visit's, app.campaign);
    # every stored file has a row here, so the orphan sweep and the rollback sweep see it.
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="RESTRICT"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("case_events.id", ondelete="RESTRICT"))
    stage: Mapped[str] = mapped_column(String(16))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    format: Mapped[str] = mapped_column(String(8))
    size_bytes: Mapped[int] = mapped_column(Integer)
    width: Mapped[int] = mapped_column(Integer)  # after EXIF orientation
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    gps_lat: Mapped[float | None] = mapped_column(Double)  # WGS-84, from EXIF
    gps_lon: Mapped[float | None] = mapped_column(Double)
    make: Mapped[str | None] = mapped_column(String(64))
    model: Mapped[str | None] = mapped_column(String(64))
    original_filename: Mapped[str | None] = mapped_column(String(255))
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    flags: Mapped[list[str]] = mapped_column(JSON, default=list)
    distance_m: Mapped[float | None] = mapped_column(Double)  # EXIF position to the report's point
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
