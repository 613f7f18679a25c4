"""The city's calendar as a process sees it: published data plus the days an admin loaded.

Every process keeps the loaded days for ``REFRESH_SECONDS`` and reads them again after that, so a
year's arrangement loaded through one process reaches all of them within a minute (holiday data
changes once a year; a revision table would be more machinery than it is worth).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select

from app.core.db import Database
from app.workflow.calendar import WorkCalendar
from app.workflow.models import CalendarDay

REFRESH_SECONDS = 60.0


class CalendarCache:
    def __init__(self, tz: dt.tzinfo) -> None:
        self.tz = tz
        self._calendar = WorkCalendar(tz=tz)
        self._loaded_at = -1e9
        self._lock = asyncio.Lock()

    def invalidate(self) -> None:
        self._loaded_at = -1e9

    async def get(self, db: Database) -> WorkCalendar:
        """The calendar; reads the loaded days in a short read-only session of its own when stale, so a
        writing request's transaction (and SQLite's write lock) is not begun by merely asking."""
        if time.monotonic() - self._loaded_at < REFRESH_SECONDS:
            return self._calendar
        async with self._lock:
            if time.monotonic() - self._loaded_at >= REFRESH_SECONDS:
                async with db.sessionmaker() as session:
                    rows = (await session.execute(select(CalendarDay.day, CalendarDay.workday))).all()
                self._calendar = WorkCalendar(tz=self.tz, overrides={d: w for d, w in rows})
                self._loaded_at = time.monotonic()
        return self._calendar


async def _calendar(request: Request) -> WorkCalendar:
    return await request.app.state.calendars.get(request.app.state.db)


CalendarDep = Annotated[WorkCalendar, Depends(_calendar)]
