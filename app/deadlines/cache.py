"""The city's calendar as a process sees it: published data plus the days an admin loaded.

A per-process copy refreshed when loaded days change (app.core.revisions, name ``calendar``), so a
year's arrangement loaded through one process reaches every process at its next request.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from app.core import revisions
from app.core.config import Settings
from app.core.deps import SessionDep, release
from app.core.revisions import Cached
from app.deadlines.calendar import WorkCalendar
from app.deadlines.models import CalendarDay


async def _load(session: AsyncSession) -> dict[dt.date, bool]:
    rows = (await session.execute(select(CalendarDay.day, CalendarDay.workday))).all()
    return {d: w for d, w in rows}


LOADED_DAYS = Cached("calendar", _load)


async def calendar_for(session: AsyncSession, settings: Settings) -> WorkCalendar:
    """The working-time calendar in the city's time zone with the loaded days, as of the revision
    ``session`` sees (no statement when it is current)."""
    overrides = await LOADED_DAYS.get(session)
    return WorkCalendar(tz=settings.workflow_tz, overrides=overrides)


async def changed(session: AsyncSession) -> None:
    """Record in the session's transaction that loaded days changed (every process re-reads them)."""
    await revisions.bump(session, LOADED_DAYS.name)


async def _calendar(request: Request, session: SessionDep) -> WorkCalendar:
    calendar = await calendar_for(session, request.app.state.settings)
    await release(session)  # a writing request may read its body next: hold no lock while it arrives
    return calendar


CalendarDep = Annotated[WorkCalendar, Depends(_calendar)]
