"""Working time: deadlines counted in working hours/days on a calendar, or in natural hours.

A pure module of instants. The calendar is the city's: its time zone (default Asia/Shanghai), its
daily working periods (default 08:30-12:00 and 14:30-18:00, 7 hours), and which dates are working
days. Dates come from the State Council's yearly arrangement of public holidays and make-up
workdays (调休), as carried by the ``chinese-calendar`` package; a year it does not know is counted
on weekends only, and :meth:`WorkCalendar.knows` says so.

A limit of N working days is N times the working hours of a day: a case dispatched on Monday at
10:00 with one working day is due on Tuesday at 10:00.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

DEFAULT_PERIODS = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(14, 30), dt.time(18, 0)))


@functools.lru_cache(
    maxsize=8192
)  # chinese-calendar validates every date on every call (~60 µs); days repeat
def _official_workday(day: dt.date) -> bool | None:
    """True/False from the official arrangement, None for a year the package does not carry."""
    import chinese_calendar

    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        return None


@dataclass
class WorkCalendar:
    tz: dt.tzinfo = field(default_factory=lambda: ZoneInfo("Asia/Shanghai"))
    periods: Sequence[tuple[dt.time, dt.time]] = DEFAULT_PERIODS
    overrides: dict[dt.date, bool] = field(default_factory=dict)  # admin-loaded: date -> is a working day
    official: Callable[[dt.date], bool | None] = _official_workday

    @property
    def seconds_per_day(self) -> float:
        return sum(
            (dt.datetime.combine(dt.date.min, b) - dt.datetime.combine(dt.date.min, a)).total_seconds()
            for a, b in self.periods
        )

    def knows(self, day: dt.date) -> bool:
        """Whether ``day``'s status comes from published data (else: weekends only)."""
        return day in self.overrides or self.official(day) is not None

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        official = self.official(day)
        return official if official is not None else day.weekday() < 5

    def _day_periods(self, day: dt.date) -> list[tuple[dt.datetime, dt.datetime]]:
        if not self.is_workday(day):
            return []
        return [
            (dt.datetime.combine(day, a, self.tz), dt.datetime.combine(day, b, self.tz))
            for a, b in self.periods
        ]

    def add_working_seconds(self, start: dt.datetime, seconds: float) -> dt.datetime:
        """The instant after ``seconds`` of working time from ``start`` (aware); UTC out."""
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        remaining = float(seconds)
        local = start.astimezone(self.tz)
        day = local.date()
        for _ in range(3 * 366 + int(seconds // max(self.seconds_per_day, 1)) * 2 + 10):
            for begin, end in self._day_periods(day):
                if end <= local:
                    continue
                begin = max(begin, local)
                available = (end - begin).total_seconds()
                if remaining <= available:
                    return (begin + dt.timedelta(seconds=remaining)).astimezone(dt.UTC)
                remaining -= available
            day += dt.timedelta(days=1)
            local = dt.datetime.combine(day, dt.time(0), self.tz)
        raise ValueError("no working time found within the search horizon (is every day a holiday?)")

    def working_seconds_between(self, start: dt.datetime, end: dt.datetime) -> float:
        """Working time between two aware instants (0 when ``end`` <= ``start``)."""
        if end <= start:
            return 0.0
        total = 0.0
        a, b = start.astimezone(self.tz), end.astimezone(self.tz)
        day = a.date()
        while day <= b.date():
            for begin, finish in self._day_periods(day):
                lo, hi = max(begin, a), min(finish, b)
                if hi > lo:
                    total += (hi - lo).total_seconds()
            day += dt.timedelta(days=1)
        return total


def limit_seconds(calendar: WorkCalendar, time_limit: int, time_unit: str) -> float:
    """A category's limit in seconds of its own kind of time (working or natural)."""
    if time_unit == "working_days":
        return time_limit * calendar.seconds_per_day
    return time_limit * 3600.0


def light(fraction: float) -> str:
    """Traffic light (docs/domain.md): green below 80 % used, yellow from 80 % to 100 %, red when overdue."""
    if fraction > 1.0:
        return "red"
    return "yellow" if fraction >= 0.8 else "green"
