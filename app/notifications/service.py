"""Managing endpoints and reading deliveries (docs/notifications.md "API"). Services flush; the request commits."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import utcnow
from app.core.deps import Page
from app.core.errors import Conflict, NotFound, ValidationProblem
from app.notifications.kinds import Owner, concerns, hears
from app.notifications.models import Attempt, Delivery, Endpoint, Event
from app.notifications.safety import networks, pin
from app.notifications.schemas import (
    AttemptOut,
    DeliveryOut,
    EndpointCreated,
    EndpointIn,
    EndpointOut,
    EndpointPatch,
)
from app.notifications.secrets import new_webhook_secret, seal
from app.units.book import units
from app.units.schemas import UnitRef


class DeliveryPending(Conflict):
    code, title = "delivery_pending", "The delivery is already waiting to be sent"
    title_zh = "该推送已在等待发送"


def _owner(endpoint: Endpoint) -> Owner:
    return "unit" if endpoint.unit_id is not None else "command_centre"


def _invalid(field: str, msg: str, kind: str = "invalid") -> ValidationProblem:
    return ValidationProblem([{"loc": [field], "msg": msg, "type": kind}])


def _hint(kind: str, target: str) -> str:
    """What may be shown of a target: a webhook's scheme, host and path start; a bot key's last four."""
    if kind == "webhook":
        parts = urlsplit(target)
        path = parts.path[:12] + ("…" if len(parts.path) > 12 or parts.query else "")
        return f"{parts.scheme}://{parts.netloc}{path}"
    return f"…{target[-4:]}" if len(target) > 8 else "…"


async def _check_target(
    settings: Settings, kind: str, url: str | None, token: str | None, secret: str | None, creating: bool
) -> None:
    if kind == "webhook":
        if creating and not url:
            raise _invalid("url", "a webhook needs the URL deliveries are POSTed to", "missing")
        if url:
            await pin(url, networks(settings.notify.notify_allow_networks))
        if token or secret:
            raise _invalid(
                "token" if token else "secret",
                "a webhook has a URL; its secret is made for it",
                "not_allowed",
            )
        return
    if url:
        raise _invalid(
            "url", "a bot is given its token; the platform's address is the service's setting", "not_allowed"
        )
    if creating and not token:
        raise _invalid("token", f"a {kind} bot needs its token", "missing")
    if creating and kind in ("dingtalk", "feishu") and not secret:
        raise _invalid("secret", f"a {kind} bot is added with signing (加签) on: give its secret", "missing")
    if kind == "wecom" and secret:
        raise _invalid("secret", "a WeCom group robot has no signing secret", "not_allowed")


def _check_events(owner: Owner, events: list[str]) -> list[str]:
    known = concerns(owner)
    wrong = [e for e in events if e not in known]
    if wrong:
        raise _invalid(
            "events",
            f"not events a {'unit' if owner == 'unit' else 'command centre'} endpoint hears: "
            f"{', '.join(wrong)} (it hears {', '.join(sorted(known))})",
        )
    return sorted(set(events))


async def endpoint_out(session: AsyncSession, endpoint: Endpoint) -> EndpointOut:
    all_units = await units(session)
    unit = all_units.get(endpoint.unit_id) if endpoint.unit_id is not None else None
    owner = _owner(endpoint)
    return EndpointOut(
        id=endpoint.id,
        kind=endpoint.kind,
        unit=UnitRef(id=unit.id, name=unit.name) if unit else None,
        name=endpoint.name,
        target=endpoint.target_hint,
        signed=endpoint.secret_enc is not None,
        events=list(endpoint.events or []),
        hears=sorted(e for e in concerns(owner) if hears(owner, list(endpoint.events or []), e)),
        active=endpoint.active,
        disabled_at=endpoint.disabled_at,
        disabled_reason=endpoint.disabled_reason,
        failing_since=endpoint.failing_since,
        rotated_at=endpoint.rotated_at,
        created_at=endpoint.created_at,
    )


async def create_endpoint(session: AsyncSession, settings: Settings, data: EndpointIn) -> EndpointCreated:
    """A new endpoint; 422 for a target it may not reach (``target_not_allowed``), a missing token or secret,
    events its owner does not hear, an unknown unit."""
    if data.unit_id is not None and data.unit_id not in await units(session):
        raise _invalid("unit_id", f"no unit with id {data.unit_id}", "not_found")
    await _check_target(settings, data.kind, data.url, data.token, data.secret, creating=True)
    owner: Owner = "unit" if data.unit_id is not None else "command_centre"
    target = data.url if data.kind == "webhook" else data.token
    assert target is not None
    secret = new_webhook_secret() if data.kind == "webhook" else data.secret
    endpoint = Endpoint(
        kind=data.kind,
        unit_id=data.unit_id,
        name=data.name or _hint(data.kind, target),
        target_enc=seal(settings, target),
        target_hint=_hint(data.kind, target),
        secret_enc=seal(settings, secret) if secret else None,
        events=_check_events(owner, data.events),
        active=data.active,
    )
    session.add(endpoint)
    await session.flush()
    shown = await endpoint_out(session, endpoint)
    return EndpointCreated(**shown.model_dump(), secret=secret if data.kind == "webhook" else None)


async def get_endpoint(session: AsyncSession, endpoint_id: int, unit_only: int | None = None) -> Endpoint:
    """The endpoint; 404 when it does not exist, was deleted, or belongs to another unit than ``unit_only``."""
    endpoint = await session.get(Endpoint, endpoint_id)
    if (
        endpoint is None
        or endpoint.deleted_at is not None
        or (unit_only is not None and endpoint.unit_id != unit_only)
    ):
        raise NotFound(f"No notification endpoint with id {endpoint_id}")
    return endpoint


async def update_endpoint(
    session: AsyncSession, settings: Settings, endpoint: Endpoint, data: EndpointPatch
) -> None:
    fields = data.model_dump(exclude_unset=True)
    await _check_target(
        settings, endpoint.kind, fields.get("url"), fields.get("token"), fields.get("secret"), creating=False
    )
    if fields.get("url") or fields.get("token"):
        target = fields.get("url") or fields["token"]
        endpoint.target_enc, endpoint.target_hint = seal(settings, target), _hint(endpoint.kind, target)
    if fields.get("secret"):
        endpoint.secret_enc = seal(settings, fields["secret"])
    if fields.get("name"):
        endpoint.name = fields["name"]
    if fields.get("events") is not None:
        endpoint.events = _check_events(_owner(endpoint), fields["events"])
    if fields.get("active") is not None:
        endpoint.active = fields["active"]
        if endpoint.active:  # re-enabled: a fresh start
            endpoint.disabled_at = endpoint.disabled_reason = endpoint.failing_since = None
    endpoint.updated_at = utcnow()
    await session.flush()


async def rotate_secret(session: AsyncSession, settings: Settings, endpoint: Endpoint) -> str:
    """A new webhook secret (returned once); the old one is signed with too for 24 hours."""
    if endpoint.kind != "webhook":
        raise _invalid(
            "kind", "a bot's secret is set by PATCH with its new secret from the platform", "not_allowed"
        )
    secret = new_webhook_secret()
    endpoint.previous_secret_enc, endpoint.secret_enc = endpoint.secret_enc, seal(settings, secret)
    endpoint.rotated_at = endpoint.updated_at = utcnow()
    await session.flush()
    return secret


async def list_endpoints(
    session: AsyncSession, page: Page, unit_only: int | None, unit: int | None, kind: str | None
) -> list[Endpoint]:
    query = select(Endpoint).where(Endpoint.deleted_at.is_(None)).order_by(Endpoint.id).limit(page.limit + 1)
    if page.after_id is not None:
        query = query.where(Endpoint.id > page.after_id)
    if unit_only is not None:
        query = query.where(Endpoint.unit_id == unit_only)
    if unit is not None:
        query = query.where(Endpoint.unit_id == unit)
    if kind is not None:
        query = query.where(Endpoint.kind == kind)
    return list((await session.execute(query)).scalars())


async def deliveries_out(session: AsyncSession, rows: list[tuple[Delivery, Event]]) -> list[DeliveryOut]:
    ids = [d.id for d, _ in rows]
    history: dict[int, list[AttemptOut]] = {i: [] for i in ids}
    if ids:
        for a in (
            await session.execute(select(Attempt).where(Attempt.delivery_id.in_(ids)).order_by(Attempt.id))
        ).scalars():
            history[a.delivery_id].append(
                AttemptOut(
                    started_at=a.started_at,
                    duration_ms=a.duration_ms,
                    status_code=a.status_code,
                    ok=a.ok,
                    error=a.error,
                )
            )
    return [
        DeliveryOut(
            id=d.id,
            endpoint_id=d.endpoint_id,
            event=e.type,
            message_id=e.message_id,
            case_id=e.case_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at if d.status == "pending" else None,
            delivered_at=d.delivered_at,
            last_status=d.last_status,
            last_error=d.last_error,
            created_at=d.created_at,
            history=history[d.id],
        )
        for d, e in rows
    ]


async def list_deliveries(
    session: AsyncSession,
    page: Page,
    unit_only: int | None,
    endpoint: int | None,
    case: int | None,
    status: str | None,
    event: str | None,
) -> list[tuple[Delivery, Event]]:
    """Newest first, keyset by id."""
    query = (
        select(Delivery, Event)
        .join(Event, Event.id == Delivery.event_id)
        .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
        .order_by(Delivery.id.desc())
        .limit(page.limit + 1)
    )
    if page.after_id is not None:
        query = query.where(Delivery.id < page.after_id)
    if unit_only is not None:
        query = query.where(Endpoint.unit_id == unit_only)
    for column, value in (
        (Delivery.endpoint_id, endpoint),
        (Event.case_id, case),
        (Delivery.status, status),
        (Event.type, event),
    ):
        if value is not None:
            query = query.where(column == value)
    return [(d, e) for d, e in (await session.execute(query)).all()]


async def get_delivery(
    session: AsyncSession, delivery_id: int, unit_only: int | None
) -> tuple[Delivery, Event]:
    row = (
        await session.execute(
            select(Delivery, Event, Endpoint.unit_id)
            .join(Event, Event.id == Delivery.event_id)
            .join(Endpoint, Endpoint.id == Delivery.endpoint_id)
            .where(Delivery.id == delivery_id)
        )
    ).first()
    if row is None or (unit_only is not None and row[2] != unit_only):
        raise NotFound(f"No delivery with id {delivery_id}")
    return row[0], row[1]


async def resend(session: AsyncSession, delivery: Delivery, now: dt.datetime) -> None:
    """Send a failed or delivered delivery again, now, with the same ``webhook-id``; 409 while it is on its way."""
    if delivery.status in ("pending", "sending"):
        raise DeliveryPending("This delivery is already waiting to be sent")
    delivery.status, delivery.next_attempt_at, delivery.lease_until = "pending", now, None
    await session.flush()
