"""One HTTP attempt at an endpoint: build the request for its kind (app.notifications.channels), pin the address
(app.notifications.safety), send without following redirects, and say whether it was a delivery."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from app.core.config import Settings
from app.core.db import utcnow
from app.core.errors import AppError
from app.notifications import channels
from app.notifications.models import Endpoint, Event
from app.notifications.safety import TargetRefused, networks, pin
from app.notifications.secrets import unseal

ROTATION_GRACE = dt.timedelta(hours=24)  # a rotated-out webhook secret is signed with for this long


@dataclass(frozen=True)
class Outcome:
    """What one attempt came to: ``error`` None means delivered."""

    status_code: int | None
    error: str | None
    duration_ms: int
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _local(due: str | None, tz: str) -> str | None:
    if not due:
        return None
    when = dt.datetime.fromisoformat(due.replace("Z", "+00:00")).astimezone(ZoneInfo(tz))
    return when.strftime("%Y-%m-%d %H:%M") + "（北京时间）" if tz == "Asia/Shanghai" else when.isoformat()


def webhook_secrets(settings: Settings, endpoint: Endpoint, now: dt.datetime) -> list[str]:
    """The secrets a webhook delivery is signed with: the current one, and the previous one for 24 h after a
    rotation, so a receiver can switch without losing a delivery."""
    out = [unseal(settings, endpoint.secret_enc)] if endpoint.secret_enc else []
    if endpoint.previous_secret_enc and endpoint.rotated_at and now - endpoint.rotated_at < ROTATION_GRACE:
        out.append(unseal(settings, endpoint.previous_secret_enc))
    return out


def outgoing(
    settings: Settings, endpoint: Endpoint, events: Sequence[Event], now: dt.datetime
) -> channels.Outgoing:
    """The request for ``events`` (one for a webhook; one or a digest of several for a bot)."""
    n = settings.notify
    target = unseal(settings, endpoint.target_enc)
    secret = unseal(settings, endpoint.secret_enc) if endpoint.secret_enc else None
    if endpoint.kind == "webhook":
        [event] = events
        body = channels.webhook_body(
            event.type, event.occurred_at.isoformat().replace("+00:00", "Z"), event.payload
        )
        return channels.webhook(target, webhook_secrets(settings, endpoint, now), event.message_id, now, body)
    if len(events) == 1:
        data: dict[str, Any] = events[0].payload
        title, text = channels.markdown(
            events[0].type, data, _local(data.get("due_at"), settings.workflow.timezone)
        )
    else:
        title, text = channels.digest([(e.type, e.payload) for e in events])
    if endpoint.kind == "wecom":
        return channels.wecom(n.notify_wecom_url, target, text)
    if endpoint.kind == "dingtalk":
        return channels.dingtalk(n.notify_dingtalk_url, target, secret, title, text, now)
    return channels.feishu(n.notify_feishu_url, target, secret, title, text, now)


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("retry-after")
    if not raw:
        return None
    if raw.strip().isdigit():
        return float(raw.strip())
    try:
        from email.utils import parsedate_to_datetime

        return max(0.0, (parsedate_to_datetime(raw) - utcnow()).total_seconds())
    except (TypeError, ValueError):
        return None


async def attempt(
    client: httpx.AsyncClient, settings: Settings, endpoint: Endpoint, events: Sequence[Event]
) -> Outcome:
    """Send ``events`` to ``endpoint`` once; never raises for what the network or the receiver does."""
    started = time.perf_counter()
    now = utcnow()

    def took() -> int:
        return int((time.perf_counter() - started) * 1000)

    try:
        request = outgoing(settings, endpoint, events, now)
        pinned = await pin(request.url, networks(settings.notify.notify_allow_networks))
        response = await client.post(
            pinned.url,
            content=request.body,
            headers={
                **request.headers,
                "host": pinned.host,
                "user-agent": "GridInspector/1 (+notifications)",
            },
            extensions={"sni_hostname": pinned.host},
        )
    except TargetRefused as exc:
        return Outcome(None, f"refused before connecting: {exc.detail}"[:500], took())
    except AppError as exc:  # e.g. a secret this service's key cannot read
        return Outcome(None, f"{exc.code}: {exc.detail}"[:500], took())
    except httpx.HTTPError as exc:
        return Outcome(None, f"{type(exc).__name__}: {exc}"[:500], took())
    error = channels.accepted(endpoint.kind, response.status_code, response.content[:65536])
    return Outcome(response.status_code, error, took(), _retry_after(response))
