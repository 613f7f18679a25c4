"""A case's deadline clock across weekends, holidays, make-up workdays, holds and extensions (fixed instants)."""

from app.cases.models import Case
from app.deadlines import clock
from app.deadlines.calendar import WorkCalendar
from tests.support.beijing import at

CAL = WorkCalendar()


def case(limit: int, unit: str) -> Case:
    return Case(time_limit=limit, time_unit=unit, used_seconds=0.0, status="dispatched")


def test_dispatch_friday_afternoon_due_after_the_weekend() -> None:
    c = case(4, "working_hours")
    clock.start(c, CAL, at(2026, 11, 27, 16, 0))  # Friday 16:00, 2 h left that day
    assert c.due_at == at(2026, 11, 30, 10, 30)  # Monday
    assert (
        clock.case_light(c, CAL, at(2026, 11, 28, 12, 0)) == "green"
    )  # Saturday: the clock does not run (50 %)
    assert clock.case_light(c, CAL, at(2026, 11, 30, 10, 0)) == "yellow"  # 3.5 of 4 h
    assert clock.case_light(c, CAL, at(2026, 11, 30, 10, 31)) == "red"


def test_a_hold_over_national_day_keeps_the_time_that_was_left() -> None:
    c = case(1, "working_days")  # 7 working hours
    clock.start(c, CAL, at(2026, 9, 29, 8, 30))  # Tuesday
    c.status = "on_hold"
    due = c.due_at
    clock.stop(c, CAL, at(2026, 9, 29, 12, 0))  # 3.5 h used, then held
    assert c.used_seconds == 3.5 * 3600 and c.clock_started_at is None
    assert c.due_at == due  # the deadline as it stood stays visible while held
    assert clock.case_light(c, CAL, at(2026, 10, 20, 9, 0)) == "paused"  # held: no time passes
    assert clock.used_fraction(c, CAL, at(2026, 10, 20, 9, 0)) == 0.5
    c.status = "dispatched"
    clock.restart(c, CAL, at(2026, 9, 30, 17, 0))  # resumed the day before the holiday
    # 1 h on Sep 30, then Oct 1-7 are holidays: the remaining 2.5 h run on Thursday Oct 8
    assert c.due_at == at(2026, 10, 8, 11, 0)


def test_make_up_workday_counts_and_an_extension_adds_hours() -> None:
    c = case(2, "working_hours")
    clock.start(c, CAL, at(2026, 10, 9, 17, 0))  # Friday; Saturday Oct 10 is a make-up workday
    assert c.due_at == at(2026, 10, 10, 9, 30)
    clock.extend(c, CAL, 3, at(2026, 10, 10, 9, 0))
    assert c.due_at == at(2026, 10, 10, 15, 0)  # 1.5 h used; 3.5 h left from 09:00, over the lunch break


def test_natural_hours_ignore_the_calendar() -> None:
    c = case(1, "natural_hours")  # a veto item
    clock.start(c, CAL, at(2026, 10, 1, 23, 30))  # a holiday night
    assert c.due_at == at(2026, 10, 2, 0, 30)
