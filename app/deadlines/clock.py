"""A case's deadline clock: start at dispatch, stop on hold or resolution, restart with what is left.

The limit is kept in seconds of the category's own kind of time (working time on the calendar, or
natural time for natural-hours items such as veto items); ``used_seconds`` is what earlier runs of
the clock used, and the current run started at ``clock_started_at``. ``due_at`` is stored whenever
the clock runs, so queries can filter on it, and kept when it stops (a resolved case says by when it
was due; a held one shows the deadline as it stood), until a return to the dispatchers clears it.
"""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from app.deadlines.calendar import WorkCalendar, limit_seconds


class Clocked(Protocol):
    """What the clock reads and writes on a case (app.cases.models.Case has these columns)."""

    status: str
    time_limit: int
    time_unit: str
    limit_seconds: float | None
    used_seconds: float
    clock_started_at: dt.datetime | None
    dispatched_at: dt.datetime | None
    due_at: dt.datetime | None
    yellow_at: dt.datetime | None


class Lit(Protocol):
    """What the light reads (a case, or a list's row of its columns)."""

    status: str
    clock_started_at: dt.datetime | None
    due_at: dt.datetime | None
    yellow_at: dt.datetime | None


def _natural(case: Clocked) -> bool:
    return case.time_unit == "natural_hours"


def _elapsed(case: Clocked, calendar: WorkCalendar, since: dt.datetime, now: dt.datetime) -> float:
    if _natural(case):
        return max(0.0, (now - since).total_seconds())
    return calendar.working_seconds_between(since, now)


def _due(case: Clocked, calendar: WorkCalendar, start: dt.datetime, remaining: float) -> dt.datetime:
    if remaining <= 0:
        return start.astimezone(dt.UTC)
    if _natural(case):
        return (start + dt.timedelta(seconds=remaining)).astimezone(dt.UTC)
    return calendar.add_working_seconds(start, max(remaining, 0.0))


def start(case: Clocked, calendar: WorkCalendar, now: dt.datetime) -> None:
    """Dispatch: a fresh clock with the category's limit (a re-dispatch after a return starts anew)."""
    case.limit_seconds = limit_seconds(calendar, case.time_limit, case.time_unit)
    case.used_seconds = 0.0
    case.dispatched_at = now
    restart(case, calendar, now)


def restart(case: Clocked, calendar: WorkCalendar, now: dt.datetime) -> None:
    """Run the clock again with the time that is left (resume after a hold, rework)."""
    case.clock_started_at = now
    remaining = (case.limit_seconds or 0.0) - case.used_seconds
    case.due_at = _due(case, calendar, now, remaining)
    case.yellow_at = _due(case, calendar, now, remaining - 0.2 * (case.limit_seconds or 0.0))


def stop(case: Clocked, calendar: WorkCalendar, now: dt.datetime) -> None:
    """Hold or resolution: bank the time used and stop. ``due_at`` keeps the deadline as it stood, so a
    resolved or closed case still says by when it was due (a held one's moves again when it resumes)."""
    if case.clock_started_at is not None:
        case.used_seconds += _elapsed(case, calendar, case.clock_started_at, now)
    case.clock_started_at = None


def clear(case: Clocked) -> None:
    """No deadline any more (a return to the dispatchers: the next dispatch starts a fresh clock)."""
    case.due_at = case.yellow_at = None


def extend(case: Clocked, calendar: WorkCalendar, hours: int, now: dt.datetime) -> None:
    """An approved extension (延期) adds ``hours`` of the limit's kind of time."""
    case.limit_seconds = (case.limit_seconds or 0.0) + hours * 3600.0
    if case.clock_started_at is not None:
        banked = case.used_seconds + _elapsed(case, calendar, case.clock_started_at, now)
        case.due_at = _due(case, calendar, now, case.limit_seconds - banked)
        case.yellow_at = (
            _due(case, calendar, now, 0.8 * case.limit_seconds - banked)
            if banked < 0.8 * case.limit_seconds
            else now
        )


def used_fraction(case: Clocked, calendar: WorkCalendar, now: dt.datetime) -> float | None:
    if not case.limit_seconds:
        return None
    used = case.used_seconds
    if case.clock_started_at is not None:
        used += _elapsed(case, calendar, case.clock_started_at, now)
    return used / case.limit_seconds


def case_light(case: Lit, calendar: WorkCalendar, now: dt.datetime) -> str | None:
    """green/yellow/red while the clock runs, ``paused`` while the case is held (挂账: its clock is stopped),
    None before dispatch and once resolved.

    While it runs the light follows the stored instants (``yellow_at``: 80 % used, ``due_at``), the
    same ones the list filters on (app.cases.queries), so what a list shows and what it filters never
    disagree.
    """
    if case.status == "on_hold":
        return "paused"
    if case.clock_started_at is not None and case.due_at is not None and case.yellow_at is not None:
        if now > case.due_at:
            return "red"
        return "yellow" if now >= case.yellow_at else "green"
    return None
