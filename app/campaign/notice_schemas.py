"""Shapes of rectification notices (docs/campaign.md "Rectification notices")."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.units.schemas import UnitRef

NoticeStatus = Literal["open", "signed_off"]

NOTICE_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "round_id": 1,
    "round": {"id": 1, "title": "2026年12月模拟测评(中街街道)"},
    "unit": {"id": 2, "name": "崆峒区城市管理综合执法局"},
    "issued_at": "2026-12-07T08:00:00Z",
    "due_at": "2026-12-09T09:00:00Z",
    "status": "open",
    "signed_off_at": None,
    "progress": {"closed": 1, "total": 2},
    "items": [
        {
            "case_id": 42,
            "tracking_code": "20261207-7KQ2MX",
            "point": {"id": 7, "code": "NMSC-001", "name": "中山街农贸市场"},
            "item": {"code": "NM-13", "text": "市场内无乱堆乱放"},
            "case_status": "dispatched",
            "due_at": "2026-12-09T09:00:00Z",
        }
    ],
}


class NoticeRoundRef(BaseModel):
    id: int
    title: str


class NoticePointRef(BaseModel):
    """The point as the round scores it (frozen when the round was published)."""

    id: int
    code: str
    name: str


class NoticeItemRef(BaseModel):
    code: str
    text: str


class NoticeLine(BaseModel):
    """One failure on the notice and the case that rectifies it, as the case is now."""

    case_id: int
    tracking_code: str
    point: NoticePointRef
    item: NoticeItemRef = Field(description="the checklist item as it was answered")
    case_status: str = Field(description="the case's status (docs/domain.md), e.g. dispatched, closed")
    due_at: dt.datetime | None = Field(
        description="the case's deadline (null while its clock has not started)"
    )


class NoticeProgress(BaseModel):
    closed: int = Field(description="failures whose case is closed, rejected or deleted")
    total: int


class NoticeOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": NOTICE_EXAMPLE})

    id: int
    round_id: int
    round: NoticeRoundRef
    unit: UnitRef = Field(description="the responsible unit the notice is addressed to")
    issued_at: dt.datetime = Field(description="when it was first issued (UTC)")
    due_at: dt.datetime | None = Field(description="the latest deadline of its cases when it was (re)issued")
    status: NoticeStatus = Field(description="open, or signed_off (销号) once every case is closed")
    signed_off_at: dt.datetime | None
    progress: NoticeProgress
    items: list[NoticeLine]


class NoticeList(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": {"items": [NOTICE_EXAMPLE], "next_cursor": None}})

    items: list[NoticeOut]
    next_cursor: str | None
