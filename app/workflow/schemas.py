"""Shapes of workflow actions and of a case's history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.core.deps import DbId
from app.core.schemas import Input
from app.reports.schemas import PhotoOut
from app.workflow.rules import Action

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]  # blank counts as absent


class ActionIn(Input):
    """``POST /api/v1/reports/{id}/actions`` (API.md), JSON or the ``action`` part of a multipart request."""

    model_config = ConfigDict(json_schema_extra={"example": {"action": "dispatch", "note": "请尽快处置",
                                                             "unit_id": 5}})

    action: Action
    note: Text | None = None
    reason: Text | None = None
    unit_id: DbId | None = Field(default=None, description="dispatch: the unit (default: the routed one)")
    hours: int | None = Field(default=None, ge=1, le=720, strict=True, description="request_extension: hours asked")
    approve: bool | None = Field(default=None, strict=True, description="decide_extension / decide_hold")
    duplicate_of: DbId | None = Field(default=None, description="reject: the case this one repeats")


class Actor(BaseModel):
    id: int | None
    username: str | None
    role: str | None
    kind: str = Field(description="user, system or api_key")


class EventOut(BaseModel):
    id: int
    action: str
    actor: Actor
    from_status: str | None
    to_status: str | None
    unit_id: int | None
    note: str | None
    reason: str | None
    data: dict
    photos: list[PhotoOut]
    created_at: dt.datetime


class EventList(BaseModel):
    items: list[EventOut]
