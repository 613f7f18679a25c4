"""Deadlines on the working-time calendar, at fixed instants (never now())."""

import datetime as dt

import pytest

from app.cases.models import Case
from app.deadlines import clock
from app.deadlines.calendar import WorkCalendar, light
from tests.support.beijing import at

CAL = WorkCalendar()


def started(start: dt.datetime, limit: int, unit: str) -> Case:
    """A case whose deadline clock started at ``start`` (the clock is where deadlines are computed)."""
    case = Case(time_limit=limit, time_unit=unit, used_seconds=0.0, status="dispatched")
    clock.start(case, CAL, start)
    return case


def due_at(start: dt.datetime, limit: int, unit: str) -> dt.datetime:
    return started(start, limit, unit).due_at


def used_fraction(start: dt.datetime, now: dt.datetime, limit: int, unit: str) -> float:
    return clock.used_fraction(started(start, limit, unit), CAL, now)


@pytest.mark.parametrize(
    ("start", "limit", "unit", "due"),
    [
        (at(2026, 11, 30, 10, 0), 1, "working_days", at(2026, 12, 1, 10, 0)),  # Mon -> Tue, same time
        (at(2026, 11, 30, 12, 47), 4, "working_hours", at(2026, 12, 1, 9, 0)),  # lunch break, then overnight
        (
            at(2026, 11, 27, 17, 0),
            2,
            "working_hours",
            at(2026, 11, 30, 9, 30),
        ),  # Friday -> across the weekend
        (at(2026, 11, 28, 9, 0), 1, "working_hours", at(2026, 11, 30, 9, 30)),  # filed on a Saturday
        (
            at(2026, 9, 30, 17, 0),
            2,
            "working_hours",
            at(2026, 10, 8, 9, 30),
        ),  # National Day holiday (Oct 1-7)
        (
            at(2026, 9, 18, 17, 30),
            1,
            "working_hours",
            at(2026, 9, 20, 9, 0),
        ),  # Fri -> Sun Sep 20, a make-up workday
        (at(2026, 10, 9, 17, 30), 1, "working_hours", at(2026, 10, 10, 9, 0)),  # and so is Saturday Oct 10
        (
            at(2026, 9, 30, 17, 0),
            2,
            "natural_hours",
            at(2026, 9, 30, 19, 0),
        ),  # veto items: the clock never stops
    ],
)
def test_due_at(start: dt.datetime, limit: int, unit: str, due: dt.datetime) -> None:
    assert due_at(start, limit, unit) == due


def test_used_fraction_and_light() -> None:
    start = at(2026, 11, 30, 8, 30)  # Monday; 1 working day = 7 working hours
    assert used_fraction(start, at(2026, 11, 30, 12, 0), 1, "working_days") == pytest.approx(0.5)
    assert used_fraction(start, at(2026, 11, 30, 14, 0), 1, "working_days") == pytest.approx(0.5)  # lunch
    assert (
        light(0.5) == "green" and light(0.8) == "yellow" and light(1.0) == "yellow" and light(1.01) == "red"
    )
    assert light(used_fraction(start, at(2026, 12, 1, 9, 0), 1, "working_days")) == "red"


def test_years_without_published_data_count_weekends_only_and_say_so() -> None:
    assert CAL.knows(dt.date(2026, 10, 1)) and not CAL.knows(dt.date(2031, 10, 1))
    assert CAL.is_workday(dt.date(2031, 10, 1)) is True  # a Wednesday: no holiday data yet
    loaded = WorkCalendar(overrides={dt.date(2031, 10, 1): False})
    assert not loaded.is_workday(dt.date(2031, 10, 1)) and loaded.knows(dt.date(2031, 10, 1))


def test_naive_start_is_refused() -> None:
    with pytest.raises(ValueError):
        CAL.add_working_seconds(dt.datetime(2026, 11, 30, 10), 60)
