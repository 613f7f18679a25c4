"""Shapes of workflow actions and of a case's history."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, WithJsonSchema, field_validator

from app.cases.schemas import PhotoOut
from app.core.deps import DbId
from app.core.schemas import Input
from app.workflow.actions import Command
from app.workflow.rules import PUBLIC_ACTIONS, TABLE, Action

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000)]  # blank counts as absent


class ActionIn(Input):
    """``POST /api/v1/reports/{id}/actions`` (docs/api.md), JSON or the ``action`` part of a multipart request."""

    model_config = ConfigDict(
        json_schema_extra={"example": {"action": "dispatch", "note": "请尽快处置", "unit_id": 5}}
    )

    action: Annotated[
        Action,
        WithJsonSchema({"type": "string", "enum": [a.value for a in PUBLIC_ACTIONS], "title": "Action"}),
    ] = Field(description='an action of the workflow table (docs/domain.md "The case workflow")')
    note: Text | None = None
    reason: Text | None = None
    unit_id: DbId | None = Field(default=None, description="dispatch: the unit (default: the routed one)")
    hours: int | None = Field(
        default=None, ge=1, le=720, strict=True, description="request_extension: hours asked"
    )
    approve: bool | None = Field(default=None, strict=True, description="decide_extension / decide_hold")
    duplicate_of: DbId | None = Field(default=None, description="reject: the case this one repeats")
    public_note: Text | None = Field(
        default=None,
        description="text written for the public: the only text Open311 clients read of a case's handling "
        "(status_notes), e.g. a rejection's reason as the citizen may read it; note and reason stay internal",
    )

    @field_validator("action")
    @classmethod
    def _public(cls, value: Action) -> Action:
        if not TABLE[value].public:
            raise ValueError(
                f"'{value.value}' is a step the service takes itself, not an action clients take"
            )
        return value

    def command(self) -> Command:
        return Command(**self.model_dump())


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
    public_note: str | None = Field(description="text written for the public (Open311 status_notes)")
    data: dict
    photos: list[PhotoOut]
    created_at: dt.datetime


class EventList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "items": [
                    {
                        "id": 4,
                        "action": "accept",
                        "actor": {"id": 7, "username": "jiaojing", "role": "unit_staff", "kind": "user"},
                        "from_status": "dispatched",
                        "to_status": "in_progress",
                        "unit_id": 2,
                        "note": "已接单，民警前往现场",
                        "reason": None,
                        "public_note": None,
                        "data": {},
                        "photos": [],
                        "created_at": "2026-12-07T12:21:13.823259Z",
                    },
                    {
                        "id": 5,
                        "action": "request_extension",
                        "actor": {"id": 7, "username": "jiaojing", "role": "unit_staff", "kind": "user"},
                        "from_status": "in_progress",
                        "to_status": "in_progress",
                        "unit_id": 2,
                        "note": None,
                        "reason": "车主联系不上，需等待拖车",
                        "public_note": None,
                        "data": {"hours": 4},
                        "photos": [],
                        "created_at": "2026-12-07T12:21:14.067652Z",
                    },
                ]
            }
        }
    )

    items: list[EventOut]
