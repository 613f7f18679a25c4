"""The delivery worker (docs/notifications.md "Delivery"): claim due deliveries, send them outside any
transaction, record every attempt, retry on the schedule, disable endpoints that are gone.

Claiming is a short transaction of its own. On PostgreSQL due deliveries are locked ``FOR UPDATE SKIP
LOCKED``, so any number of processes share the work without waiting on each other; on SQLite writers are
serialised (``BEGIN IMMEDIATE``), so one claimer at a time. A claim marks the deliveries ``sending`` with a
lease; a process killed mid-send leaves them to be taken again once the lease has expired, never lost, and
never sent by two workers at once while the lease holds (it outlasts the request timeout). A result is kept
only by the worker that still holds the lease.

Bots get a burst as one digest, and at most ``GRID_NOTIFY_BOT_PER_MINUTE`` messages a minute: a bot's due
deliveries wait for the next minute rather than be refused by the platform.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
import uuid
from dataclasses import dataclass

import httpx
from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from app.core.config import Settings
from app.core.db import Database, utcnow
from app.notifications import outbox
from app.notifications.models import Attempt, Delivery, Endpoint, Event
from app.notifications.sending import Outcome, attempt

log = logging.getLogger("grid_inspector.notifications")
BOT_BATCH = 30  # events merged into one bot message at most
BATCH = 20  # deliveries a claim takes at most


def worker_id() -> str:
    return f"{socket.gethostname()[:32]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass
class Claim:
    endpoint: Endpoint
    items: list[tuple[Delivery, Event]]


def _due(now: dt.datetime) -> list[ColumnElement[bool]]:
    return [
        Delivery.status.in_(("pending", "sending")),
        Delivery.next_attempt_at <= now,
        or_(Delivery.lease_until.is_(None), Delivery.lease_until < now),
    ]


def lease_s(settings: Settings) -> float:
    return settings.notify.notify_timeout_s * 3 + 30


async def claim(db: Database, settings: Settings, owner: str, now: dt.datetime) -> list[Claim]:
    """Take due deliveries under a lease, in a transaction of their own; grouped by endpoint (a bot's whole
    burst, within its messages-a-minute)."""
    postgres = db.dialect == "postgresql"
    async with db.write_sessionmaker() as session:
        query = select(Delivery.id, Delivery.endpoint_id).where(*_due(now)).order_by(Delivery.next_attempt_at)
        query = query.limit(BATCH * 5)
        if postgres:
            query = query.with_for_update(skip_locked=True, of=Delivery)
        candidates = (await session.execute(query)).all()
        if not candidates:
            await session.rollback()
            return []
        endpoint_ids = sorted({e for _, e in candidates})
        eq = select(Endpoint).where(Endpoint.id.in_(endpoint_ids))
        if postgres:
            eq = eq.with_for_update(skip_locked=True)  # one worker at a time talks to a given bot
        endpoints = {e.id: e for e in (await session.execute(eq)).scalars()}
        claims: list[Claim] = []
        taken: list[int] = []
        for endpoint in endpoints.values():
            ids = [d for d, e in candidates if e == endpoint.id]
            if not endpoint.active or endpoint.deleted_at is not None:
                await _fail_all(session, ids, "the endpoint is disabled")
                continue
            if endpoint.kind == "webhook":
                ids = ids[:BATCH]
            else:
                ids = await _bot_budget(session, settings, endpoint, ids, now)
            if not ids:
                continue
            taken += ids
            rows = (
                await session.execute(
                    select(Delivery, Event)
                    .join(Event, Event.id == Delivery.event_id)
                    .where(Delivery.id.in_(ids))
                )
            ).all()
            items = sorted(((d, e) for d, e in rows), key=lambda pair: pair[0].id)
            if endpoint.kind == "webhook":
                claims += [Claim(endpoint, [item]) for item in items]
            else:
                claims.append(Claim(endpoint, items))
        if taken:
            await session.execute(
                update(Delivery)
                .where(Delivery.id.in_(taken))
                .values(
                    status="sending",
                    lease_until=now + dt.timedelta(seconds=lease_s(settings)),
                    lease_owner=owner,
                    attempts=Delivery.attempts + 1,
                )
                .execution_options(synchronize_session=False)
            )
        await session.commit()
    return claims


async def _bot_budget(
    session: AsyncSession, settings: Settings, endpoint: Endpoint, ids: list[int], now: dt.datetime
) -> list[int]:
    """The deliveries a bot may get now as one message; when this minute's messages are spent, its due
    deliveries wait for the next minute."""
    minute = now - dt.timedelta(seconds=60)
    sent = (
        await session.execute(
            select(func.count(func.distinct(Attempt.started_at)))
            .join(Delivery, Delivery.id == Attempt.delivery_id)
            .where(Delivery.endpoint_id == endpoint.id, Attempt.started_at > minute)
        )
    ).scalar_one()
    # Messages on their way (claimed, not yet recorded) count too: one per worker holding a lease on it.
    sent += (
        await session.execute(
            select(func.count(func.distinct(Delivery.lease_owner))).where(
                Delivery.endpoint_id == endpoint.id, Delivery.status == "sending", Delivery.lease_until > now
            )
        )
    ).scalar_one()
    if sent >= settings.notify.notify_bot_per_minute:
        oldest = (
            await session.execute(
                select(func.min(Attempt.started_at))
                .join(Delivery, Delivery.id == Attempt.delivery_id)
                .where(Delivery.endpoint_id == endpoint.id, Attempt.started_at > minute)
            )
        ).scalar_one()
        wait_until = (oldest or now) + dt.timedelta(seconds=61)
        await session.execute(
            update(Delivery)
            .where(Delivery.id.in_(ids))
            .values(next_attempt_at=wait_until)
            .execution_options(synchronize_session=False)
        )
        return []
    return ids[:BOT_BATCH]


async def _fail_all(session: AsyncSession, ids: list[int], why: str) -> None:
    await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(ids))
        .values(status="failed", last_error=why, lease_until=None)
        .execution_options(synchronize_session=False)
    )


def next_delay(settings: Settings, attempts: int, outcome: Outcome) -> float | None:
    """Seconds until the next attempt after ``attempts`` tries, or None when the schedule is spent.
    ``Retry-After`` is honoured when it asks for longer (at most a day)."""
    schedule = settings.notify.notify_retry_s
    if attempts >= len(schedule):
        return None
    delay = float(schedule[attempts])
    if outcome.retry_after_s is not None:
        delay = max(delay, min(outcome.retry_after_s, 86400.0))
    return delay


async def record(
    db: Database, settings: Settings, claim: Claim, owner: str, outcome: Outcome, started: dt.datetime
) -> None:
    """Keep the attempt, and move each delivery on, if this worker still holds its lease."""
    now = utcnow()
    async with db.write_sessionmaker() as session:
        endpoint = await session.get(Endpoint, claim.endpoint.id)
        assert endpoint is not None
        for delivery, _ in claim.items:
            session.add(
                Attempt(
                    delivery_id=delivery.id,
                    started_at=started,
                    duration_ms=outcome.duration_ms,
                    status_code=outcome.status_code,
                    ok=outcome.ok,
                    error=outcome.error,
                )
            )
            current = await session.get(Delivery, delivery.id)
            if current is None or current.lease_owner != owner or current.status != "sending":
                continue  # the lease expired and another worker took it: its result counts
            current.last_status, current.last_error, current.lease_until = (
                outcome.status_code,
                outcome.error,
                None,
            )
            if outcome.ok:
                current.status, current.delivered_at = "delivered", now
                continue
            delay = None if outcome.status_code == 410 else next_delay(settings, current.attempts, outcome)
            if delay is None:
                current.status = "failed"
            else:
                current.status, current.next_attempt_at = "pending", now + dt.timedelta(seconds=delay)
        await _endpoint_health(session, settings, endpoint, outcome, now)
        await session.commit()


async def _endpoint_health(
    session: AsyncSession, settings: Settings, endpoint: Endpoint, outcome: Outcome, now: dt.datetime
) -> None:
    if outcome.ok:
        endpoint.failing_since = None
        return
    endpoint.failing_since = endpoint.failing_since or now
    gone = outcome.status_code == 410
    too_long = (now - endpoint.failing_since).total_seconds() >= settings.notify.notify_disable_after_s
    if not endpoint.active or not (gone or too_long):
        return
    reason = "the receiver answered 410 Gone" if gone else "it failed for 5 days" if too_long else ""
    await disable(session, settings, endpoint, reason, now)


async def disable(
    session: AsyncSession, settings: Settings, endpoint: Endpoint, reason: str, now: dt.datetime
) -> None:
    """Disable an endpoint, fail what waits for it, and tell the command centre (its other endpoints)."""
    endpoint.active, endpoint.disabled_at, endpoint.disabled_reason = False, now, reason[:255]
    await session.execute(
        update(Delivery)
        .where(Delivery.endpoint_id == endpoint.id, Delivery.status == "pending")
        .values(status="failed", last_error="the endpoint was disabled")
        .execution_options(synchronize_session=False)
    )
    told = [
        e for e in await outbox.endpoints_hearing(session, "endpoint.disabled", [None]) if e.id != endpoint.id
    ]
    await outbox.record(
        session,
        "endpoint.disabled",
        {
            "endpoint": {
                "id": endpoint.id,
                "name": endpoint.name,
                "kind": endpoint.kind,
                "unit_id": endpoint.unit_id,
            },
            "note": f"推送地址「{endpoint.name}」已停用：{reason}",
        },
        told,
        unit_id=endpoint.unit_id,
        occurred_at=now,
    )
    log.warning("notification endpoint %s disabled: %s", endpoint.id, reason)


async def deliver_once(db: Database, settings: Settings, client: httpx.AsyncClient, owner: str) -> int:
    """One round: claim, send each claim (concurrently), record. The number of deliveries attempted."""
    claims = await claim(db, settings, owner, utcnow())

    async def one(c: Claim) -> None:
        started = utcnow()
        outcome = await attempt(client, settings, c.endpoint, [event for _, event in c.items])
        await record(db, settings, c, owner, outcome, started)

    await asyncio.gather(*(one(c) for c in claims))
    return sum(len(c.items) for c in claims)


def http_client(settings: Settings) -> httpx.AsyncClient:
    """Redirects are never followed (a 3xx is a failure): a receiver cannot bounce a signed delivery elsewhere."""
    return httpx.AsyncClient(
        follow_redirects=False, timeout=settings.notify.notify_timeout_s, trust_env=False
    )


async def run(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Deliver until ``stop`` is set: a round whenever there was work, else every ``GRID_NOTIFY_POLL_S``."""
    owner = worker_id()
    async with http_client(settings) as client:
        while not stop.is_set():
            try:
                worked = await deliver_once(db, settings, client, owner)
            except Exception:
                log.exception("delivery round failed; trying again")
                worked = 0
            if not worked:
                try:
                    await asyncio.wait_for(stop.wait(), timeout=settings.notify.notify_poll_s)
                except TimeoutError:
                    pass
