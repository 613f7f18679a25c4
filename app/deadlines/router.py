"""HTTP routes of the working-time calendar: what a year looks like, and loading a year's arrangement."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from sqlalchemy import select

from app.core.db import utcnow
from app.core.deps import HooksDep, SessionDep, canonical_number
from app.core.errors import ValidationProblem
from app.core.schemas import Input
from app.deadlines.cache import CalendarDep, changed
from app.deadlines.calendar import WorkCalendar
from app.deadlines.events import CalendarChanged
from app.deadlines.models import CalendarDay
from app.deadlines.permissions import CalendarEditor, CalendarReader

router = APIRouter(prefix="/api/v1/calendar", tags=["calendar"])
Year = Annotated[
    int,
    BeforeValidator(canonical_number),
    Path(ge=2000, le=2100, description="the calendar year, 2000 to 2100"),
]


class DayIn(Input):
    date: dt.date
    workday: bool = Field(strict=True)
    note: str = Field(default="", max_length=64)


class YearIn(Input):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "days": [
                    {"date": "2027-01-01", "workday": False, "note": "元旦"},
                    {"date": "2027-02-06", "workday": True, "note": "春节调休上班"},
                ]
            }
        }
    )

    days: list[DayIn] = Field(
        min_length=1, max_length=366, description="the year's holidays and make-up workdays"
    )


class DayOut(BaseModel):
    date: dt.date
    workday: bool
    note: str


class YearOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "example": {
                "year": 2027,
                "known": True,
                "basis": "loaded by an admin",
                "days": [
                    {"date": "2027-01-01", "workday": False, "note": "元旦"},
                    {"date": "2027-02-06", "workday": True, "note": "春节调休上班"},
                ],
                "working_days": 261,
            }
        }
    )

    year: int
    known: bool = Field(description="false: no published or loaded data; weekends only are counted")
    basis: str
    days: list[DayOut] = Field(
        description="dates whose status differs from Monday-Friday working, Saturday-Sunday off"
    )
    working_days: int


def _year_out(year: int, calendar: WorkCalendar, loaded: dict[dt.date, tuple[bool, str]]) -> YearOut:
    day, special, working = dt.date(year, 1, 1), [], 0
    known = any(calendar.knows(dt.date(year, m, 1)) for m in range(1, 13))
    while day.year == year:
        is_work = calendar.is_workday(day)
        working += is_work
        if is_work != (day.weekday() < 5):
            special.append(DayOut(date=day, workday=is_work, note=loaded.get(day, (None, ""))[1]))
        day += dt.timedelta(days=1)
    basis = (
        "loaded by an admin"
        if loaded
        else (
            "published arrangement (chinese-calendar)"
            if known
            else "weekends only: no arrangement published or loaded yet"
        )
    )
    return YearOut(year=year, known=known or bool(loaded), basis=basis, days=special, working_days=working)


@router.get("/{year}", response_model=YearOut, summary="A year's working days as the deadlines count them")
async def get_year(year: Year, _: CalendarReader, session: SessionDep, calendar: CalendarDep) -> YearOut:
    rows = (
        await session.execute(
            select(CalendarDay).where(CalendarDay.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
        )
    ).scalars()
    return _year_out(year, calendar, {r.day: (r.workday, r.note) for r in rows})


@router.put("/{year}", response_model=YearOut, summary="Load a year's holidays and make-up workdays (admin)")
async def put_year(
    year: Year, data: YearIn, request: Request, _: CalendarEditor, session: SessionDep, hooks: HooksDep
) -> YearOut:
    """Replace the loaded days of ``year`` with ``days`` (the State Council's arrangement, 放假调休).

    Used for a year the installed ``chinese-calendar`` does not carry yet; every server process uses it from
    its next request, and the deadlines of running clocks are counted again on it (each re-timed case says so
    in its history).
    """
    first: dict[dt.date, int] = {}
    twice = [i for i, d in enumerate(data.days) if first.setdefault(d.date, i) != i]
    if twice:
        raise ValidationProblem(
            [
                {"loc": ["days", i, "date"], "msg": "this date is listed twice", "type": "duplicate"}
                for i in twice[:20]
            ]
        )
    wrong = [i for i, d in enumerate(data.days) if d.date.year != year]
    if wrong:
        raise ValidationProblem(
            [{"loc": ["days", i, "date"], "msg": f"not in {year}", "type": "wrong_year"} for i in wrong[:20]]
        )
    existing = {
        r.day: r
        for r in (
            await session.execute(
                select(CalendarDay).where(CalendarDay.day.between(dt.date(year, 1, 1), dt.date(year, 12, 31)))
            )
        ).scalars()
    }
    wanted = {d.date: d for d in data.days}
    for day, row in existing.items():
        if day not in wanted:
            await session.delete(row)
    for day, d in wanted.items():
        row = existing.get(day) or CalendarDay(day=day)
        row.workday, row.note, row.updated_at = d.workday, d.note, utcnow()
        session.add(row)
    await session.flush()
    await changed(session)
    hooks.collect([CalendarChanged(year=year, tz=request.app.state.settings.workflow.timezone)])
    loaded = {d.date: (d.workday, d.note) for d in data.days}
    calendar = WorkCalendar(
        tz=request.app.state.settings.workflow_tz, overrides={k: v[0] for k, v in loaded.items()}
    )
    return _year_out(year, calendar, loaded)
