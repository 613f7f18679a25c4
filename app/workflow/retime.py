"""Running deadlines counted again when the calendar changes (an admin loaded a year's working days).

A clock's deadline is the instant when its remaining working time runs out on the calendar. A case
dispatched before the State Council's arrangement for a year was loaded was timed with weekends only (or
with last year's idea of the year), so 1 January or a make-up Saturday counted wrong. When the calendar
changes, every running clock counted in working time gets its ``due_at`` and ``yellow_at`` again from the
same start and the same remaining time; each case whose deadline moved says so in its history (a row by
the service, ``retime``, with both deadlines) and changes version, so phones syncing it hear of it.
Held and stopped clocks are timed when they run again; natural-hours clocks do not read the calendar.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.cases.models import Case, Status
from app.core.config import Settings
from app.core.db import utcnow
from app.core.events import Handler
from app.deadlines import clock
from app.deadlines.cache import calendar_for
from app.deadlines.events import CalendarChanged
from app.workflow.history import new_event


def on_calendar_changed(settings: Settings) -> Handler:
    """The bus handler (app.core.events) for :class:`CalendarChanged`, for the service's settings."""

    async def handle(session: AsyncSession, event: CalendarChanged) -> None:
        await retime_running_clocks(session, settings)

    return handle


async def retime_running_clocks(session: AsyncSession, settings: Settings) -> int:
    """Count every running working-time clock again on the calendar as the session sees it; the number of
    cases whose deadline moved."""
    calendar = await calendar_for(session, settings)
    running = (
        await session.execute(
            select(Case).where(
                Case.clock_started_at.is_not(None),
                Case.status != Status.on_hold.value,
                Case.time_unit != "natural_hours",
                Case.deleted_at.is_(None),
            )
        )
    ).scalars()
    moved = 0
    now = utcnow()
    for case in running:
        before = case.due_at
        started = case.clock_started_at
        assert started is not None
        clock.restart(case, calendar, started)  # the same run, counted on the new calendar
        if case.due_at == before:
            continue
        moved += 1
        case.updated_at = now
        session.add(
            new_event(
                case,
                "retime",
                None,
                case.status,
                case.status,
                unit_id=case.unit_id,
                note="工作日历变更，处置时限重新计算 (the working calendar changed)",
                data={
                    "due_at_before": before.isoformat() if before else None,
                    "due_at": case.due_at.isoformat() if case.due_at else None,
                },
            )
        )
    await session.flush()
    return moved
