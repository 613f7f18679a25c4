"""Deadline warnings (docs/notifications.md "Events"): ``case.deadline_warning`` when a running clock's light
turns yellow (80 % of the limit used, on the working-time calendar: the case's stored ``yellow_at``) and
``case.overdue`` when it turns red (``due_at``), once each per deadline.

A deadline is the case's ``due_at`` as it stands: an approved extension makes a new deadline (and so new
notices), a hold stops the clock (a held case is not swept; when it resumes, its new deadline is). Several
processes sweep without emitting the same notice twice: a notice is a row keyed by (case, kind, deadline),
inserted before the event is written, in the same transaction, and only the transaction that inserted it
writes the event. A case found already overdue gets the overdue notice only (a warning would be stale).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging

from sqlalchemy import and_, exists, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case, Status
from app.cases.queries import OPEN
from app.core.config import Settings
from app.core.db import Database, utcnow
from app.notifications import outbox
from app.notifications.models import DeadlineNotice

log = logging.getLogger("grid_inspector.notifications")
SWEEP_BATCH = 500


async def _claim_notice(
    session: AsyncSession, dialect: str, case_id: int, kind: str, due_at: dt.datetime
) -> bool:
    """Insert the notice; False when another sweep already did (the primary key decides)."""
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(DeadlineNotice).values(case_id=case_id, kind=kind, due_at=due_at, created_at=utcnow())
    result = await session.execute(statement.on_conflict_do_nothing().returning(DeadlineNotice.case_id))
    return result.first() is not None


async def sweep(db: Database, settings: Settings, now: dt.datetime | None = None) -> int:
    """Emit the warnings and overdue notices due at ``now`` (default: now); the number emitted."""
    now = now or utcnow()
    notice = DeadlineNotice
    unwarned = ~exists().where(
        notice.case_id == Case.id, notice.due_at == Case.due_at, notice.kind == "warning"
    )
    unflagged = ~exists().where(
        notice.case_id == Case.id, notice.due_at == Case.due_at, notice.kind == "overdue"
    )
    emitted = 0
    async with db.write_sessionmaker() as session:
        cases = (
            await session.execute(
                select(Case)
                .where(
                    OPEN,
                    Case.deleted_at.is_(None),
                    Case.clock_started_at.is_not(None),
                    Case.status != Status.on_hold.value,
                    Case.yellow_at <= now,
                    # Red after the due instant, as the light says (app.deadlines.clock.case_light).
                    (and_(Case.due_at < now, unflagged)) | (and_(Case.due_at >= now, unwarned)),
                )
                .order_by(Case.id)
                .limit(SWEEP_BATCH)
            )
        ).scalars()
        for case in list(cases):
            assert case.due_at is not None
            overdue = case.due_at < now
            kind = "overdue" if overdue else "warning"
            if not await _claim_notice(session, db.dialect, case.id, kind, case.due_at):
                continue
            if overdue:  # a warning now would be stale: mark it sent
                await _claim_notice(session, db.dialect, case.id, "warning", case.due_at)
            event_type = "case.overdue" if overdue else "case.deadline_warning"
            owners: list[int | None] = [case.unit_id] if case.unit_id is not None else []
            if overdue:
                owners.append(None)  # the dispatchers hear of overdue cases too
            endpoints = await outbox.endpoints_hearing(session, event_type, owners)
            data = await outbox.case_data(session, settings, case, now)
            await outbox.record(
                session, event_type, data, endpoints, case_id=case.id, unit_id=case.unit_id, occurred_at=now
            )
            emitted += 1
        await session.commit()
    return emitted


async def run(db: Database, settings: Settings, stop: asyncio.Event) -> None:
    """Sweep every ``GRID_NOTIFY_SWEEP_S`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            await sweep(db, settings)
        except Exception:
            log.exception("deadline sweep failed; trying again")
        try:
            await asyncio.wait_for(stop.wait(), timeout=settings.notify.notify_sweep_s)
        except TimeoutError:
            pass
