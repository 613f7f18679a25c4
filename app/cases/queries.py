"""Conditions on :class:`Case` that several use cases share: states, and the traffic light at an instant.

The light is read from the stored instants: while the clock runs, green is before ``yellow_at`` (80 %
of the limit used), yellow up to ``due_at``, red after it; a held case's clock is stopped, its light
``paused`` (docs/domain.md "Deadlines and the traffic light").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Literal

from sqlalchemy import ColumnElement, and_, literal_column

from app.cases.models import OPEN_STATUSES, Case, Status

Light = Literal["green", "yellow", "red", "paused"]


def statuses_in(statuses: Iterable[Status]) -> ColumnElement[bool]:
    """``status IN (...)`` with the values written into the SQL (a closed enum, so safe), so that the
    planner can prove the open cases' partial index applies even in a prepared statement."""
    return Case.status.in_(
        [literal_column(f"'{s.value}'") for s in sorted(set(statuses), key=list(Status).index)]
    )


OPEN = statuses_in(OPEN_STATUSES)


def light_condition(light: Light, now: dt.datetime) -> ColumnElement[bool]:
    """Cases whose traffic light is ``light`` at ``now`` (docs/domain.md: 80 % and 100 % of the limit).

    Only open cases have a light; saying so lets PostgreSQL read the open cases' index."""
    return and_(OPEN, light_is(light, now))


def light_is(light: Light, now: dt.datetime) -> ColumnElement[bool]:
    """The light's condition without the open-state guard (app.deadlines.clock.case_light in SQL): while
    the clock runs, green before ``yellow_at``, yellow up to ``due_at``, red after; ``paused`` on hold."""
    if light == "paused":
        return Case.status == Status.on_hold.value
    running = and_(Case.clock_started_at.is_not(None), Case.status != Status.on_hold.value)
    if light == "red":
        return and_(running, Case.due_at < now)
    if light == "yellow":
        return and_(running, Case.yellow_at <= now, Case.due_at >= now)
    return and_(running, Case.yellow_at > now)
