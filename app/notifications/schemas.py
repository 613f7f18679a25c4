"""Shapes of notification endpoints and deliveries (docs/notifications.md "API")."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.core.deps import DbId
from app.core.schemas import Input, Label
from app.units.schemas import UnitRef

Kind = Literal["webhook", "wecom", "dingtalk", "feishu"]
DeliveryStatus = Literal["pending", "sending", "delivered", "failed"]


ENDPOINT_EXAMPLE: dict[str, Any] = {
    "id": 3,
    "kind": "webhook",
    "unit": {"id": 1, "name": "崆峒区城市管理综合执法局"},
    "name": "城管局业务系统",
    "target": "https://hooks.example.cn/…",
    "signed": True,
    "events": [],
    "hears": ["case.dispatched", "case.overdue"],
    "active": True,
    "disabled_at": None,
    "disabled_reason": None,
    "failing_since": None,
    "rotated_at": None,
    "created_at": "2026-12-07T03:00:00Z",
}
DELIVERY_EXAMPLE: dict[str, Any] = {
    "id": 17,
    "endpoint_id": 3,
    "event": "case.dispatched",
    "message_id": "msg_5b0c8f4e2d7a4f0e9c1b3a6d8e2f4a1c",
    "case_id": 42,
    "status": "delivered",
    "attempts": 2,
    "next_attempt_at": None,
    "delivered_at": "2026-12-07T03:15:07Z",
    "last_status": 204,
    "last_error": None,
    "created_at": "2026-12-07T03:15:02Z",
    "history": [
        {
            "started_at": "2026-12-07T03:15:02Z",
            "duration_ms": 41,
            "status_code": 503,
            "ok": False,
            "error": "HTTP 503",
        },
        {
            "started_at": "2026-12-07T03:15:07Z",
            "duration_ms": 38,
            "status_code": 204,
            "ok": True,
            "error": None,
        },
    ],
}


class EndpointIn(Input):
    """A new endpoint. ``url`` for a webhook (its secret is made and shown once); ``token`` for a bot (WeCom's
    ``key``, DingTalk's ``access_token``, Feishu's hook token) and ``secret`` for DingTalk (加签) and Feishu."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "kind": "webhook",
                    "unit_id": 1,
                    "name": "城管局业务系统",
                    "url": "https://hooks.example.cn/grid",
                },
                {
                    "kind": "wecom",
                    "unit_id": 2,
                    "name": "交警大队企业微信群",
                    "token": "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa",
                },
            ]
        }
    )

    kind: Kind
    unit_id: DbId | None = Field(default=None, description="the unit told; absent: the command centre")
    name: Label = Field(default="", description="what people call it, e.g. the group's name")
    url: str | None = Field(default=None, max_length=2048, description="webhook: where deliveries are POSTed")
    token: str | None = Field(
        default=None, min_length=1, max_length=512, description="bot: the robot's key/token"
    )
    secret: str | None = Field(
        default=None, min_length=1, max_length=512, description="DingTalk/Feishu signing secret"
    )
    events: list[str] = Field(
        default_factory=list, max_length=32, description="empty: every event of its owner"
    )
    active: bool = True


class EndpointPatch(Input):
    model_config = ConfigDict(
        json_schema_extra={"example": {"events": ["case.dispatched", "case.overdue"], "active": True}}
    )

    name: Label | None = None
    url: str | None = Field(default=None, max_length=2048)
    token: str | None = Field(default=None, min_length=1, max_length=512)
    secret: str | None = Field(default=None, min_length=1, max_length=512)
    events: list[str] | None = Field(default=None, max_length=32)
    active: bool | None = Field(default=None, description="true re-enables a disabled endpoint")


class EndpointOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": ENDPOINT_EXAMPLE})

    id: int
    kind: Kind
    unit: UnitRef | None = Field(description="null: the command centre's")
    name: str
    target: str = Field(description="where it points, its secret parts hidden")
    signed: bool = Field(description="deliveries carry a signature (webhook, DingTalk 加签, Feishu)")
    events: list[str] = Field(description="what it subscribed to; empty: everything its owner hears")
    hears: list[str] = Field(description="the events it hears")
    active: bool
    disabled_at: dt.datetime | None
    disabled_reason: str | None
    failing_since: dt.datetime | None
    rotated_at: dt.datetime | None
    created_at: dt.datetime


class EndpointCreated(EndpointOut):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {**ENDPOINT_EXAMPLE, "secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}
        }
    )

    secret: str | None = Field(description="webhook: its signing secret (whsec_...), shown once")


class EndpointList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"items": [ENDPOINT_EXAMPLE], "next_cursor": None}}
    )

    items: list[EndpointOut]
    next_cursor: str | None


class AttemptOut(BaseModel):
    started_at: dt.datetime
    duration_ms: int
    status_code: int | None
    ok: bool
    error: str | None


class DeliveryOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"example": DELIVERY_EXAMPLE})

    id: int
    endpoint_id: int
    event: str = Field(description="the event type, e.g. case.dispatched")
    message_id: str = Field(description="the webhook-id: the same on every retry and resend")
    case_id: int | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: dt.datetime | None
    delivered_at: dt.datetime | None
    last_status: int | None
    last_error: str | None
    created_at: dt.datetime
    history: list[AttemptOut]


class DeliveryList(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"items": [DELIVERY_EXAMPLE], "next_cursor": None}}
    )

    items: list[DeliveryOut]
    next_cursor: str | None


class TestOutcome(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"example": {"delivery": DELIVERY_EXAMPLE, "delivered": True}}
    )

    delivery: DeliveryOut
    delivered: bool
